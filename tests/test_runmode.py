"""The GPU-time estimate that each chapter quotes for its GPU budget."""

from __future__ import annotations

import pytest

import helpers as hp
from helpers.runmode import T4_FLOPS, T4_SECONDS_PER_STEP


def test_estimate_counts_six_flops_per_training_mac_and_two_per_test_mac():
    # 1e9 multiply-adds per image: 1,000 images trained (6e12 FLOPs) and 500 tested
    # (1e12), at 1e12 FLOP/s, plus 8 steps of 0.5 s.
    assert hp.gpu_seconds_estimate(
        10**9, 1_000, 500, 8, flops=1e12, seconds_per_step=0.5
    ) == pytest.approx(7 + 4)


def test_estimate_uses_the_stated_t4_figures_by_default():
    # VGG-11 at 224 px, 10 epochs
    seconds = hp.gpu_seconds_estimate(7_547_000_000, 600_000, 100_000, 4_690)
    expected = (
        6 * 7_547_000_000 * 600_000 + 2 * 7_547_000_000 * 100_000
    ) / T4_FLOPS + 4_690 * T4_SECONDS_PER_STEP
    assert seconds == pytest.approx(expected) and 30 * 60 < seconds < 34 * 60


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"macs_per_image": -1}, "macs_per_image must be a non-negative int, got -1"),
        ({"train_images": 1.5}, "train_images must be a non-negative int, got 1.5"),
        ({"steps": None}, "steps must be a non-negative int, got None"),
        ({"flops": 0}, "flops must be > 0"),
        ({"seconds_per_step": -1.0}, "seconds_per_step >= 0"),
    ],
)
def test_estimate_refuses_impossible_inputs(kwargs, message):
    args = {
        "macs_per_image": 10,
        "train_images": 10,
        "test_images": 10,
        "steps": 1,
    } | kwargs
    with pytest.raises(ValueError, match=message):
        hp.gpu_seconds_estimate(**args)
