"""Cost per generator step of each of chapter 8's additions to the DCGAN, against the plain DCGAN recipe.

Chapter 8 compares the additions at equal CPU time by giving each run `BUDGET / step_cost(additions)` steps,
with `gancourse.recipes.STEP_COST` holding the extra cost of each addition as a fraction of a plain step. This
script measures them: each variant (one addition at a time, then spectral norm with the hinge loss) trains on the
450-digit set in the `cpu` profile; runs alternate (plain, variant, plain, variant, ...) and the median of the
repeats is kept, so drifts in the machine's speed hit both alike.

    python benchmarks/step_cost.py [--steps 300] [--repeats 3] [--threads 2]
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

import torch

from gancourse.recipes import DCGAN_ADDITIONS, STEP_COST, dcgan_variant, step_cost


def seconds_per_step(additions: tuple[str, ...], steps: int) -> float:
    trainer = dcgan_variant(additions, "cpu", per_class=45, progress=False, device="cpu")
    trainer.fit(20)  # warm-up: allocations, first power iterations
    start = time.perf_counter()
    trainer.fit(20 + steps)
    return (time.perf_counter() - start) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    variants = [(a,) for a in DCGAN_ADDITIONS] + [("sn", "hinge")]
    print(f"torch {torch.__version__}, {args.threads} threads, OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', 'default')}, "
          f"{args.steps} steps x {args.repeats}, load average {os.getloadavg()[0]:.2f}")
    print(f"{'variant':<28} {'ms/step':>8} {'plain ms/step':>14} {'extra cost':>11} {'STEP_COST says':>15}")
    for additions in variants:
        plain, variant = [], []
        for _ in range(args.repeats):
            plain.append(seconds_per_step((), args.steps))
            variant.append(seconds_per_step(additions, args.steps))
        p, v = statistics.median(plain), statistics.median(variant)
        print(f"{'+'.join(additions):<28} {1e3 * v:>8.1f} {1e3 * p:>14.1f} {v / p - 1:>+11.2f} {step_cost(additions) - 1:>+15.2f}")
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
