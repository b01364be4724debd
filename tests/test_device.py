"""Device choice, seeding, moving things, and the quick-mode switch."""
from __future__ import annotations

import random

import numpy as np
import pytest
import torch

import helpers as hp


def test_default_device_is_available():
    device = hp.get_device()
    assert device.type in {"cuda", "mps", "cpu"}
    if not torch.cuda.is_available() and device.type != "mps":
        assert device.type == "cpu"
    assert hp.get_device("cpu") == torch.device("cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_asking_for_missing_cuda_raises():
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        hp.get_device("cuda")


def test_asking_for_missing_mps_raises():
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        pytest.skip("this machine has MPS")
    with pytest.raises(RuntimeError, match="MPS is not available"):
        hp.get_device("mps")


def test_seed_everything_repeats_every_source():
    def draw():
        return random.random(), float(np.random.rand()), torch.randn(3).tolist()

    hp.seed_everything(123)
    first = draw()
    hp.seed_everything(123)
    assert draw() == first
    with pytest.raises(ValueError):
        hp.seed_everything(-1)


def test_to_device_handles_nested_structures():
    net = torch.nn.Linear(2, 2)
    moved = hp.to_device({"x": torch.ones(2), "pair": (torch.zeros(1), [torch.ones(1)]), "n": 3, "net": net}, "cpu")
    assert moved["n"] == 3 and isinstance(moved["pair"], tuple) and moved["net"] is net
    assert moved["pair"][1][0].device.type == "cpu"


@pytest.mark.parametrize("value,quick", [("1", True), ("true", True), ("yes", True), ("0", False), ("", False)])
def test_budget_follows_book_quick(monkeypatch, value, quick):
    monkeypatch.setenv("BOOK_QUICK", value)
    assert hp.is_quick() is quick
    assert hp.budget(full=500, quick=30) == (30 if quick else 500)


@pytest.mark.parametrize("quick,cuda,expected", [("1", True, 1), ("1", False, 1), ("0", True, 10), ("0", False, 3)])
def test_budget_is_quick_then_gpu_then_cpu(monkeypatch, quick, cuda, expected):
    monkeypatch.setenv("BOOK_QUICK", quick)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    assert hp.budget(full=3, quick=1, gpu=10) == expected
    assert hp.run_mode() == {1: "quick", 10: "gpu", 3: "cpu"}[expected]
    assert hp.budget(full=3, quick=1) == (1 if quick == "1" else 3)  # no GPU budget: the CPU one


def test_to_device_keeps_namedtuples():
    from collections import namedtuple

    Batch = namedtuple("Batch", ["X", "y"])
    moved = hp.to_device(Batch(torch.ones(2), [torch.zeros(1)]), "meta")
    assert isinstance(moved, Batch) and moved.X.device.type == "meta" and moved.y[0].device.type == "meta"
