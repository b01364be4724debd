"""Channels-last in hp.train / hp.evaluate / hp.predict (issue 9): chosen for conv
models on 4-D images, off on request, where it changes only rounding, and the same in
all three."""

from __future__ import annotations

import torch
from torch import nn

import helpers as hp
import helpers.train as train_module


def _cnn() -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(1, 4, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(4, 8, 3),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(8 * 11 * 11, 10),
    )


def _data(n: int = 96):
    g = torch.Generator().manual_seed(0)
    return torch.rand(n, 1, 28, 28, generator=g), torch.randint(
        0, 10, (n,), generator=g
    )


def _hand_loop(model: nn.Module, X, y, epochs: int, lr: float) -> None:
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    for _ in range(epochs):
        loss = nn.functional.cross_entropy(model(X), y)
        opt.zero_grad()
        loss.backward()
        opt.step()


def test_channels_last_false_is_the_plain_loop_bit_for_bit():
    X, y = _data()
    torch.manual_seed(0)
    a, b = _cnn(), _cnn()
    b.load_state_dict(a.state_dict())
    hp.train(
        a,
        (X, y),
        epochs=3,
        optimizer=torch.optim.SGD(a.parameters(), lr=0.1),
        device="cpu",
        channels_last=False,
        progress=False,
    )
    _hand_loop(b, X, y, epochs=3, lr=0.1)
    assert all(
        torch.equal(pa, pb)
        for pa, pb in zip(a.parameters(), b.parameters(), strict=True)
    )
    assert a[3].weight.is_contiguous()


def test_default_runs_conv_models_channels_last_and_changes_only_rounding():
    X, y = _data()
    torch.manual_seed(0)
    a, b = _cnn(), _cnn()
    b.load_state_dict(a.state_dict())
    hp.train(
        a,
        (X, y),
        epochs=3,
        optimizer=torch.optim.SGD(a.parameters(), lr=0.1),
        device="cpu",
        progress=False,
    )
    _hand_loop(b, X, y, epochs=3, lr=0.1)
    assert (
        a[3].weight.is_contiguous(memory_format=torch.channels_last)
        and not a[3].weight.is_contiguous()
    )
    diffs = [
        (pa - pb).abs().max().item()
        for pa, pb in zip(a.parameters(), b.parameters(), strict=True)
    ]
    assert max(diffs) < 1e-5, diffs


def test_models_without_convolutions_and_flat_inputs_stay_in_the_default_layout():
    X, _y = _data()
    mlp = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    assert not train_module._use_channels_last(mlp, X, None)
    assert not train_module._use_channels_last(_cnn(), X.flatten(1), None)
    assert train_module._use_channels_last(_cnn(), X, None)
    assert train_module._use_channels_last(mlp, X, True)


def test_evaluate_and_predict_agree_with_the_training_loops_test_accuracy():
    X, y = _data(300)
    torch.manual_seed(0)
    net = _cnn()
    history = hp.train(
        net,
        (X[:200], y[:200]),
        (X[200:], y[200:]),
        epochs=2,
        batch_size=32,
        device="cpu",
        progress=False,
    )
    n_right = round(history.test_acc[-1] * 100)
    assert round(hp.evaluate(net, X[200:], y[200:]) * 100) == n_right
    assert (hp.predict(net, X[200:]) == y[200:]).sum().item() == n_right
    plain = hp.evaluate(net, X[200:], y[200:], channels_last=False)
    # the NCHW path may round a borderline image differently
    assert abs(plain - history.test_acc[-1]) <= 0.02
