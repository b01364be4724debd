"""The textbook's trainer (d2l 1.0.3) against hp.train, side by side, in one run.

    pip install pandas scipy && pip install --no-deps d2l==1.0.3   # or: make bench-deps
    python benchmarks/trainers.py                      # every workload, best device
    python benchmarks/trainers.py --workload lenet --epochs 10

For each workload both trainers start from the same weights (copied from one
initialisation), use the same optimiser, learning rate, batch size and number of
epochs, and each validates on the test set after every epoch, as ``d2l.Trainer``
does. Printed: seconds per epoch (the whole fit divided by the epochs: training
plus the per-epoch test pass), training images per second, the speed ratio, and
both models' final test accuracy, measured the same way (``hp.evaluate`` on the
same test tensors). d2l runs as a new reader runs it: its ``FashionMNIST`` data
module (a DataLoader with 4 workers and per-image PIL transforms) and its
``Trainer``; only its live plot is switched off (``board.display = False``),
which makes d2l faster, not slower. Set BOOK_DATA_DIR to read the offline copy.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from results_file import (
    write_results,  # benchmarks/ is the script's folder, first on sys.path
)
from torch import nn

import helpers as hp


@dataclass
class Workload:
    make_hp: Callable[[], nn.Module]  # the book's model (initialised with seed 0)
    make_d2l: Callable[[], object]  # the textbook's d2l.Classifier with the same layers
    lr: float
    size: int  # image side after resizing (28 = none)
    n_train: int | None  # first-n subset of the training set (None = all 60,000)
    n_test: int | None
    epochs: int
    xavier: bool


def textbook_classifier(d2l, lr: float):
    """A ``d2l.Classifier`` (the textbook's loss, SGD and live plot) around a given
    network.

    d2l 1.0.3 ships LeNet as a class but defines VGG and ResNet-18 only in the book's
    chapters, so for those the same layers as ours are wrapped here; the weights are
    copied from our model by ``copy_weights``.
    """

    def make(net: nn.Module):
        model = d2l.Classifier()
        model.net, model.lr = net, lr
        return model

    return make


def workloads(d2l) -> dict[str, Workload]:
    narrow = ((1, 16), (1, 32), (2, 64), (2, 128), (2, 128))
    vgg = lambda: hp.vgg(narrow, image_size=32)  # noqa: E731
    return {
        "lenet": Workload(
            lambda: hp.lenet5(),
            lambda: d2l.LeNet(lr=0.1),
            0.1,
            28,
            None,
            None,
            10,
            True,
        ),
        "vgg": Workload(
            vgg,
            lambda: textbook_classifier(d2l, 0.01)(vgg()),
            0.01,
            32,
            6000,
            2000,
            2,
            True,
        ),
        "resnet18": Workload(
            hp.resnet18,
            lambda: textbook_classifier(d2l, 0.01)(hp.resnet18()),
            0.01,
            32,
            6000,
            2000,
            2,
            False,
        ),
    }


def copy_weights(src: nn.Module, dst: nn.Module) -> None:
    """Copy every parameter and buffer of ``src`` into ``dst`` in registration order
    (same layers, other names)."""
    a, b = src.state_dict(), dst.state_dict()
    if len(a) != len(b):
        raise ValueError(f"the two models differ: {len(a)} vs {len(b)} tensors")
    with torch.no_grad():
        for (ka, va), (kb, vb) in zip(a.items(), b.items(), strict=True):
            if va.shape != vb.shape:
                raise ValueError(
                    f"shape mismatch: {ka} {tuple(va.shape)} vs {kb} {tuple(vb.shape)}"
                )
            vb.copy_(va)


def d2l_data(d2l, w: Workload, root: str):
    """The textbook's data module, reading the same files, cut to the same subsets."""
    # its root is a default argument; num_workers stays 4
    d2l.DataModule.__init__.__defaults__ = (
        root,
        4,
    )
    data = d2l.FashionMNIST(batch_size=128, resize=(w.size, w.size))
    if w.n_train:
        data.train = torch.utils.data.Subset(data.train, range(w.n_train))
    if w.n_test:
        data.val = torch.utils.data.Subset(data.val, range(w.n_test))
    return data


def run(name: str, w: Workload, d2l, device: torch.device, root: str) -> dict:
    transform = hp.resize_to(w.size) if w.size != 28 else None
    X, y = hp.load_data(
        "fashion_mnist", "train", n=w.n_train, device=device, dtype=torch.uint8
    )
    Xt, yt = hp.load_data(
        "fashion_mnist", "test", n=w.n_test, device=device, dtype=torch.uint8
    )

    hp.seed_everything(0)
    ours = w.make_hp()
    if w.xavier:
        ours.apply(hp.init_xavier)
    theirs = w.make_d2l()
    if any(isinstance(m, nn.modules.lazy.LazyModuleMixin) for m in theirs.modules()):
        # materialise d2l.LeNet's lazy layers
        theirs.apply_init([torch.zeros(1, 1, w.size, w.size)])
    copy_weights(ours, theirs.net)
    theirs.board.display = False

    data = d2l_data(d2l, w, root)
    trainer = d2l.Trainer(
        max_epochs=w.epochs, num_gpus=1 if device.type == "cuda" else 0
    )
    start = time.perf_counter()
    trainer.fit(theirs, data)
    if device.type == "cuda":
        torch.cuda.synchronize()
    d2l_s = (time.perf_counter() - start) / w.epochs
    d2l_acc = hp.evaluate(theirs.net.to(device), Xt, yt, transform=transform)

    opt = torch.optim.SGD(ours.parameters(), lr=w.lr)
    history = hp.train(
        ours,
        (X, y),
        (Xt, yt),
        epochs=w.epochs,
        optimizer=opt,
        batch_size=128,
        device=device,
        transform=transform,
        progress=False,
    )
    hp_s = history.seconds / w.epochs
    return {
        "n": len(X),
        "d2l_s": d2l_s,
        "hp_s": hp_s,
        "d2l_acc": d2l_acc,
        "hp_acc": history.test_acc[-1],
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--device", default=None, help="cuda or cpu (default: best available)"
    )
    parser.add_argument(
        "--workload",
        choices=["lenet", "vgg", "resnet18"],
        action="append",
        help="default: all",
    )
    parser.add_argument(
        "--epochs", type=int, default=None, help="override every workload's epochs"
    )
    parser.add_argument(
        "--json",
        type=Path,
        default=None,
        help="also write the figures to this JSON file",
    )
    args = parser.parse_args()
    import d2l.torch as d2l  # benchmark-only dependency (see the docstring)

    root = os.environ.get("BOOK_DATA_DIR") or str(hp.data_root()[0])
    device = hp.get_device(args.device)
    print(
        f"device: {hp.device_name(device)}, torch {torch.__version__}, "
        f"{torch.get_num_threads()} CPU threads, d2l {d2l.__name__.split('.')[0]} "
        "1.0.3"
    )
    header = (
        f"{'workload':<10} {'images':>7} {'epochs':>6} {'d2l s/ep':>9} {'hp s/ep':>8} "
        f"{'d2l img/s':>10} {'hp img/s':>9} {'ratio':>6} {'d2l acc':>8} {'hp acc':>7}"
    )
    print(header)
    results = []
    for name in args.workload or list(workloads(d2l)):
        w = workloads(d2l)[name]
        if args.epochs:
            w.epochs = args.epochs
        r = run(name, w, d2l, device, root)
        print(
            f"{name:<10} {r['n']:>7,} {w.epochs:>6} {r['d2l_s']:>9.2f} "
            f"{r['hp_s']:>8.2f} {r['n'] / r['d2l_s']:>10,.0f} "
            f"{r['n'] / r['hp_s']:>9,.0f} {r['d2l_s'] / r['hp_s']:>6.2f} "
            f"{r['d2l_acc']:>8.4f} {r['hp_acc']:>7.4f}",
            flush=True,
        )
        results.append({"workload": name, "epochs": w.epochs, "size": w.size, **r})
    if args.json:
        write_results(args.json, hp.device_name(device), results, d2l="1.0.3")


if __name__ == "__main__":
    main()
