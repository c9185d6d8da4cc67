"""Quality and wall time of each model, trained as `gancourse train MODEL --profile P` trains it.

For every model: train from scratch (seed 0), time it, draw samples from the
sampling generator (the EMA when the recipe keeps one) and score them with the
package's offline metrics against the MNIST training digits:

  FID, KID        classifier features (lower is better; real held-out digits give the floor)
  precision/recall  k-NN manifolds (k = 3)
  classes         classes that get at least 5 % of the samples (by the shipped classifier)
  confident       share of samples the classifier reads with probability > 0.9
  cond. acc.      conditional models: share of samples the classifier reads as the asked label
  judge FID, stray  a second instrument (benchmarks/judge.py): FID in the features of a network the GANs never
                  trained against, and the share of inked pixels with no inked neighbour (background speckle)
  load            the load average when the model's training started (1-minute; 0 on a quiet machine)

    python benchmarks/quality.py                       # every model in the cpu profile (43 minutes on 2026-12-07, 52 on a slow 2026-12-03)
    python benchmarks/quality.py --models dcgan --steps 3000
    python benchmarks/quality.py --models progan       # 32x32 digits: cropped to 28x28 (undoes the padding)
    python benchmarks/quality.py --equal-time          # adds mlp trained for dcgan's wall time

The first row, "real (held-out)", scores held-out MNIST digits the same way.
"""
from __future__ import annotations

import argparse
import os
import time

import torch

from judge import judge_scores

from gancourse.data import load_mnist
from gancourse.metrics import classify, evaluate_images, to_classifier_size
from gancourse.profiles import resolve_profile
from gancourse.recipes import RECIPES, build_trainer, get_recipe
from gancourse.sampling import balanced_labels


def score(images: torch.Tensor, labels: torch.Tensor | None = None) -> dict[str, float]:
    images = to_classifier_size(images)  # ProGAN's 32x32 digits lose their 2-pixel padding
    m = evaluate_images(images)
    probs = classify(images)
    pred = probs.argmax(1)
    m["confident"] = float((probs.max(1).values > 0.9).float().mean())
    counts = torch.bincount(pred, minlength=10).float() / len(pred)
    m["classes"] = int((counts >= 0.05).sum())
    m["cond. acc."] = float((pred == labels).float().mean()) if labels is not None else float("nan")
    m.update(judge_scores(images))
    return m


def train_and_score(model: str, profile: str, steps: int | None, n: int, seed: int = 0) -> dict[str, float]:
    trainer = build_trainer(model, profile, seed=seed, progress=False)
    steps = steps or get_recipe(model).steps[profile]
    load = os.getloadavg()[0]
    start, cpu = time.perf_counter(), time.process_time()
    trainer.fit(steps)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    g = trainer.sampling_generator
    labels = balanced_labels(n, g.num_classes, trainer.device) if getattr(g, "num_classes", None) else None
    images = trainer.sample(n, labels=labels, seed=seed + 1).float().cpu()
    m = score(images, labels.cpu() if labels is not None else None)
    m.update(model=model, profile=profile, steps=steps, seconds=seconds, cpu_s=cpu, steps_per_s=steps / seconds, load=load)
    return m


COLUMNS = [("model", "{:<22}"), ("profile", "{:<8}"), ("steps", "{:>7}"), ("seconds", "{:>8.0f}"), ("cpu_s", "{:>6.0f}"), ("FID", "{:>8.2f}"),
           ("KID", "{:>8.4f}"), ("precision", "{:>10.3f}"), ("recall", "{:>7.3f}"), ("classes", "{:>8}"), ("confident", "{:>10.3f}"),
           ("cond. acc.", "{:>11.3f}"), ("judge FID", "{:>10.1f}"), ("stray ink", "{:>10.4f}"), ("load", "{:>5.1f}")]


def row(m: dict) -> str:
    cells = []
    for key, fmt in COLUMNS:
        v = m.get(key, "")
        cells.append(fmt.format(v) if v != "" else " " * len(fmt.format(0) if "f" in fmt else ""))
    return " ".join(cells)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=list(RECIPES))
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--steps", type=int, help="override the profile's steps (all models)")
    parser.add_argument("--n", type=int, default=5000, help="samples to score")
    parser.add_argument("--equal-time", action="store_true", help="also train mlp for as long as dcgan took")
    args = parser.parse_args()
    profile = resolve_profile(args.profile)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, profile {profile}, {args.n} samples per model; "
          f"load average at start {os.getloadavg()[0]:.1f} (seconds = wall, cpu_s = CPU time of all threads)")
    print(" ".join(f"{k:>{len(f.format(0)) if 'f' in f or '>' in f else 8}}" if k not in ("model", "profile") else f"{k:<{22 if k == 'model' else 8}}" for k, f in COLUMNS))
    held_out = load_mnist("test", verbose=False)
    real = score(held_out.images, held_out.labels)
    real.update(model="real (held-out)", profile="-", steps="", seconds="", cpu_s="", load="")
    print(row(real), flush=True)
    results = {}
    for model in args.models:
        results[model] = train_and_score(model, profile, args.steps, args.n)
        print(row(results[model]), flush=True)
    if args.equal_time and "dcgan" in results:
        mlp_rate = results["mlp"]["steps_per_s"] if "mlp" in results else None
        if mlp_rate is None:
            probe = build_trainer("mlp", profile, progress=False)
            t = time.perf_counter()
            probe.fit(200)
            mlp_rate = 200 / (time.perf_counter() - t)
        steps = int(mlp_rate * results["dcgan"]["seconds"])
        m = train_and_score("mlp", profile, steps, args.n)
        m["model"] = "mlp (dcgan's wall time)"
        print(row(m), flush=True)


if __name__ == "__main__":
    main()
