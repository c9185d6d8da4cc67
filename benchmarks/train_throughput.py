"""Steps per second: the gancourse trainer against a plain tutorial loop.

Both train the same MLP GAN (chapter 2) with the same batch size, optimisers and
losses. The tutorial loop is the usual one: a shuffled DataLoader on the host, a
`.to(device)` per batch, a `.item()` per step for logging. The gancourse trainer
keeps the data on the device, draws batches there, and reads losses back once
every `log_every` steps. Runs alternate (A, B, A, B, …) and the median is kept.

    python benchmarks/train_throughput.py [--steps 400] [--repeats 3] [--device cpu]
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from gancourse import get_device
from gancourse.data import load_mnist
from gancourse.models import MLPDiscriminator, MLPGenerator
from gancourse.trainer import GANTrainer, adam

BATCH = 64


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def tutorial_loop(images: torch.Tensor, steps: int, device: torch.device) -> float:
    """The loop most tutorials write; returns steps per second."""
    torch.manual_seed(0)
    G, D = MLPGenerator().to(device), MLPDiscriminator().to(device)
    opt_g, opt_d = adam(G), adam(D)
    loader = DataLoader(TensorDataset(images), batch_size=BATCH, shuffle=True, drop_last=True)
    ones, zeros = torch.ones(BATCH, device=device), torch.zeros(BATCH, device=device)
    log = []
    step, start = 0, None
    while step < steps + 10:
        for (real,) in loader:
            if step == 10:  # warm-up done
                sync(device)
                start = time.perf_counter()
            real = real.to(device)
            z = torch.randn(BATCH, G.latent_dim, device=device)
            fake = G(z)
            d_loss = F.binary_cross_entropy_with_logits(D(real), ones) + F.binary_cross_entropy_with_logits(D(fake.detach()), zeros)
            opt_d.zero_grad()
            d_loss.backward()
            opt_d.step()
            g_loss = F.binary_cross_entropy_with_logits(D(fake), ones)
            opt_g.zero_grad()
            g_loss.backward()
            opt_g.step()
            log.append((d_loss.item(), g_loss.item()))  # a host sync every step
            step += 1
            if step == steps + 10:
                break
    sync(device)
    return steps / (time.perf_counter() - start)


def gancourse_trainer(images: torch.Tensor, steps: int, device: torch.device) -> float:
    torch.manual_seed(0)
    tr = GANTrainer(MLPGenerator(), MLPDiscriminator(), images, batch_size=BATCH, device=device, progress=False, log_every=50)
    tr.fit(10)  # warm-up
    sync(device)
    start = time.perf_counter()
    tr.fit(10 + steps)
    sync(device)
    return steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default=None)
    args = parser.parse_args()
    device = get_device(args.device)
    images = load_mnist("train").images
    plain, ours = [], []
    for _ in range(args.repeats):
        plain.append(tutorial_loop(images, args.steps, device))
        ours.append(gancourse_trainer(images, args.steps, device))
    p, o = statistics.median(plain), statistics.median(ours)
    print(f"device {device}, torch threads {torch.get_num_threads()}, MLP GAN, batch {BATCH}, "
          f"{args.steps} steps x {args.repeats} alternating runs (median)")
    print(f"{'loop':<34}{'steps/s':>10}")
    print(f"{'tutorial loop (DataLoader, .item())':<34}{p:>10.1f}")
    print(f"{'gancourse GANTrainer':<34}{o:>10.1f}")
    print(f"ratio gancourse / tutorial: {o / p:.2f}x")


if __name__ == "__main__":
    main()
