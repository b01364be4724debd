"""Do the GPU recipes learn? Their first training steps, at their real resolution, on
the CPU.

    python benchmarks/gpu_recipes_learn.py \
        --json benchmarks/results/gpu-recipes-cpu.json
    # replaces that row only:
    python benchmarks/gpu_recipes_learn.py --recipe resnet18@96 --max-steps 60 \
        --json ...

On a GPU, chapters 09 and 10 train the textbook's recipes (narrow VGG-11 at 224×224 and
ResNet-18 at 96×96, SGD with learning rate 0.01, Xavier initialisation, batches of 128),
which a 2-core CPU cannot afford in full. What it can afford is the start: this script
runs each recipe's first steps exactly as the chapter would (same builder,
initialisation, optimiser, resolution, batch size; Fashion-MNIST uint8 images resized
per batch) and records the training loss of every step. A recipe "starts learning" when
the mean loss over the last ``WINDOW`` steps falls below ln 10 − ``MARGIN`` (chance
level is ln 10 ≈ 2.303: the same probability for every class). A run stops ``WINDOW``
steps after that point, or at ``--max-steps``. The control, narrow VGG-11 with the same
SGD at 32×32 (chapter 09's CPU resolution), shows what the same number of steps does
there. The losses do not depend on the machine's load, so no time is recorded (this is
evidence of learning, not a speed benchmark). Set BOOK_DATA_DIR when offline.
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from results_file import (  # benchmarks/ is the script's folder, first on sys.path
    machine_facts,
    write_results,
)
from torch import nn

import helpers as hp

WINDOW = 20  # steps averaged
MARGIN = 0.3  # nats below chance that count as "learning"
CHANCE = math.log(10)
# chapter 09's VGG-11, channels / 4
NARROW_VGG11 = (
    (1, 16),
    (1, 32),
    (2, 64),
    (2, 128),
    (2, 128),
)


@dataclass
class Recipe:
    chapter: str
    build: Callable[[int], nn.Module]  # image size → network
    size: int
    lr: float
    max_steps: int


RECIPES = {  # in the order they run: the cheapest first
    "resnet18@96": Recipe(
        "10_resnet (GPU budget)", lambda s: hp.resnet18(), 96, 0.01, 150
    ),
    "vgg11-narrow@32": Recipe(
        "09_vgg (control: CPU resolution, same SGD)",
        lambda s: hp.vgg(NARROW_VGG11, image_size=s),
        32,
        0.01,
        300,
    ),
    "vgg11-narrow@224": Recipe(
        "09_vgg (GPU budget)",
        lambda s: hp.vgg(NARROW_VGG11, image_size=s),
        224,
        0.01,
        300,
    ),
}


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def first_learning_step(losses: list[float]) -> int | None:
    """The first step (1-based) at which the mean loss of the last WINDOW steps is below
    CHANCE − MARGIN."""
    for end in range(WINDOW, len(losses) + 1):
        if sum(losses[end - WINDOW : end]) / WINDOW < CHANCE - MARGIN:
            return end
    return None


def run(
    name: str,
    recipe: Recipe,
    max_steps: int,
    X: torch.Tensor,
    y: torch.Tensor,
    batch_size: int = 128,
) -> dict:
    """Train ``recipe`` from its Xavier start for up to ``max_steps`` optimiser steps;
    the per-step losses and verdict."""
    hp.seed_everything(0)
    net = recipe.build(recipe.size)
    init = hp.init_xavier
    net.apply(init)
    optimizer = torch.optim.SGD(net.parameters(), lr=recipe.lr)
    resize = hp.resize_to(recipe.size)
    order = torch.randperm(len(X), generator=torch.Generator().manual_seed(0))
    losses: list[float] = []
    learned = None
    net.train()
    for step in range(max_steps):
        idx = order[step * batch_size : (step + 1) * batch_size]
        loss = nn.functional.cross_entropy(net(resize(X[idx])), y[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        learned = learned or first_learning_step(losses)
        if (step + 1) % 10 == 0:
            recent = sum(losses[-10:]) / 10
            print(
                f"  {name}: step {step + 1:>4}, mean loss of the last 10 steps "
                f"{recent:.3f}",
                flush=True,
            )
        if learned is not None and step + 1 >= learned + WINDOW:
            break
    return {
        "recipe": name,
        "chapter": recipe.chapter,
        "size": recipe.size,
        "optimizer": type(optimizer).__name__,  # what ran, not a label
        "lr": recipe.lr,
        "batch_size": batch_size,
        "init": init.__name__.removeprefix("init_").capitalize(),  # "Xavier"
        "steps": len(losses),
        "first_learning_step": learned,
        "window": WINDOW,
        "margin": MARGIN,
        "mean_first_window": _mean(losses[:WINDOW]),
        "mean_last_window": _mean(losses[-WINDOW:]),
        "losses": [round(v, 4) for v in losses],
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--recipe",
        choices=sorted(RECIPES),
        action="append",
        help="default: all of them",
    )
    parser.add_argument(
        "--max-steps", type=int, default=None, help="override every recipe's step limit"
    )
    parser.add_argument(
        "--json",
        type=Path,
        default=None,
        help="also write the results to this JSON file",
    )
    args = parser.parse_args()
    names = args.recipe or list(RECIPES)
    X, y = hp.load_data("fashion_mnist", "train", dtype=torch.uint8)
    print(
        f"CPU, torch {torch.__version__}, {torch.get_num_threads()} threads; "
        f"chance level ln 10 = {CHANCE:.3f}; "
        f"'learning' = mean loss of {WINDOW} steps below {CHANCE - MARGIN:.3f}"
    )
    # Rows of recipes not run this time are kept from the file; each row carries its own
    # evidence.
    kept = (
        json.loads(args.json.read_text())["results"]
        if args.json and args.json.exists()
        else []
    )
    rows = [r for r in kept if r["recipe"] not in names]
    for name in names:
        recipe = RECIPES[name]
        row = run(name, recipe, args.max_steps or recipe.max_steps, X, y)
        facts = machine_facts()
        row.update({k: facts[k] for k in ("date", "commit", "threads")})
        rows.append(row)
        rows.sort(key=lambda r: list(RECIPES).index(r["recipe"]))
        verdict = (
            f"learning from step {row['first_learning_step']}"
            if row["first_learning_step"]
            else f"not below {CHANCE - MARGIN:.3f} within {row['steps']} steps"
        )
        print(
            f"{name:<18} {row['steps']:>4} steps, first {WINDOW} steps "
            f"{row['mean_first_window']:.3f}, last {WINDOW} "
            f"{row['mean_last_window']:.3f}: {verdict}",
            flush=True,
        )
        # after every recipe, so that a long run leaves what it has finished
        if args.json:
            write_results(args.json, "cpu", rows, window=WINDOW, margin=MARGIN)


if __name__ == "__main__":
    main()
