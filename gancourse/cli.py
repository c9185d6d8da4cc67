"""The `gancourse` command line: train, sample, run.

    gancourse train MODEL --profile P --out DIR [--steps N] [--seed S] [--resume] [--checkpoint-every N] [--data IMAGES_DIR]
    gancourse sample DIR --n N --out FILE.npz [--seed S] [--label K]
    gancourse run [NOTEBOOK ...] [--profile P]
    gancourse grade SUBMISSIONS_DIR --out scores.csv [--exercise ex01] [--timeout S] [--jobs N]
    gancourse evaluate FILE.npz

Mistakes end with one line on stderr (``gancourse: error: …``) and exit code 2;
nothing already saved is overwritten by a failed command.
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import sys
from pathlib import Path
from typing import Sequence

import numpy as np

from .checks import CheckpointError, GanCourseError, TrainingDiverged, check_images
from .profiles import CHOICES, resolve_profile

RUN_FILE = "run.json"


def _write_json(path: Path, obj: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2) + "\n")
    os.replace(tmp, path)


def read_run(folder: str | Path) -> dict:
    """The ``run.json`` of a training folder (model, profile, seed, steps)."""
    path = Path(folder) / RUN_FILE
    if not Path(folder).is_dir():
        raise GanCourseError(f"{folder} does not exist; train a model into it first with `gancourse train MODEL --out {folder}`")
    try:
        run = json.loads(path.read_text())
        run["model"], run["profile"]
    except FileNotFoundError:
        raise GanCourseError(f"{folder} is not a gancourse run (no {RUN_FILE}); train into it with `gancourse train`") from None
    except (ValueError, KeyError, TypeError):
        raise CheckpointError(f"{path} is damaged; it should name the model and profile of the run") from None
    return run


def train_command(model: str, out: str | Path, *, profile: str | None = None, steps: int | None = None,
                  seed: int | None = None, data: str | None = None, per_class: int | None = None,
                  resume: bool = False) -> str:
    """A `gancourse train` command line, quoted so that it can be pasted into a shell."""
    words = ["gancourse", "train", model]
    for flag, value in (("--profile", profile), ("--steps", steps), ("--seed", seed), ("--data", data),
                        ("--per-class", per_class)):
        if value is not None:
            words += [flag, str(value)]
    return shlex.join(words + ["--out", str(out)] + (["--resume"] if resume else []))


def _resume_command(out: Path, steps: int | None = None) -> str:
    """The command that continues the run in ``out`` (its model, profile and target steps; run.json has the rest)."""
    run = read_run(out)
    return train_command(run["model"], out, profile=run["profile"], steps=steps or run.get("steps"), resume=True)


def cmd_train(args: argparse.Namespace) -> int:
    """Train a new run, or --resume one; SIGINT and SIGTERM save the step reached and say how to continue."""
    from .trainer import TrainingInterrupted

    def stop(signum: int, frame) -> None:  # outside fit (loading data, the preview) SIGTERM stops like Ctrl-C
        raise TrainingInterrupted(signum)

    out = Path(args.out)
    previous = signal.signal(signal.SIGTERM, stop)
    try:
        return _train(args, out)
    except KeyboardInterrupt as interrupt:
        print(_interrupted(interrupt, args, out), file=sys.stderr)
        return 128 + getattr(interrupt, "signum", signal.SIGINT)
    finally:
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


def _interrupted(interrupt: KeyboardInterrupt, args: argparse.Namespace, out: Path) -> str:
    """The one line that ends an interrupted `gancourse train`: where it stopped and the command that goes on."""
    name = signal.Signals(getattr(interrupt, "signum", signal.SIGINT)).name
    if not (out / RUN_FILE).is_file():
        start = train_command(args.model, out, profile=args.profile, steps=args.steps, seed=args.seed, data=args.data)
        return f"interrupted ({name}) before the run started; nothing was saved: start it with `{start}`"
    step, checkpoint = getattr(interrupt, "step", None), getattr(interrupt, "checkpoint", None)
    if checkpoint is not None:
        where = f" at step {step}, saved to {checkpoint}"
    elif (out / "checkpoint.pt").is_file():
        where = f"; {out} keeps its last complete checkpoint"
    else:
        where = "; the run has no checkpoint yet, and --resume starts it again from step 0"
    return f"interrupted ({name}){where}: continue with `{_resume_command(out)}`"


def _train(args: argparse.Namespace, out: Path) -> int:
    from .recipes import build_trainer, get_recipe
    from .trainer import StopSignals, TrainingInterrupted

    recipe = get_recipe(args.model)
    profile = resolve_profile(args.profile)
    for flag, value in (("--steps", args.steps), ("--checkpoint-every", args.checkpoint_every)):
        if value is not None and value < 1:
            raise GanCourseError(f"{flag} must be a positive number of generator steps")
    if (out / "checkpoint.pt").exists() and not (out / RUN_FILE).exists():
        raise GanCourseError(f"{out} holds a checkpoint.pt but no {RUN_FILE}, so its settings are unknown; choose a new --out")
    if args.resume:
        if not (out / RUN_FILE).exists():
            start = train_command(args.model, out, profile=profile, steps=args.steps, seed=args.seed, data=args.data,
                                  per_class=args.per_class)
            raise GanCourseError(f"nothing to resume in {out}; start the run with `{start}`")
        run = read_run(out)
        asked = {"model": args.model, "profile": run["profile"] if args.profile == "auto" else profile,
                 "seed": run["seed"] if args.seed is None else args.seed}
        wrong = [f"{key} {run[key]!r}, not {value!r}" for key, value in asked.items() if value != run[key]]
        if wrong:
            raise GanCourseError(f"{out} holds a run with {', '.join(wrong)}; continue it with `{_resume_command(out)}`")
        profile, seed = run["profile"], run["seed"]
        if args.per_class is not None and args.per_class != run.get("per_class"):
            raise GanCourseError(f"{out} holds a run on {run.get('per_class') or 'all'} digits per class, not "
                                 f"{args.per_class}; continue it with `{_resume_command(out)}`")
        per_class = run.get("per_class")
        data_dir = str(Path(args.data).resolve()) if args.data else run.get("data")  # --data: the images have moved
        steps = args.steps or run.get("steps") or recipe.steps[profile]
    else:
        if (out / RUN_FILE).exists():
            raise GanCourseError(f"{out} already holds a run; continue it with `{_resume_command(out)}`, or choose a new --out")
        seed = 0 if args.seed is None else args.seed
        data_dir = str(Path(args.data).resolve()) if args.data else None  # a resume may start from another folder
        steps = args.steps or recipe.steps[profile]
        per_class = args.per_class
    data = _own_images(args.model, data_dir) if data_dir else None
    checkpoint_every = args.checkpoint_every or max(50, steps // 10)
    trainer = build_trainer(args.model, profile, seed=seed, out_dir=out, checkpoint_every=checkpoint_every,
                            progress=not args.quiet, data=data, per_class=per_class)
    if args.resume:
        if trainer.checkpoint_path.exists():
            trainer.resume()
        else:
            print(f"{out} has no checkpoint yet (it stopped before its first): training it from step 0 with its saved "
                  f"settings: {args.model}, profile {profile!r}, seed {seed}" + (f", data {data_dir}" if data_dir else ""))
        if steps <= trainer.step:
            if not (out / "samples.png").exists():
                _save_preview(trainer, out / "samples.png")
            print(f"{out} is already at step {trainer.step} (asked for {steps}); nothing to do. To train on, pass a "
                  f"larger --steps: `{_resume_command(out, steps=2 * trainer.step)}`")
            return 0
        updated = {**run, "steps": steps, **({"data": data_dir} if data_dir else {})}
        if updated != run:
            _write_json(out / RUN_FILE, updated)  # what a later --resume continues with
    else:
        out.mkdir(parents=True, exist_ok=True)
        own = {"data": data_dir, "channels": int(data.shape[1])} if data is not None else {}
        subset = {"per_class": per_class} if per_class is not None else {}
        _write_json(out / RUN_FILE, {"model": args.model, "profile": profile, "seed": seed, "steps": steps, **own, **subset})
    with StopSignals() as stop:  # from the line a user (or a test) sees on, every signal ends in a saved step
        print(f"training {args.model} ({recipe.description}) with profile {profile!r} on {trainer.device} "
              f"from step {trainer.step} to {steps}", flush=True)
        trainer.fit(steps)  # a signal raises TrainingInterrupted after saving the step reached
    if stop.signum is not None:  # it came after fit's last look: the run is complete and saved
        raise TrainingInterrupted(stop.signum, trainer.step, trainer.checkpoint_path)
    _save_preview(trainer, out / "samples.png")
    print(f"done: {trainer.step} steps in {trainer.history['wall_time'][-1]:.0f} s "
          f"({trainer.steps_per_second():.1f} steps/s); checkpoint {trainer.checkpoint_path}; preview {out / 'samples.png'}")
    return 0


def _own_images(model: str, folder: str):
    """The images of ``--data FOLDER`` at the size ``model`` trains on (32x32 RGB for progan)."""
    from .data import load_image_folder
    from .recipes import RECIPES

    if not RECIPES[model].own_data:
        own = ", ".join(name for name, r in RECIPES.items() if r.own_data)
        raise GanCourseError(f"--data: {model!r} trains on MNIST only; a folder of your own images works with: {own}")
    images = load_image_folder(folder, size=32, channels=3)
    print(f"training on {len(images):,} images from {folder} (32x32, RGB)")
    return images


def _save_preview(trainer, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from .plotting import show_images

    images = trainer.sample(64, seed=0).cpu()
    if images.dim() != 4:
        return
    ax = show_images(images, nrow=8, title=f"{trainer.meta.get('model')} after {trainer.step} steps")
    tmp = path.with_name(path.name + ".tmp")
    ax.figure.savefig(tmp, format="png", dpi=100, bbox_inches="tight")
    plt.close(ax.figure)
    os.replace(tmp, path)  # a kill mid-write leaves the previous preview, not half of one


def load_generator(folder: str | Path):
    """The sampling generator (its EMA when kept) of a training folder, in eval mode on the CPU."""
    from .checkpoint import load_checkpoint
    from .recipes import get_recipe

    run = read_run(folder)
    own = {"channels": run["channels"]} if "channels" in run else {}  # a run on one's own images (--data)
    g, _ = get_recipe(run["model"]).models(run["profile"], **own)
    state = load_checkpoint(Path(folder) / "checkpoint.pt")
    weights = state.get("ema") or state.get("generator")
    try:
        g.load_state_dict(weights)
    except Exception as err:
        raise CheckpointError(f"{folder}/checkpoint.pt does not fit a {run['model']!r} generator ({type(err).__name__})") from None
    return g.eval()


def cmd_sample(args: argparse.Namespace) -> int:
    import torch

    from .sampling import generate

    out = Path(args.out)
    if out.suffix != ".npz":
        raise GanCourseError(f"--out must name a .npz file, got {out}")
    if out.exists() and not args.force:
        raise GanCourseError(f"{out} exists; pass --force to replace it")
    if args.n < 1:
        raise GanCourseError("--n must be at least 1")
    g = load_generator(args.dir)
    num_classes = getattr(g, "num_classes", None)
    labels = None
    if num_classes:
        if args.label is not None:
            if not 0 <= args.label < num_classes:
                raise GanCourseError(f"--label must be in 0..{num_classes - 1}")
            labels = torch.full((args.n,), args.label, dtype=torch.long)
        else:
            labels = torch.randperm(args.n, generator=torch.Generator().manual_seed(args.seed)) % num_classes
    elif args.label is not None:
        raise GanCourseError("--label needs a conditional model (cgan)")
    images = generate(g, args.n, labels=labels, seed=args.seed).float().cpu()
    images = check_images(images, name="generated images").clamp(-1, 1)
    arrays = {"images": images.numpy().astype(np.float32)}
    if labels is not None:
        arrays["labels"] = labels.numpy().astype(np.int64)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.stem + ".tmp.npz")
    np.savez_compressed(tmp, **arrays)
    os.replace(tmp, out)
    print(f"wrote {args.n} samples {tuple(images.shape[1:])} to {out}")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    import torch

    from .data import load_mnist
    from .metrics import evaluate_images, format_table, to_classifier_size

    path = Path(args.file)
    if not path.is_file():
        raise GanCourseError(f"{path} does not exist; write samples with `gancourse sample DIR --out {path.name}`")
    try:
        with np.load(path) as f:
            images = f["images"]
    except Exception as err:
        raise GanCourseError(f"{path} is not a sample file with an 'images' array ({type(err).__name__})") from None
    images = torch.from_numpy(np.asarray(images, dtype=np.float32))
    if images.dim() == 4 and tuple(images.shape[1:]) == (1, 32, 32):  # ProGAN's padded digits: crop the border back off
        images = to_classifier_size(images)
    images = check_images(images, name=f"{path.name} images", channels=1, size=28)
    held_out = load_mnist("test", verbose=False)
    print(f"{len(images):,} samples from {path} against the MNIST reference "
          f"({len(load_mnist('train', verbose=False).labels):,} training digits, {held_out.source})")
    columns = {path.name: evaluate_images(images), "held-out real": evaluate_images(held_out.images)}
    print(format_table(columns))
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from .runner import run_course

    runs = run_course(args.notebooks, args.profile, args.out, args.folder, store=args.store, record_times=args.record_times)
    return 0 if all(r.status == "ok" for r in runs) else 1


def cmd_grade(args: argparse.Namespace) -> int:
    from .grading.grader import MASTERS, grade_folder

    grade_folder(args.submissions, args.out, exercise=args.exercise, masters=args.masters or MASTERS,
                 timeout=args.timeout, feedback=args.feedback, sandbox=not args.no_sandbox, jobs=args.jobs)
    return 0


def build_parser() -> argparse.ArgumentParser:
    from .recipes import RECIPES

    parser = argparse.ArgumentParser(prog="gancourse", description="Train, sample and run the GAN course.")
    sub = parser.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train a model into a folder")
    t.add_argument("model", help=f"one of: {', '.join(RECIPES)}")
    t.add_argument("--profile", default="auto", help=f"one of: {', '.join(CHOICES)} (default auto)")
    t.add_argument("--out", required=True, help="folder for run.json, checkpoint.pt and samples.png")
    t.add_argument("--steps", type=int, help="total generator steps (default: the profile's)")
    t.add_argument("--seed", type=int, help="default 0 (a resumed run keeps its own)")
    t.add_argument("--resume", action="store_true",
                   help="continue the run in --out from its last checkpoint (from step 0 if it has none yet) up to --steps "
                        "(default: the run's own)")
    t.add_argument("--checkpoint-every", type=int, metavar="STEPS",
                   help="steps between checkpoints (default: a tenth of the run, at least 50); Ctrl-C and SIGTERM also save")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    t.add_argument("--data", help="progan: a folder of your own .png/.jpg images to train on (32x32 RGB; meant for a GPU)")
    t.add_argument("--per-class", type=int, metavar="N",
                   help="train on the first N MNIST digits of each class only (45: chapter 8's 450-digit set)")
    t.set_defaults(func=cmd_train)

    s = sub.add_parser("sample", help="write samples of a trained model to a .npz file")
    s.add_argument("dir", help="a folder made by `gancourse train`")
    s.add_argument("--n", type=int, default=1000)
    s.add_argument("--out", required=True, help="FILE.npz: images float32 (N, C, H, W) in [-1, 1] (and labels)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--label", type=int, help="conditional models: only this class")
    s.add_argument("--force", action="store_true", help="replace an existing FILE.npz")
    s.set_defaults(func=cmd_sample)

    r = sub.add_parser("run", help="execute chapter notebooks headlessly and print a table")
    r.add_argument("notebooks", nargs="*", help="notebook paths or names (default: all chapters)")
    r.add_argument("--profile", default="auto", help=f"one of: {', '.join(CHOICES)}")
    r.add_argument("--out", default="build", help="folder for the executed copies")
    r.add_argument("--folder", default="notebooks", help="where the chapters are")
    r.add_argument("--store", action="store_true", help="maintainers: write the outputs back into the chapters")
    r.add_argument("--record-times", action="store_true",
                   help="maintainers: keep each clean run's time in its chapter (for the time-left estimates); outputs untouched")
    r.set_defaults(func=cmd_run)

    e = sub.add_parser("evaluate", help="print FID, KID, IS, precision/recall … of a sample file against MNIST")
    e.add_argument("file", help="FILE.npz written by `gancourse sample` (images float32 (N, 1, 28, 28) or ProGAN's "
                                "(N, 1, 32, 32) in [-1, 1])")
    e.set_defaults(func=cmd_evaluate)

    g = sub.add_parser("grade", help="instructors: grade a folder of submitted exercise notebooks into a CSV")
    g.add_argument("submissions", help="a folder of .ipynb files, one per student (the file name names the student)")
    g.add_argument("--out", default="scores.csv", help="the score table: one row per student, one column per question")
    g.add_argument("--exercise", help="ex01, ex02, ... (default: read from the notebooks' metadata)")
    g.add_argument("--timeout", type=float, default=120.0, help="seconds per notebook (default 120)")
    g.add_argument("--feedback", help="folder for one feedback file per student (default: next to --out)")
    g.add_argument("--masters", help="folder of the master notebooks (default: instructor/ of the course)")
    g.add_argument("--jobs", type=int, default=1, help="notebooks graded at a time (default 1)")
    g.add_argument("--no-sandbox-i-trust-these-submissions", dest="no_sandbox", action="store_true",
                   help="grade without the bubblewrap sandbox: a submission can then read the masters, keep "
                        "processes running and use all memory (the score table says 'none')")
    g.set_defaults(func=cmd_grade)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (GanCourseError, TrainingDiverged) as err:
        print(f"gancourse: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
