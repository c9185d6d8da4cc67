"""ProGAN training steps per second at each resolution: memory layout and OpenMP waiting.

A ProGAN step on a CPU is many small convolutions (16 images of 4x4 to 32x32, 16 to 64
channels), so fixed costs per operation dominate. Two settings move them:

  layout        the networks' 4-D weights channels-last (as gancourse.models.progan keeps them)
                or contiguous (PyTorch's default)
  OMP policy    OMP_WAIT_POLICY=PASSIVE (threads sleep between operations; the test suite sets it,
                and the Makefile did until 2026-11-30) or unset (OpenMP's default: they spin briefly)

Each combination runs in its own process (OpenMP reads the policy at start-up), trains the `cpu`
recipe's networks (seed 0, batch 16, the recipe's loss and penalty, Adam, EMA; since 2026-12-07 the non-saturating
loss with lazy R1, before it WGAN-GP with the drift term) in the stabilisation
phase of every level, and reports steps/s after a warm-up; the table gives the median of --repeats.

    python benchmarks/progan_speed.py [--steps 40] [--repeats 3]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

COMBINATIONS = [("contiguous", "PASSIVE"), ("channels_last", "PASSIVE"), ("contiguous", None), ("channels_last", None)]


def worker(layout: str, steps: int) -> list[float]:
    import torch

    from gancourse.data import load_mnist
    from gancourse.recipes import RECIPES

    data = load_mnist("train", size=32, verbose=False).images
    rates = []
    for level in range(4):
        g, d = RECIPES["progan"].models("cpu")
        if layout == "contiguous":
            g, d = g.to(memory_format=torch.contiguous_format), d.to(memory_format=torch.contiguous_format)
        trainer = RECIPES["progan"].trainer(g, d, "cpu", {"data": data, "seed": 0, "progress": False, "device": "cpu"})
        trainer.step = next(start for lv, kind, start, _ in trainer.schedule.phases if lv == level and kind == "stable")
        trainer.fit(trainer.step + 10)  # jumps to this level's stabilisation phase; warm-up (oneDNN picks its kernels)
        t = time.perf_counter()
        trainer.fit(trainer.step + steps)
        rates.append(steps / (time.perf_counter() - t))
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=40, help="timed steps per level")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--worker", choices=["contiguous", "channels_last"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.steps)))
        return
    from gancourse.recipes import PROGAN_SCHEDULES

    runs: dict[tuple, list[list[float]]] = {c: [] for c in COMBINATIONS}
    for _ in range(args.repeats):  # interleaved, so a change in the machine's load hits every combination
        for layout, policy in COMBINATIONS:
            env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
            if policy:
                env["OMP_WAIT_POLICY"] = policy
            out = subprocess.run([sys.executable, __file__, "--worker", layout, "--steps", str(args.steps)], env=env,
                                 check=True, capture_output=True, text=True).stdout
            runs[layout, policy].append(json.loads(out.strip().splitlines()[-1]))
    print(f"ProGAN `cpu` recipe networks, batch 16, steps/s (median of {args.repeats}); "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end")
    print(f"{'layout':<14} {'OMP_WAIT_POLICY':<16} {'4x4':>7} {'8x8':>7} {'16x16':>7} {'32x32':>7}   cpu recipe (s)")
    steps_per_level = [0] * 4
    for level, _, _, n in PROGAN_SCHEDULES["cpu"].phases:
        steps_per_level[level] += n
    for (layout, policy), reps in runs.items():
        rates = [statistics.median(r[level] for r in reps) for level in range(4)]
        estimate = sum(n / r for n, r in zip(steps_per_level, rates))  # fade-in steps cost a little more
        print(f"{layout:<14} {policy or 'unset':<16} " + " ".join(f"{r:7.1f}" for r in rates) + f"   ~{estimate:.0f}")


if __name__ == "__main__":
    main()
