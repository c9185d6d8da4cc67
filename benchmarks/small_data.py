"""The paper's DCGAN (batch norm in D) against chapter 8's additions on the 450 digits, longer than chapter 8 can.

Chapter 8 compares the additions at equal CPU time for 1,000 plain-DCGAN steps. The published gains of
DiffAugment appear when a discriminator overfits over a long run; this script trains each arm for ``--steps``
generator steps on 45 digits per class (`cpu` profile, seed 0) and every ``--every`` steps scores 2,000 EMA
samples: FID on the course classifier's features against the 4,500 training digits and against the 500 held-out
ones (which none of the 450 is), and the classes drawn (at least 2 % of the samples). Its training time is printed
beside each row.

    python benchmarks/small_data.py [--arms dcgan diffaugment sn+hinge] [--steps 10000] [--every 1000] [--threads 1]
"""
from __future__ import annotations

import argparse
import os
import time

import torch

from gancourse.metrics.classifier import extract_features
from gancourse.metrics.frechet import feature_stats, frechet_distance, reference_stats
from gancourse.recipes import dcgan_variant


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arms", nargs="+", default=["dcgan", "diffaugment"],
                        help="'dcgan' for the paper's DCGAN (batch norm in D; the dcgan recipe "
                             "is 'r1' on a CPU), else additions such as 'sn+hinge'")
    parser.add_argument("--steps", type=int, default=10000)
    parser.add_argument("--every", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    refs = {"train": reference_stats("train"), "held out": reference_stats("test")}
    print(f"torch {torch.__version__}, {args.threads} threads, load average {os.getloadavg()[0]:.2f}")
    print(f"{'arm':<16} {'step':>6} {'train s':>8} {'FID (train)':>12} {'FID (held out)':>15} {'classes':>8}")
    for arm in args.arms:
        trainer = dcgan_variant(() if arm == "dcgan" else arm, "cpu", per_class=45, progress=False, device="cpu")
        seconds = 0.0
        for step in range(args.every, args.steps + 1, args.every):
            start = time.perf_counter()
            trainer.fit(step)
            seconds += time.perf_counter() - start
            x = trainer.sample(2000, seed=1)
            stats = feature_stats(extract_features(x))
            fids = [frechet_distance(r.mu, r.sigma, stats.mu, stats.sigma) for r in refs.values()]
            share = extract_features(x, logits=True).argmax(1).bincount(minlength=10).float() / len(x)
            print(f"{arm:<16} {step:>6} {seconds:>8.0f} {fids[0]:>12.3f} {fids[1]:>15.3f} {int((share >= 0.02).sum()):>8}",
                  flush=True)
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
