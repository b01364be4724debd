"""Peak memory of the book's big-resolution recipes: resize up front vs store uint8 +
resize per batch.

    python benchmarks/memory.py    # best device, both recipes, both storage paths
    python benchmarks/memory.py --steps 2 --device cpu

Each measurement runs in a fresh subprocess so that its peak is its own: it loads the
full Fashion-MNIST (60,000 train + 10,000 test images), builds the model, runs a few
training steps of batch 128 with ``hp.train`` and an evaluation of 1,024 test images
with ``hp.evaluate`` (its default batches of 256), then reports the peak host memory
(``ru_maxrss``), the peak GPU memory (``torch.cuda.max_memory_allocated``, on CUDA), the
bytes the stored dataset takes, the seconds per training step and the cost of the
per-batch resize alone. Set BOOK_DATA_DIR when offline. The book's budget: ≤ 12 GB of
GPU memory and ≤ 8 GB of host RAM.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

from results_file import (
    write_results,  # benchmarks/ is the script's folder, first on sys.path
)

# name: (model constructor, resolution): the textbook's VGG and ResNet recipes
RECIPES = {
    "narrow VGG-11 @224": ("vgg", 224),
    "ResNet-18 @96": ("resnet18", 96),
}
PATHS = ("float32, resized up front", "uint8 + per-batch resize")
UP_FRONT_LIMIT = (
    4e9  # bytes: larger up-front sets are reported from their shapes, not allocated
)


def _model(kind: str, size: int):
    import helpers as hp

    if kind == "vgg":
        return hp.vgg(((1, 16), (1, 32), (2, 64), (2, 128), (2, 128)), image_size=size)
    return hp.resnet18()


def measure(recipe: str, path: str, steps: int, device: str | None) -> dict:
    """Run inside the child process: one recipe, one storage path."""
    import torch

    import helpers as hp

    kind, size = RECIPES[recipe]
    device = hp.get_device(device)
    uint8 = path == PATHS[1]
    X, y = hp.load_data(
        "fashion_mnist",
        "train",
        device=device,
        dtype=torch.uint8 if uint8 else torch.float32,
    )
    Xt, yt = hp.load_data(
        "fashion_mnist",
        "test",
        device=device,
        dtype=torch.uint8 if uint8 else torch.float32,
    )
    if uint8:
        transform = hp.resize_to(size)
    else:
        X, Xt, transform = hp.resize_images(X, size), hp.resize_images(Xt, size), None
    stored = sum(t.element_size() * t.numel() for t in (X, y, Xt, yt))
    hp.seed_everything(0)
    net = _model(kind, size)
    n = steps * 128
    optimizer = torch.optim.SGD(net.parameters(), lr=0.01)
    # warm-up
    hp.train(
        net,
        (X[:128], y[:128]),
        epochs=1,
        optimizer=optimizer,
        batch_size=128,
        device=device,
        transform=transform,
        progress=False,
    )
    history = hp.train(
        net,
        (X[:n], y[:n]),
        epochs=1,
        optimizer=optimizer,
        batch_size=128,
        device=device,
        transform=transform,
        progress=False,
    )
    hp.evaluate(net, Xt[:1024], yt[:1024], transform=transform)
    resize_s = float("nan")
    if uint8:
        xb = X[:128]
        start = time.perf_counter()
        for _ in range(10):
            transform(xb)
        if device.type == "cuda":
            torch.cuda.synchronize()
        resize_s = (time.perf_counter() - start) / 10
    gpu = torch.cuda.max_memory_allocated(device) if device.type == "cuda" else 0
    return {
        "stored_gb": stored / 1e9,
        "host_peak_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9,
        "gpu_peak_gb": gpu / 1e9,
        "s_per_step": history.seconds / steps,
        "resize_ms": resize_s * 1e3,
    }


def up_front_bytes(size: int) -> float:
    return (60_000 + 10_000) * size * size * 4 + 70_000 * 8


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--device", default=None, help="cuda, mps or cpu (default: best available)"
    )
    parser.add_argument(
        "--steps", type=int, default=3, help="timed training steps of batch 128"
    )
    parser.add_argument(
        "--json",
        type=Path,
        default=None,
        help="also write the figures to this JSON file",
    )
    parser.add_argument(
        "--child", nargs=2, metavar=("RECIPE", "PATH"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(*args.child, args.steps, args.device)))
        return
    import torch

    import helpers as hp

    print(
        f"device: {hp.device_name(args.device)}, torch {torch.__version__}, "
        f"{torch.get_num_threads()} CPU threads, {args.steps} steps of 128"
    )
    print(
        f"{'recipe':<20} {'storage':<27} {'dataset GB':>10} {'host peak GB':>12} "
        f"{'GPU peak GB':>11} {'s/step':>7} {'resize ms/batch':>15}"
    )
    rows = []
    for recipe, (_, size) in RECIPES.items():
        for path in PATHS:
            if path == PATHS[0] and up_front_bytes(size) > UP_FRONT_LIMIT:
                print(
                    f"{recipe:<20} {path:<27} {up_front_bytes(size) / 1e9:>10.2f} "
                    f"{'> dataset':>12} {'':>11} {'':>7} {'':>15}  (from the "
                    "shapes; not allocated)"
                )
                rows.append(
                    {
                        "recipe": recipe,
                        "storage": path,
                        "stored_gb": up_front_bytes(size) / 1e9,
                        "allocated": False,
                    }
                )
                continue
            cmd = [
                sys.executable,
                __file__,
                "--steps",
                str(args.steps),
                "--child",
                recipe,
                path,
            ]
            if args.device:
                cmd += ["--device", args.device]
            r = json.loads(
                subprocess.run(cmd, check=True, capture_output=True, text=True)
                .stdout.strip()
                .splitlines()[-1]
            )
            gpu = f"{r['gpu_peak_gb']:.2f}" if r["gpu_peak_gb"] else "-"
            resize = (
                f"{r['resize_ms']:.1f}" if r["resize_ms"] == r["resize_ms"] else "-"
            )
            print(
                f"{recipe:<20} {path:<27} {r['stored_gb']:>10.2f} "
                f"{r['host_peak_gb']:>12.2f} {gpu:>11} {r['s_per_step']:>7.2f} "
                f"{resize:>15}",
                flush=True,
            )
            # NaN (no resize) → null
            rows.append(
                {
                    "recipe": recipe,
                    "storage": path,
                    "allocated": True,
                    **{k: (None if v != v else v) for k, v in r.items()},
                }
            )
    if args.json:
        write_results(args.json, hp.device_name(args.device), rows, steps=args.steps)


if __name__ == "__main__":
    main()
