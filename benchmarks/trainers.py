"""The textbook's trainer (d2l 1.0.3) against hp.train, and where the difference comes
from.

  pip install pandas scipy && pip install --no-deps d2l==1.0.3  # or: make bench-deps
  python benchmarks/trainers.py --plan  # the runs and the expected time; runs nothing
  python benchmarks/trainers.py --device cpu --json benchmarks/results/trainers-cpu.json
  python benchmarks/trainers.py --workload lenet --rounds 1  # a part of it
  python benchmarks/trainers.py --workload vgg --json FILE --merge  # replace vgg's row

What is compared. Each workload trains one network in five ways (the *variants*), each
from the same initial weights with the same optimiser, learning rate, batch size (128)
and epochs, each validating on the test set after every epoch as ``d2l.Trainer`` does:

  d2l_plot     ``d2l.Trainer`` as a reader runs it in a notebook: its
               ``FashionMNIST`` data module (a ``DataLoader`` with 4 worker processes,
               started afresh for the training and the validation loader every epoch,
               a per-image PIL resize and ``ToTensor``) and its live plot on. The plot
               is redrawn 4 times an epoch (train loss twice, validation loss and
               accuracy once) and IPython renders it to SVG, the work Jupyter's inline
               backend does in a notebook kernel (sending it to the browser and
               drawing it there are not counted).
  d2l          the same with the plot off (``board.display = False``).
  d2l_hp_data  ``d2l.Trainer``, the same loop, fed hp's data path: the same uint8
               tensors in memory, shuffled index slices, converted (and resized) per
               batch (``hp.batches``).
  hp_nchw      ``hp.train(..., channels_last=False)``: hp's loop instead of d2l's.
  hp           ``hp.train`` as the chapters call it (channels-last for convolutional
               networks).

Neighbouring variants differ in one thing, so the ratios of their times attribute the
speed-up: the live plot (d2l_plot / d2l), the data path (d2l / d2l_hp_data), the loop
(d2l_hp_data / hp_nchw) and the memory layout (hp_nchw / hp). A variant's time is the
wall-clock time of its whole fit divided by the epochs: training *and* the per-epoch
test pass. Every model's final test accuracy is measured the same way afterwards
(``hp.evaluate`` on the same test tensors).

Repeats. The variants run in ``--rounds`` interleaved rounds (default 3), the order
reversed every other round (round 1 as listed above, round 2 backwards, ...), so that a
slow spell of the machine does not fall on one variant only. Round r starts from the
initial weights drawn with seed r - 1 (the same for its five variants) and seeds every
shuffle with it, so the accuracies' range also shows what the seed and the shuffle
order do. The JSON keeps every run; the summary gives the median and the range
(min-max) over the rounds.

Workloads (their sizes keep the default run at about 25 minutes on a quiet 2-core CPU;
``--plan`` prints the estimate, from the planning figures in ``PLAN_S_PER_EPOCH``):

  lenet     the textbook's LeNet recipe (D2L 7.6): sigmoid and average pooling, Xavier
            initialisation, SGD with learning rate 0.1, 10 epochs on all 60,000 /
            10,000 images (28x28). About 10 minutes for 3 rounds.
  vgg       chapter 09's CPU recipe: narrow VGG-11 at 32x32, Xavier, Adam with
            learning rate 1e-3, 2 epochs on the first 10,000 training and 2,000 test
            images (156 Adam steps; the chapter's network learns within 100). About
            10 minutes.
  resnet18  chapter 10's CPU recipe: ResNet-18 at 32x32, Xavier, SGD with learning
            rate 0.01, 2 epochs on the first 6,000 / 2,000 images. About 4 minutes.

The JSON (``--json``): ``machine`` (device, date, commit, torch, CPU model, cores,
threads, rounds, d2l version), ``variants`` (what each one is) and one row per workload
with its recipe, every run (round, seed, position in the round, seconds per epoch, test
accuracy), the summary per variant and its own ``measured`` evidence (the same facts;
with ``--merge`` the rows of workloads not run this time are kept from the file, each
with the evidence of its own run). Set BOOK_DATA_DIR to read the offline copy of the
data. d2l is never a dependency of the book.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import os
import statistics
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import matplotlib

# d2l's live plot is rendered to SVG as in a notebook, never shown
matplotlib.use("Agg")

import torch
from gpu_recipes_learn import NARROW_VGG11  # chapter 09: VGG-11, channels / 4
from matplotlib import pyplot as plt
from results_file import machine_facts, write_results
from torch import nn

import helpers as hp

D2L_VERSION = "1.0.3"
BATCH = 128
VARIANTS = {
    "d2l_plot": "d2l.Trainer, d2l's FashionMNIST DataLoader "
    "(4 workers, per-image PIL resize), "
    "live plot on (rendered to SVG, as Jupyter's inline backend does)",
    "d2l": "d2l.Trainer, d2l's FashionMNIST DataLoader, plot off",
    "d2l_hp_data": "d2l.Trainer (the same loop) fed hp's data path: tensors in memory, "
    "index slices, per-batch conversion and resize; plot off",
    "hp_nchw": "hp.train with channels_last=False",
    "hp": "hp.train (channels-last)",
}
# Planning figures, not measurements: seconds per epoch (training + test pass) on a
# quiet 2-core CPU at the default sizes. lenet: hp 1.98 and d2l 6.28 measured in one
# earlier run; channels-last saves about 15% of LeNet's step (helpers/train.py); the
# plot about 0.6 s (4 SVG renders). vgg and resnet18: hp from the chapters' 115 and
# 70 s per epoch on 60,000 images (+ a test pass a third the cost per image), d2l's
# DataLoader about 10% on top, as in the earlier runs.
PLAN_S_PER_EPOCH = {
    "lenet": {
        "d2l_plot": 6.9,
        "d2l": 6.3,
        "d2l_hp_data": 2.3,
        "hp_nchw": 2.3,
        "hp": 2.0,
    },
    "vgg": {
        "d2l_plot": 22.0,
        "d2l": 21.3,
        "d2l_hp_data": 19.6,
        "hp_nchw": 19.4,
        "hp": 19.4,
    },
    "resnet18": {
        "d2l_plot": 8.6,
        "d2l": 8.1,
        "d2l_hp_data": 7.5,
        "hp_nchw": 7.4,
        "hp": 7.4,
    },
}
PLAN_S_PER_RUN = 2.0  # building the data module and the model, the final evaluation


@dataclass
class Workload:
    recipe: str  # one line for the page
    build: Callable[[], nn.Module]  # the book's network (fresh, default initialisation)
    optimizer: str  # a torch.optim class name
    lr: float
    size: int  # image side after resizing (28 = as stored)
    n_train: int
    n_test: int
    epochs: int
    xavier: bool = True


WORKLOADS = {
    "lenet": Workload(
        "the textbook's LeNet (sigmoid, average pooling), Xavier, SGD lr 0.1",
        hp.lenet5,
        "SGD",
        0.1,
        28,
        60_000,
        10_000,
        10,
    ),
    "vgg": Workload(
        "chapter 09's CPU recipe: narrow VGG-11 at 32×32, Xavier, Adam lr 1e-3",
        lambda: hp.vgg(NARROW_VGG11, image_size=32),
        "Adam",
        1e-3,
        32,
        10_000,
        2_000,
        2,
    ),
    "resnet18": Workload(
        "chapter 10's CPU recipe: ResNet-18 at 32×32, Xavier, SGD lr 0.01",
        hp.resnet18,
        "SGD",
        0.01,
        32,
        6_000,
        2_000,
        2,
    ),
}


def round_order(r: int) -> list[str]:
    """The variants' order in round ``r`` (1-based): as listed in odd rounds, reversed
    in even ones."""
    names = list(VARIANTS)
    return names if r % 2 == 1 else names[::-1]


def plan_seconds(name: str, w: Workload, rounds: int) -> float:
    """Expected seconds for ``rounds`` rounds of workload ``name`` on a quiet 2-core CPU
    (a plan, not a figure)."""
    default = WORKLOADS[name]
    per_image = (w.n_train + w.n_test / 3) / (default.n_train + default.n_test / 3)
    per_round = sum(
        PLAN_S_PER_EPOCH[name].values()
    ) * per_image * w.epochs + PLAN_S_PER_RUN * len(VARIANTS)
    return rounds * per_round


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


def d2l_model(d2l, name: str, w: Workload, init: dict) -> nn.Module:
    """The textbook's ``d2l.Classifier`` (its loss, optimiser, training and validation
    steps, plot) around the network, starting from the weights ``init``.

    d2l 1.0.3 ships LeNet as a class (lazy layers, materialised here) but defines VGG
    and ResNet-18 only in the book's chapters, so for those the book's own layers are
    wrapped. ``d2l.Classifier`` trains with SGD; for Adam its ``configure_optimizers``
    is overridden, as a reader would.
    """
    if name == "lenet":
        model = d2l.LeNet(lr=w.lr)
        model.apply_init([torch.zeros(1, 1, w.size, w.size)])
    else:

        class Textbook(d2l.Classifier):
            def configure_optimizers(self):
                return getattr(torch.optim, w.optimizer)(self.parameters(), lr=self.lr)

        model = Textbook()
        model.net, model.lr = w.build(), w.lr
    ours = w.build()
    ours.load_state_dict(init)
    copy_weights(ours, model.net)
    return model


def d2l_data(d2l, w: Workload, root: str):
    """The textbook's data module, reading the same files, cut to the same first-n
    subsets."""
    # its root is a default argument; num_workers stays 4
    d2l.DataModule.__init__.__defaults__ = (root, 4)
    data = d2l.FashionMNIST(batch_size=BATCH, resize=(w.size, w.size))
    data.train = torch.utils.data.Subset(data.train, range(w.n_train))
    data.val = torch.utils.data.Subset(data.val, range(w.n_test))
    return data


@dataclass
class Batches:
    """A re-iterable of hp's mini-batches with a length, which is all ``d2l.Trainer``
    asks of a loader."""

    X: torch.Tensor
    y: torch.Tensor
    shuffle: bool
    transform: Callable[[torch.Tensor], torch.Tensor]

    def __len__(self) -> int:
        return -(-len(self.X) // BATCH)

    def __iter__(self):
        return hp.batches(
            self.X, self.y, BATCH, shuffle=self.shuffle, transform=self.transform
        )


class HpData:
    """A d2l data module that serves hp's data path: tensors in memory, sliced per
    batch."""

    def __init__(self, train: tuple, test: tuple, transform):
        self.train_batches = Batches(*train, shuffle=True, transform=transform)
        self.val_batches = Batches(*test, shuffle=False, transform=transform)

    def train_dataloader(self) -> Batches:
        return self.train_batches

    def val_dataloader(self) -> Batches:
        return self.val_batches


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def run_variant(
    variant: str,
    name: str,
    w: Workload,
    d2l,
    device,
    root: str,
    data: dict,
    init: dict,
    seed: int,
) -> tuple[float, float]:
    """Train one variant from ``init``; (seconds per epoch of the whole fit, final test
    accuracy)."""
    (X, y), (Xt, yt), transform = data["train"], data["test"], data["transform"]
    hp.seed_everything(seed)
    if variant.startswith("d2l"):
        model = d2l_model(d2l, name, w, init)
        model.board.display = variant == "d2l_plot"
        source = (
            HpData((X, y), (Xt, yt), transform)
            if variant == "d2l_hp_data"
            else d2l_data(d2l, w, root)
        )
        trainer = d2l.Trainer(
            max_epochs=w.epochs, num_gpus=1 if device.type == "cuda" else 0
        )
        hp.seed_everything(seed)
        # IPython prints the figure's repr and clears the line
        with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):
            start = time.perf_counter()
            trainer.fit(model, source)
            _sync(device)
            seconds = time.perf_counter() - start
        if model.board.fig is not None:
            plt.close(model.board.fig)
        net = model.net.to(device)
    else:
        net = w.build()
        net.load_state_dict(init)
        optimizer = getattr(torch.optim, w.optimizer)(net.parameters(), lr=w.lr)
        start = time.perf_counter()
        hp.train(
            net,
            (X, y),
            (Xt, yt),
            epochs=w.epochs,
            optimizer=optimizer,
            batch_size=BATCH,
            device=device,
            transform=transform,
            channels_last=None if variant == "hp" else False,
            progress=False,
        )
        _sync(device)
        seconds = time.perf_counter() - start
    return seconds / w.epochs, hp.evaluate(net, Xt, yt, transform=transform)


def summarise(runs: list[dict]) -> dict:
    """Median and range (min, max) over the rounds, per variant, of seconds per epoch
    and test accuracy."""
    out = {}
    for variant in VARIANTS:
        s = [r["s_per_epoch"] for r in runs if r["variant"] == variant]
        acc = [r["test_acc"] for r in runs if r["variant"] == variant]
        if s:
            out[variant] = {
                "s_median": statistics.median(s),
                "s_min": min(s),
                "s_max": max(s),
                "acc_median": statistics.median(acc),
                "acc_min": min(acc),
                "acc_max": max(acc),
            }
    return out


def run_workload(name: str, w: Workload, rounds: int, d2l, device, root: str) -> dict:
    transform = hp.resize_to(w.size) if w.size != 28 else hp.to_float
    data = {
        "train": hp.load_data(
            "fashion_mnist", "train", n=w.n_train, device=device, dtype=torch.uint8
        ),
        "test": hp.load_data(
            "fashion_mnist", "test", n=w.n_test, device=device, dtype=torch.uint8
        ),
        "transform": transform,
    }
    runs = []
    for r in range(1, rounds + 1):
        seed = r - 1
        hp.seed_everything(seed)
        first = w.build()
        if w.xavier:
            first.apply(hp.init_xavier)
        init = copy.deepcopy(first.state_dict())
        for position, variant in enumerate(round_order(r), 1):
            s, acc = run_variant(variant, name, w, d2l, device, root, data, init, seed)
            runs.append(
                {
                    "round": r,
                    "seed": seed,
                    "position": position,
                    "variant": variant,
                    "s_per_epoch": s,
                    "test_acc": acc,
                }
            )
            print(
                f"  round {r}/{rounds}  {name:<9} {variant:<12} {s:8.2f} s/epoch  "
                f"test accuracy {acc:.4f}",
                flush=True,
            )
    return {
        "workload": name,
        "recipe": w.recipe,
        "optimizer": w.optimizer,
        "lr": w.lr,
        "batch_size": BATCH,
        "size": w.size,
        "n": w.n_train,
        "n_test": w.n_test,
        "epochs": w.epochs,
        "xavier": w.xavier,
        "runs": runs,
        "summary": summarise(runs),
    }


def print_summary(row: dict) -> None:
    s = row["summary"]
    base = s["d2l"]["s_median"] if "d2l" in s else None
    print(
        f"{row['workload']}: median (min-max) over "
        f"{max(r['round'] for r in row['runs'])} round(s), "
        f"{row['epochs']} epoch(s) on {row['n']:,} images"
    )
    for variant, v in s.items():
        ratio = f"{base / v['s_median']:5.2f}x d2l" if base else ""
        print(
            f"  {variant:<12} {v['s_median']:8.2f} s/epoch "
            f"({v['s_min']:.2f}-{v['s_max']:.2f})  {ratio}  "
            f"test accuracy {v['acc_median']:.4f} "
            f"({v['acc_min']:.4f}-{v['acc_max']:.4f})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--device", default=None, help="cuda or cpu (default: best available)"
    )
    parser.add_argument(
        "--workload", choices=list(WORKLOADS), action="append", help="default: all"
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="interleaved rounds (default 3)"
    )
    parser.add_argument(
        "--epochs", type=int, default=None, help="override every workload's epochs"
    )
    parser.add_argument(
        "--n-train",
        type=int,
        default=None,
        help="override every workload's training images",
    )
    parser.add_argument(
        "--n-test", type=int, default=None, help="override every workload's test images"
    )
    parser.add_argument(
        "--plan",
        action="store_true",
        help="print the runs and the expected time, run nothing",
    )
    parser.add_argument(
        "--json",
        type=Path,
        default=None,
        help="write the runs and the summary to this JSON file",
    )
    parser.add_argument(
        "--merge",
        action="store_true",
        help="keep the --json file's rows of other workloads",
    )
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    names = list(dict.fromkeys(args.workload or WORKLOADS))
    chosen = {}
    for name in names:
        w = copy.copy(WORKLOADS[name])
        w.epochs = args.epochs or w.epochs
        w.n_train = args.n_train or w.n_train
        w.n_test = args.n_test or w.n_test
        chosen[name] = w

    total_runs = len(chosen) * len(VARIANTS) * args.rounds
    print(
        f"plan: {len(chosen)} workload(s) x {len(VARIANTS)} variants x "
        f"{args.rounds} round(s) = "
        f"{total_runs} training runs; order alternated between rounds"
    )
    for name, w in chosen.items():
        print(
            f"  {name:<9} {w.epochs} epoch(s) on {w.n_train:,} images "
            f"({w.n_test:,} test) at {w.size}x{w.size}: "
            f"{w.recipe}; about {plan_seconds(name, w, args.rounds) / 60:.0f} min"
        )
    expected = sum(plan_seconds(n, w, args.rounds) for n, w in chosen.items())
    print(
        f"expected: about {expected / 60:.0f} min on a quiet 2-core CPU "
        "(planning figures, not a measurement)",
        flush=True,
    )
    if args.plan:
        return

    import d2l.torch as d2l  # benchmark-only dependency (see the docstring)

    # d2l's 4 workers on a 2-core machine make torch warn at every loader; said once
    # here instead.
    warnings.filterwarnings("ignore", message="This DataLoader will create")
    if (os.cpu_count() or 0) < 4:
        print(
            "note: d2l's DataLoader starts 4 worker processes on this "
            f"{os.cpu_count()}-core machine"
        )

    root = os.environ.get("BOOK_DATA_DIR") or str(hp.data_root()[0])
    device = hp.get_device(args.device)
    # the evidence, read once before the first run and written with every row and the
    # file's own line (HEAD may move during a run of half an hour)
    facts = {
        "device": hp.device_name(device),
        **machine_facts(),
        "rounds": args.rounds,
        "d2l": D2L_VERSION,
    }
    print(
        f"device: {facts['device']}, torch {facts['torch']}, {facts['cpu_model']}, "
        f"{facts['cpus']} cores, "
        f"{facts['threads']} threads, d2l {D2L_VERSION}, commit {facts['commit']}",
        flush=True,
    )
    rows = []
    start = time.perf_counter()
    for name, w in chosen.items():
        row = run_workload(name, w, args.rounds, d2l, device, root)
        row["measured"] = facts
        rows.append(row)
        print_summary(row)
    print(f"total {(time.perf_counter() - start) / 60:.1f} min for {total_runs} runs")
    if args.json:
        if args.merge and args.json.exists():
            kept = [
                r
                for r in json.loads(args.json.read_text())["results"]
                if r["workload"] not in chosen
            ]
            rows = sorted(
                kept + rows, key=lambda r: list(WORKLOADS).index(r["workload"])
            )
        write_results(
            args.json,
            facts["device"],
            rows,
            extra={"variants": VARIANTS},
            facts=facts,  # read at the start: the commit measured, not one since
            rounds=args.rounds,
            d2l=D2L_VERSION,
        )


if __name__ == "__main__":
    main()
