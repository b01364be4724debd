"""Device choice, seeding, moving things, and the quick-mode switch."""

from __future__ import annotations

import os
import random
import re
import types

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
    with pytest.raises(
        ValueError, match=r"seed must be a non-negative integer, got -1"
    ):
        hp.seed_everything(-1)
    with pytest.raises(
        ValueError, match=r"seed must be a non-negative integer, got 1\.5"
    ):
        hp.seed_everything(1.5)


def test_to_device_handles_nested_structures():
    net = torch.nn.Linear(2, 2)
    moved = hp.to_device(
        {
            "x": torch.ones(2),
            "pair": (torch.zeros(1), [torch.ones(1)]),
            "n": 3,
            "net": net,
        },
        "cpu",
    )
    assert moved["n"] == 3 and isinstance(moved["pair"], tuple) and moved["net"] is net
    assert moved["pair"][1][0].device.type == "cpu"


@pytest.mark.parametrize(
    "value,quick",
    [
        ("1", True),
        ("true", True),
        ("yes", True),
        (" Yes ", True),
        ("TRUE", True),
        ("on", True),
        ("0", False),
        ("", False),
        ("no", False),
        (None, False),
        ("false", False),
        ("OFF", False),
        (" ", False),
    ],
)
def test_budget_follows_book_quick(monkeypatch, value, quick):
    if value is None:
        monkeypatch.delenv("BOOK_QUICK", raising=False)
    else:
        monkeypatch.setenv("BOOK_QUICK", value)
    assert hp.is_quick() is quick
    assert hp.budget(full=500, quick=30) == (30 if quick else 500)


@pytest.mark.parametrize(
    "quick,cuda,expected",
    [("1", True, 1), ("1", False, 1), ("0", True, 10), ("0", False, 3)],
)
def test_budget_is_quick_then_gpu_then_cpu(monkeypatch, quick, cuda, expected):
    monkeypatch.setenv("BOOK_QUICK", quick)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    assert hp.budget(full=3, quick=1, gpu=10) == expected
    assert hp.run_mode() == {1: "quick", 10: "gpu", 3: "cpu"}[expected]
    # no GPU budget: the CPU one
    assert hp.budget(full=3, quick=1) == (1 if quick == "1" else 3)


def test_to_device_keeps_namedtuples():
    from collections import namedtuple

    Batch = namedtuple("Batch", ["X", "y"])
    moved = hp.to_device(Batch(torch.ones(2), [torch.zeros(1)]), "meta")
    assert (
        isinstance(moved, Batch)
        and moved.X.device.type == "meta"
        and moved.y[0].device.type == "meta"
    )


# ----------------------------------------------------- without a GPU, by monkeypatching


@pytest.fixture
def machine(monkeypatch):
    """Pretend hardware: set .cuda / .mps / .count; torch's queries answer from it."""

    class Machine:
        cuda, mps, count = False, False, 0

    m = Machine()
    monkeypatch.setattr(torch.cuda, "is_available", lambda: m.cuda)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: m.count)
    monkeypatch.setattr(
        torch.cuda,
        "get_device_name",
        lambda device=None: f"Fake GPU {torch.device(device).index}",
    )
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: m.mps)
    return m


@pytest.mark.parametrize(
    "cuda,mps,expected",
    [
        (True, True, "cuda"),
        (True, False, "cuda"),
        (False, True, "mps"),
        (False, False, "cpu"),
    ],
)
def test_default_order_is_cuda_then_mps_then_cpu(machine, cuda, mps, expected):
    machine.cuda, machine.mps, machine.count = cuda, mps, int(cuda)
    assert hp.get_device() == torch.device(expected)
    # asking for the CPU always works
    assert hp.get_device("cpu") == torch.device("cpu")


def test_mps_check_survives_a_torch_without_mps(machine, monkeypatch):
    machine.mps = True
    assert hp.get_device("mps") == torch.device("mps")
    # an older torch: no torch.backends.mps
    monkeypatch.setattr(torch, "backends", types.SimpleNamespace())
    assert hp.get_device() == torch.device("cpu")


def test_asking_for_a_cuda_device_that_does_not_exist(machine):
    machine.cuda, machine.count = True, 1
    assert hp.get_device("cuda") == torch.device("cuda") and hp.get_device(
        "cuda:0"
    ) == torch.device("cuda:0")
    with pytest.raises(
        RuntimeError,
        match=r"^device 'cuda:1' was requested, but only 1 CUDA device\(s\) exist\.$",
    ):
        hp.get_device("cuda:1")
    machine.count = 2
    assert hp.get_device(torch.device("cuda:1")) == torch.device("cuda:1")
    machine.cuda, machine.count = False, 0
    with pytest.raises(
        RuntimeError,
        match=r"^device 'cuda:0' was requested, but CUDA is not available on this "
        r"machine\.$",
    ):
        hp.get_device("cuda:0")
    with pytest.raises(
        RuntimeError,
        match=r"^device 'mps' was requested, but Apple MPS is not available on "
        r"this machine\.$",
    ):
        hp.get_device("mps")


def test_device_name(machine):
    assert hp.device_name() == "cpu" and hp.device_name("cpu") == "cpu"
    machine.cuda, machine.count = True, 2
    assert (
        hp.device_name() == "Fake GPU None" and hp.device_name("cuda:1") == "Fake GPU 1"
    )
    assert hp.device_name("cpu") == "cpu"  # the named device, not the best one
    machine.mps = True
    assert hp.device_name("mps") == "mps"


def test_different_seeds_give_different_draws(monkeypatch):
    monkeypatch.setenv("PYTHONHASHSEED", "")

    def draw():
        return random.random(), float(np.random.rand()), torch.randn(3).tolist()

    hp.seed_everything(1)
    one = draw()
    assert os.environ["PYTHONHASHSEED"] == "1"
    hp.seed_everything(2)
    two = draw()
    assert (
        all(a != b for a, b in zip(one, two, strict=True))
        and os.environ["PYTHONHASHSEED"] == "2"
    )
    hp.seed_everything()
    default = draw()
    hp.seed_everything(0)
    assert draw() == default  # the default seed is 0


def test_to_device_meta_moves_every_leaf():
    from collections import namedtuple

    Pair = namedtuple("Pair", "a b")
    net = torch.nn.Linear(2, 2)
    tree = {
        "x": torch.ones(2),
        "nested": [(torch.zeros(1), {"deep": torch.ones(3)}), Pair(torch.ones(1), 5)],
        "net": net,
        "name": "keep",
        "n": 3,
    }
    moved = hp.to_device(tree, "meta")
    leaves = [
        moved["x"],
        moved["nested"][0][0],
        moved["nested"][0][1]["deep"],
        moved["nested"][1].a,
        net.weight,
        net.bias,
    ]
    assert all(t.device.type == "meta" for t in leaves)
    assert (
        type(moved["nested"]) is list
        and type(moved["nested"][0]) is tuple
        and type(moved["nested"][1]) is Pair
    )
    assert (
        moved["nested"][1].b == 5
        and moved["name"] == "keep"
        and moved["n"] == 3
        and moved["net"] is net
    )
    assert tree["x"].device.type == "cpu"  # tensors are copied, the input is left alone


@pytest.mark.parametrize("value", ["2", "y", "quick", "ja", "1.0"])
def test_an_unknown_book_quick_is_refused_not_read_as_a_full_run(monkeypatch, value):
    """Read as "not quick", a typo would start the full budgets (hours on a CPU) without
    a word."""
    monkeypatch.setenv("BOOK_QUICK", value)
    message = (
        r"^BOOK_QUICK must be one of 1, true, yes, on \(quick runs\) or 0, false, "
        r"no, off or empty \(full runs\), "
        rf"got '{re.escape(value)}'; e\.g\. BOOK_QUICK=1$"
    )
    with pytest.raises(ValueError, match=message):
        hp.is_quick()
    with pytest.raises(ValueError, match=message):
        hp.budget(full=3, quick=1)


@pytest.mark.parametrize("name", ["gpu", "cuda:x", 3.5])
def test_a_device_name_that_is_no_device_is_refused(name):
    with pytest.raises(
        ValueError,
        match=r"^device must be 'cuda', 'cuda:1', 'mps', 'cpu' or None \(the "
        rf"best available\), got {re.escape(repr(name))}$",
    ):
        hp.get_device(name)
