"""Benchmark the training loop: seconds per epoch and images per second for the book's
workloads.

    python tools/bench_train.py                 # best device, every workload
    python tools/bench_train.py --device cpu --epochs 3

Workloads: the lecture's two full-batch models on 5,000 Fashion-MNIST images, and
LeNet-5 with mini-batches of 128 on 10,000. Data come from hp.load_data, so set
BOOK_DATA_DIR when offline. The first epoch (warm-up, cuDNN autotuning) is reported
apart.
"""

from __future__ import annotations

import argparse

import torch
from torch import nn

import helpers as hp


def workloads() -> dict[str, tuple]:
    def mlp() -> nn.Module:
        return nn.Sequential(
            nn.Flatten(), nn.Linear(784, 2048), nn.ReLU(), nn.Linear(2048, 10)
        )

    def cnn() -> nn.Module:
        return nn.Sequential(
            nn.Conv2d(1, 16, 2),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(2704, 10),
        )

    return {
        "lecture MLP, full batch, 5k": (mlp, 5000, None),
        "lecture CNN, full batch, 5k": (cnn, 5000, None),
        "LeNet-5 (modern), batch 128, 10k": (
            lambda: hp.lenet5(modern=True),
            10000,
            128,
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--device", default=None, help="cuda, mps or cpu (default: best available)"
    )
    parser.add_argument(
        "--epochs", type=int, default=5, help="timed epochs after one warm-up epoch"
    )
    args = parser.parse_args()
    device = hp.get_device(args.device)
    print(
        f"device: {hp.device_name(device)}, torch {torch.__version__}, "
        f"{torch.get_num_threads()} CPU threads"
    )
    print(f"{'workload':<36} {'warm-up s':>10} {'s/epoch':>9} {'images/s':>10}")
    for name, (make, n, batch_size) in workloads().items():
        X, y = hp.load_data("fashion_mnist", "train", n=n, device=device)
        hp.seed_everything(0)
        model = make()
        warm = hp.train(
            model,
            (X, y),
            epochs=1,
            batch_size=batch_size,
            device=device,
            progress=False,
        )
        timed = hp.train(
            model,
            (X, y),
            epochs=args.epochs,
            batch_size=batch_size,
            device=device,
            progress=False,
        )
        per_epoch = timed.seconds / args.epochs
        print(
            f"{name:<36} {warm.seconds:>10.2f} {per_epoch:>9.3f} "
            f"{n / per_epoch:>10,.0f}"
        )


if __name__ == "__main__":
    main()
