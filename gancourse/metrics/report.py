"""One table of every metric for a set of generated digits (what `gancourse evaluate` prints)."""
from __future__ import annotations

import torch

from ..checks import check_images
from ..data import load_mnist
from .classifier import extract_features
from .frechet import feature_stats, frechet_distance, reference_features, reference_stats
from .inception import inception_score_from_probs
from .kid import kid_from_features
from .neighbours import knn
from .precision_recall import precision_recall_from_features
from .two_sample import two_sample_test_points

ROWS = ("n", "FID", "KID", "KID std", "IS", "IS std", "precision", "recall", "C2ST accuracy", "NN distance")
NOTES = {
    "FID": "lower is better; biased up at small n",
    "KID": "unbiased; ~0 for real digits",
    "IS": "classifier IS, 1..10",
    "precision": "share of samples on the real manifold",
    "recall": "share of real digits the samples cover",
    "C2ST accuracy": "0.5 = indistinguishable from real",
    "NN distance": "median pixel distance to a training digit",
}


@torch.no_grad()
def evaluate_images(images: torch.Tensor, reference: torch.Tensor | None = None) -> dict[str, float]:
    """Every metric of images (N, 1, 28, 28) in [-1, 1] against the MNIST training digits (or ``reference``)."""
    x = check_images(images, channels=1, size=28).float().cpu()
    ref = load_mnist("train", verbose=False).images if reference is None else check_images(reference, name="reference", channels=1, size=28)
    fx = extract_features(x)
    fr = reference_features("train") if reference is None else extract_features(ref)
    st = reference_stats("train") if reference is None else feature_stats(fr)
    gen = feature_stats(fx)
    kid = kid_from_features(fr, fx, subsets=20, subset_size=1000)
    probs = extract_features(x, logits=True).softmax(1)
    probs = probs[torch.randperm(len(probs), generator=torch.Generator().manual_seed(0))]  # parts must mix classes
    inc = inception_score_from_probs(probs, splits=min(10, len(x)))
    pr = precision_recall_from_features(fr, fx, k=3) if len(x) > 3 else (float("nan"), float("nan"))
    c2st = two_sample_test_points(fr, fx) if len(x) >= 4 else None
    nn_dist = knn(x.flatten(1), ref.flatten(1)).distances[:, 0].median()
    return {
        "n": len(x), "FID": frechet_distance(st.mu, st.sigma, gen.mu, gen.sigma), "KID": kid.mean, "KID std": kid.std,
        "IS": inc.mean, "IS std": inc.std, "precision": pr[0], "recall": pr[1],
        "C2ST accuracy": c2st.accuracy if c2st else float("nan"), "NN distance": float(nn_dist),
    }


def format_table(columns: dict[str, dict[str, float]]) -> str:
    """A plain-text table: one row per metric, one column per evaluated set, and a note."""
    names = list(columns)
    width = max(14, *(len(n) + 2 for n in names))
    lines = [f"{'metric':<14}" + "".join(f"{n:>{width}}" for n in names) + "   note"]
    for row in ROWS:
        cells = "".join(
            f"{int(columns[n][row]):>{width},}" if row == "n" else f"{columns[n][row]:>{width}.4g}" for n in names
        )
        lines.append(f"{row:<14}{cells}   {NOTES.get(row, '')}")
    return "\n".join(lines)
