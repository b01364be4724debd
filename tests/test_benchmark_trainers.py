"""benchmarks/trainers.py: the rounds' order, the summary, the plan (no training, no
d2l needed)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import results_file  # noqa: E402
import trainers  # noqa: E402


def test_rounds_alternate_the_order_of_the_variants():
    names = list(trainers.VARIANTS)
    assert [trainers.round_order(r) for r in (1, 2, 3, 4)] == [
        names,
        names[::-1],
        names,
        names[::-1],
    ]
    assert (
        names[0] == "d2l_plot" and names[-1] == "hp"
    )  # neighbours differ in one thing


def test_summary_is_the_median_and_range_of_the_rounds():
    runs = [
        {"variant": "hp", "s_per_epoch": s, "test_acc": a}
        for s, a in [(3.0, 0.7), (1.0, 0.9), (2.0, 0.8)]
    ]
    runs.append({"variant": "d2l", "s_per_epoch": 5.0, "test_acc": 0.5})
    summary = trainers.summarise(runs)
    assert summary["hp"] == {
        "s_median": 2.0,
        "s_min": 1.0,
        "s_max": 3.0,
        "acc_median": 0.8,
        "acc_min": 0.7,
        "acc_max": 0.9,
    }
    assert set(summary) == {"hp", "d2l"}  # variants without runs are left out


def test_the_default_run_is_planned_under_40_minutes_and_scales_with_its_size():
    w = trainers.WORKLOADS
    total = sum(trainers.plan_seconds(name, wl, 3) for name, wl in w.items())
    assert 15 * 60 < total < 40 * 60, total / 60
    lenet = trainers.plan_seconds("lenet", w["lenet"], 3)
    assert trainers.plan_seconds("lenet", w["lenet"], 1) == pytest.approx(lenet / 3)
    vgg = w["vgg"]
    assert (
        vgg.optimizer == "Adam" and vgg.lr == 1e-3 and vgg.size == 32
    )  # chapter 09's CPU recipe


def test_hp_batches_serve_d2l_trainer_as_a_loader():
    X, y = torch.arange(300, dtype=torch.uint8).reshape(300, 1, 1, 1), torch.arange(300)
    loader = trainers.Batches(X, y, shuffle=False, transform=lambda xb: xb.float())
    assert len(loader) == 3 == len(list(loader))  # 128 + 128 + 44
    first, labels = next(iter(loader))
    assert first.dtype == torch.float32 and labels.tolist() == list(range(128))
    data = trainers.HpData((X, y), (X[:10], y[:10]), transform=lambda xb: xb)
    assert len(data.val_dataloader()) == 1 and len(data.train_dataloader()) == 3


def test_merge_keeps_the_other_workloads_rows(tmp_path, monkeypatch):
    path = tmp_path / "t.json"
    path.write_text(
        json.dumps(
            {
                "machine": {},
                "results": [
                    {"workload": "vgg", "old": True},
                    {"workload": "lenet", "old": True},
                ],
            }
        )
    )
    monkeypatch.setattr(
        trainers,
        "run_workload",
        lambda name, *a: {"workload": name, "runs": [], "summary": {}},
    )
    monkeypatch.setattr(trainers, "print_summary", lambda row: None)
    commits = iter(["start", "later", "later"])  # HEAD moves while the run goes on
    monkeypatch.setattr(results_file, "git_commit", lambda: next(commits))
    monkeypatch.setitem(sys.modules, "d2l", type(sys)("d2l"))
    monkeypatch.setitem(sys.modules, "d2l.torch", type(sys)("d2l.torch"))
    monkeypatch.setattr(
        sys,
        "argv",
        [
            "trainers.py",
            "--workload",
            "lenet",
            "--rounds",
            "1",
            "--device",
            "cpu",
            "--json",
            str(path),
            "--merge",
        ],
    )
    trainers.main()
    rows = json.loads(path.read_text())["results"]
    assert [(r["workload"], r.get("old", False)) for r in rows] == [
        ("lenet", False),
        ("vgg", True),
    ]
    assert rows[0]["measured"]["rounds"] == 1 and "date" in rows[0]["measured"]
    # the file names the commit read at the start, as every row of this run does
    machine = json.loads(path.read_text())["machine"]
    assert machine["commit"] == rows[0]["measured"]["commit"] == "start"
