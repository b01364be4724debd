"""The training loop: it learns, it records, it refuses what it cannot do."""

from __future__ import annotations

import importlib
import warnings

import pytest
import torch
from torch import nn

import helpers as hp
import helpers.train as train_module


@pytest.fixture(scope="module")
def fashion(data_dir):
    train = hp.load_data("fashion_mnist", "train", n=3000, root=data_dir)
    test = hp.load_data("fashion_mnist", "test", n=1000, root=data_dir)
    return train, test


@pytest.mark.slow
def test_short_cpu_run_beats_stated_accuracy(fashion):
    """Modern LeNet-5, 3,000 images, 5 epochs of mini-batches (about 2 s on 2 cores): >
    72% test accuracy."""
    train, test = fashion
    hp.seed_everything(0)
    net = hp.lenet5(modern=True)
    net.apply(hp.init_xavier)
    history = hp.train(
        net, train, test, epochs=5, batch_size=64, device="cpu", progress=False
    )
    assert history.epochs == 5 and len(history.train_acc) == len(history.test_acc) == 5
    assert history.train_loss[-1] < history.train_loss[0]
    assert history.test_acc[-1] > 0.72
    assert hp.evaluate(net, *test) == pytest.approx(history.test_acc[-1])
    assert not net.training  # left in eval mode


def _lecture_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 16, 2),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(2704, 10),
    )


def test_full_batch_with_one_hot_equals_integer_labels(fashion):
    (X, y), _ = fashion
    X, y = X[:500], y[:500]
    runs = []
    for labels in (y, hp.to_one_hot(y)):
        torch.manual_seed(0)
        net = _lecture_cnn()
        runs.append(hp.train(net, (X, labels), epochs=3, device="cpu", progress=False))
    assert runs[0].train_loss == pytest.approx(runs[1].train_loss, rel=1e-5)
    # 3 Adam steps: 0.052 → 0.314
    assert runs[0].train_acc == runs[1].train_acc and runs[0].train_acc[-1] > 0.3


def test_full_batch_step_is_the_lectures_loop():
    """One hp.train epoch with batch_size=None is exactly forward, loss, backward, Adam
    step."""
    torch.manual_seed(0)
    X, y = torch.randn(64, 1, 28, 28), torch.randint(0, 10, (64,))
    a = _lecture_cnn()
    b = _lecture_cnn()
    b.load_state_dict(a.state_dict())
    hp.train(a, (X, y), epochs=2, device="cpu", progress=False)
    opt = torch.optim.Adam(b.parameters())
    for _ in range(2):
        loss = nn.functional.cross_entropy(b(X), y)
        loss.backward()
        opt.step()
        opt.zero_grad()
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.allclose(pa, pb, atol=1e-6)


def test_accuracy_accepts_labels_or_one_hot():
    logits = torch.tensor([[2.0, 1.0], [0.0, 3.0], [1.0, 0.0]])
    y = torch.tensor([0, 1, 1])
    assert hp.accuracy(logits, y).item() == pytest.approx(2 / 3)
    assert hp.accuracy(logits, hp.to_one_hot(y, 2)).item() == pytest.approx(2 / 3)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_never_silently_trains_on_cpu_when_cuda_was_asked_for():
    with pytest.raises(
        RuntimeError,
        match=r"^device 'cuda' was requested, but CUDA is not available on this "
        r"machine\.$",
    ):
        hp.train(
            nn.Linear(4, 2),
            (torch.randn(8, 4), torch.randint(0, 2, (8,))),
            epochs=1,
            device="cuda",
            progress=False,
        )


@pytest.mark.parametrize(
    "kwargs,message",
    [({"epochs": 0}, r"epochs must be a positive int, got 0"),
     ({"epochs": 2.0}, r"epochs must be a positive int, got 2\.0"),
     ({"epochs": 1, "amp": True, "device": "cpu"}, r"amp=True needs a CUDA "
                                                   r"device; training runs on cpu"),
     ({"epochs": 1, "train_data": (torch.randn(8, 4), torch.zeros(7))},
      r"train_data: X and y must hold the same, non-zero number of examples \(8 "
      r"vs 7\)"),
     ({"epochs": 1, "train_data": (torch.randn(0, 4), torch.zeros(0))},
      r"train_data: X and y must hold the same, non-zero number of examples \(0 "
      r"vs 0\)"),
     ({"epochs": 1, "test_data": (torch.randn(3, 4), torch.zeros(2))},
      r"test_data: X and y must hold the same, non-zero number of examples "
      r"\(3 vs 2\)"),
     ({"epochs": 1, "train_data": torch.randn(8, 4)},
      r"train_data must be a pair of tensors \(X, y\), got a Tensor; e\.g\. "
      r"hp\.train\(model, \(X, y\), \(X_test, y_test\), epochs=\.\.\.\)"),
     ({"epochs": 1, "train_data": (torch.randn(8, 4), torch.zeros(8), torch.zeros(8))},
      r"train_data must be a pair of tensors \(X, y\), got a tuple of \(Tensor, "
      r"Tensor, Tensor\); e\.g\. .*"),
     ({"epochs": 1, "train_data": (torch.randn(8, 4), [0] * 8)},
      r"train_data must be a pair of tensors \(X, y\), got a tuple of \(Tensor, "
      r"list\); .*")],
)  # fmt: skip
def test_bad_training_arguments(kwargs, message):
    kwargs.setdefault("train_data", (torch.randn(8, 4), torch.randint(0, 2, (8,))))
    with pytest.raises(ValueError, match=f"^{message}$"):
        hp.train(nn.Linear(4, 2), kwargs.pop("train_data"), progress=False, **kwargs)
    with pytest.raises(
        ValueError,
        match=r"^evaluate data: X and y must hold the same, non-zero number of "
        r"examples \(4 vs 3\)$",
    ):
        hp.evaluate(nn.Linear(4, 2), torch.randn(4, 4), torch.zeros(3))


def test_uint8_with_per_batch_resize_trains_exactly_like_resizing_first(data_dir):
    """Same seed, same order: storing uint8 and resizing each batch gives the run of
    resizing up front."""
    X8, y = hp.load_data(
        "fashion_mnist", "test", n=600, root=data_dir, dtype=torch.uint8
    )
    Xr, _ = hp.load_data("fashion_mnist", "test", n=600, root=data_dir, resize=32)
    # > one eval batch
    Xt8, yt = hp.load_data(
        "fashion_mnist", "train", n=1500, root=data_dir, dtype=torch.uint8
    )
    Xtr, _ = hp.load_data("fashion_mnist", "train", n=1500, root=data_dir, resize=32)
    runs = []
    for train_data, test_data, transform in [
        ((Xr, y), (Xtr, yt), None),
        ((X8, y), (Xt8, yt), hp.resize_to(32)),
    ]:
        hp.seed_everything(0)
        net = hp.lenet5(image_size=32, modern=True)
        h = hp.train(
            net,
            train_data,
            test_data,
            epochs=2,
            batch_size=64,
            device="cpu",
            progress=False,
            transform=transform,
        )
        runs.append(
            (h, net, hp.evaluate(net, *test_data, batch_size=500, transform=transform))
        )
    (h0, net0, acc0), (h1, net1, acc1) = runs
    assert h1.train_loss == pytest.approx(
        h0.train_loss, rel=1e-4
    ) and h1.test_acc == pytest.approx(h0.test_acc, abs=1e-3)
    assert acc1 == pytest.approx(acc0, abs=1e-3) and acc1 == pytest.approx(
        h1.test_acc[-1]
    )
    for a, b in zip(net0.parameters(), net1.parameters(), strict=True):
        assert torch.allclose(a, b, atol=1e-4)


def test_uint8_without_transform_is_scaled_to_unit_range():
    torch.manual_seed(0)
    X8 = torch.randint(0, 256, (32, 1, 8, 8), dtype=torch.uint8)
    y = torch.randint(0, 3, (32,))
    net = nn.Sequential(nn.Flatten(), nn.Linear(64, 3))
    assert hp.evaluate(net, X8, y) == hp.evaluate(net, X8.float() / 255, y)
    a, b = (nn.Sequential(nn.Flatten(), nn.Linear(64, 3)) for _ in range(2))
    b.load_state_dict(a.state_dict())
    la = hp.train(a, (X8, y), epochs=2, device="cpu", progress=False).train_loss
    lb = hp.train(
        b, (X8.float() / 255, y), epochs=2, device="cpu", progress=False
    ).train_loss
    assert la == lb


@pytest.mark.parametrize(
    "capability,dtype,scaled",
    [
        ((7, 5), torch.float16, True),
        ((8, 0), torch.bfloat16, False),
        ((9, 0), torch.bfloat16, False),
    ],
)
def test_mixed_precision_uses_native_bf16_only(monkeypatch, capability, dtype, scaled):
    """T4 (7.5) reports bf16 'supported' through emulation; it must get float16 + loss
    scaling."""
    # the module (hp.train is the function)
    train_module = importlib.import_module("helpers.train")

    monkeypatch.setattr(
        torch.cuda, "is_bf16_supported", lambda including_emulation=True: True
    )
    monkeypatch.setattr(
        torch.cuda, "get_device_capability", lambda device=None: capability
    )
    enabled, chosen = train_module._amp_settings(torch.device("cuda"), None)
    assert enabled and chosen == dtype
    assert (
        chosen == torch.float16
    ) is scaled  # train() enables the GradScaler exactly for float16
    assert train_module._amp_settings(torch.device("cuda"), False)[0] is False
    assert train_module._amp_settings(torch.device("cpu"), None) == (
        False,
        torch.float32,
    )


def test_float64_images_get_a_clear_error():
    X, y = torch.randn(8, 4, dtype=torch.float64), torch.randint(0, 2, (8,))
    with pytest.raises(
        ValueError,
        match=r"X is torch.float64 but the model's parameters are torch.float32",
    ):
        hp.train(nn.Linear(4, 2), (X, y), epochs=1, device="cpu", progress=False)


# ------------------------------------------------------------------- meaning, not shape


def _bn_dropout_net() -> nn.Sequential:
    """Batch norm and dropout: train and eval mode compute different things, and dropout
    draws random numbers."""
    return nn.Sequential(
        nn.Conv2d(1, 4, 3),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.Flatten(),
        nn.Dropout(0.3),
        nn.Linear(4 * 6 * 6, 3),
    )


def _toy_data(n: int, seed: int):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 1, 8, 8, generator=g), torch.randint(0, 3, (n,), generator=g)


def _hand_written_loop(net, X, y, X_test, y_test, epochs, batch_size):
    """What hp.train promises: per epoch one randperm from the global generator, Adam
    steps on shuffled mini-batches in train mode, the epoch loss weighted by batch size,
    then the test accuracy in eval mode over evaluation batches of batch_size."""
    opt = torch.optim.Adam(net.parameters())
    losses, train_acc, test_acc = [], [], []
    for _ in range(epochs):
        net.train()
        loss_sum, correct = torch.zeros(()), torch.zeros((), dtype=torch.long)
        order = torch.randperm(len(X))
        for start in range(0, len(X), batch_size):
            idx = order[start : start + batch_size]
            logits = net(X[idx])
            loss = nn.functional.cross_entropy(logits, y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss_sum += loss.detach() * len(idx)
            correct += (logits.argmax(1) == y[idx]).sum()
        net.eval()
        with torch.no_grad():
            right = sum(
                (
                    net(X_test[i : i + batch_size]).argmax(1)
                    == y_test[i : i + batch_size]
                ).sum()
                for i in range(0, len(X_test), batch_size)
            )
        values = torch.stack(
            [loss_sum / len(X), correct.float() / len(X), right.float() / len(X_test)]
        ).tolist()
        (
            losses.append(values[0]),
            train_acc.append(values[1]),
            test_acc.append(values[2]),
        )
    return losses, train_acc, test_acc


def test_mini_batch_training_is_the_hand_written_loop_exactly():
    """Batch norm + dropout, 150 examples in batches of 32 (the last one 22), a test set
    of 100 (four evaluation batches): same parameters, running statistics, losses and
    accuracies, bit for bit."""
    X, y = _toy_data(150, seed=1)
    X_test, y_test = _toy_data(100, seed=2)
    torch.manual_seed(0)
    ours, theirs = _bn_dropout_net(), _bn_dropout_net()
    theirs.load_state_dict(ours.state_dict())
    hp.seed_everything(7)
    history = hp.train(
        ours,
        (X, y),
        (X_test, y_test),
        epochs=3,
        batch_size=32,
        device="cpu",
        channels_last=False,
        progress=False,
    )
    hp.seed_everything(7)
    losses, train_acc, test_acc = _hand_written_loop(
        theirs, X, y, X_test, y_test, epochs=3, batch_size=32
    )
    for (name, a), b in zip(
        ours.state_dict().items(), theirs.state_dict().values(), strict=True
    ):
        assert torch.equal(a, b), name
    assert (
        history.train_loss == losses
        and history.train_acc == train_acc
        and history.test_acc == test_acc
    )
    # the numbers are not trivial
    assert len(set(test_acc)) > 1 and min(test_acc) > 0 and max(train_acc) < 1
    assert not ours.training and 0 < history.seconds < 60


def test_another_seed_gives_another_shuffle():
    X, y = _toy_data(150, seed=1)
    runs = []
    for seed in (7, 8):
        torch.manual_seed(0)
        # no dropout: only the order is random
        net = nn.Sequential(nn.Flatten(), nn.Linear(64, 3))
        hp.seed_everything(seed)
        runs.append(
            hp.train(
                net, (X, y), epochs=1, batch_size=32, device="cpu", progress=False
            ).train_loss
        )
    assert runs[0] != runs[1]


def test_full_batch_with_a_large_test_set_counts_every_evaluation_batch():
    """Full-batch training evaluates in batches of 1,024: a 2,500-image test set spans
    three."""
    X, y = _toy_data(64, seed=3)
    X_test, y_test = _toy_data(2500, seed=4)
    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(64, 3))
    # the epoch's train accuracy and loss are those of the logits before the step
    with torch.no_grad():
        train_acc, train_loss = (
            hp.accuracy(net(X), y).item(),
            nn.functional.cross_entropy(net(X), y).item(),
        )
    history = hp.train(
        net, (X, y), (X_test, y_test), epochs=1, device="cpu", progress=False
    )
    with torch.no_grad():
        expected = (net(X_test).argmax(1) == y_test).sum().item() / 2500
    assert (
        history.test_acc == [pytest.approx(expected, abs=1e-7)]
        and expected != train_acc
    )
    assert history.train_acc == [
        pytest.approx(train_acc, abs=1e-7)
    ] and history.train_loss == [pytest.approx(train_loss, rel=1e-6)]


def test_evaluate_uses_eval_mode_and_restores_mode_and_running_statistics():
    X, y = _toy_data(100, seed=5)
    torch.manual_seed(0)
    net = _bn_dropout_net()
    net.train()
    net(X)  # running statistics away from their initial values
    before = {k: v.clone() for k, v in net.state_dict().items()}
    acc = hp.evaluate(net, X, y, batch_size=16)  # seven batches, the last one of 4
    assert net.training and all(
        torch.equal(v, before[k]) for k, v in net.state_dict().items()
    )
    net.eval()
    with torch.no_grad():
        expected = (net(X).argmax(1) == y).sum().item() / 100
    assert acc == expected
    net.eval()
    # eval mode stays eval mode
    assert hp.evaluate(net, X, y) == expected and not net.training


def test_evaluate_a_model_without_parameters_on_the_data_device():
    logits = torch.tensor([[2.0, 1.0], [0.0, 3.0], [1.0, 0.0], [0.0, 1.0]])
    y = torch.tensor([0, 1, 1, 1])
    assert hp.evaluate(nn.Identity(), logits, y, batch_size=3) == 0.75
    for batch_size in (1, 4):  # one-hot rows: the class is each row's arg-max
        assert (
            hp.evaluate(
                nn.Identity(), logits, hp.to_one_hot(y, 2), batch_size=batch_size
            )
            == 0.75
        )


def test_train_with_a_given_optimizer_and_loss():
    """The given optimizer and loss are the ones used: SGD with lr 0 changes nothing, a
    loss that is zero gives zero loss."""
    X, y = _toy_data(40, seed=6)
    net = nn.Sequential(nn.Flatten(), nn.Linear(64, 3))
    before = [p.clone() for p in net.parameters()]
    h = hp.train(
        net,
        (X, y),
        epochs=2,
        batch_size=16,
        optimizer=torch.optim.SGD(net.parameters(), lr=0.0),
        loss_fn=lambda logits, yb: (logits * 0).sum(),
        device="cpu",
        progress=False,
    )
    assert h.train_loss == [0.0, 0.0] and all(
        torch.equal(a, b) for a, b in zip(before, net.parameters(), strict=True)
    )


def test_progress_bar_only_when_asked(capsys):
    X, y = _toy_data(16, seed=0)
    hp.train(
        nn.Sequential(nn.Flatten(), nn.Linear(64, 3)),
        (X, y),
        epochs=1,
        device="cpu",
        progress=False,
    )
    assert capsys.readouterr().err == ""
    h = hp.train(
        nn.Sequential(nn.Flatten(), nn.Linear(64, 3)),
        (X, y),
        (X[:5], y[:5]),
        epochs=2,
        device="cpu",
        desc="lenet",
    )
    lines = [
        line
        for line in capsys.readouterr().err.replace("\r", "\n").splitlines()
        if line
    ]
    assert (
        lines[-1].startswith("lenet: 100%|")
        and " 2/2 " in lines[-1]
        and all(len(line) == 100 for line in lines)
    )
    assert lines[-1].endswith(
        f"loss={h.train_loss[-1]:.4f}, train_acc={h.train_acc[-1]:.3f}, "
        f"test_acc={h.test_acc[-1]:.3f}]"
    )
    # three different numbers in their places
    assert len({h.train_loss[-1], h.train_acc[-1], h.test_acc[-1]}) == 3


def test_helpers_train_imports_as_the_module_and_hp_train_still_trains():
    """`helpers.train` is the submodule and the function: `import helpers.train as m`
    used to give the function."""
    import inspect

    import helpers.train as train_module

    assert train_module.evaluate is hp.evaluate and train_module.History is hp.History
    assert importlib.import_module("helpers.train") is train_module is hp.train
    assert list(inspect.signature(hp.train).parameters)[:3] == [
        "model",
        "train_data",
        "test_data",
    ]
    X, y = _toy_data(16, seed=0)
    assert (
        hp.train(
            nn.Sequential(nn.Flatten(), nn.Linear(64, 3)),
            (X, y),
            epochs=2,
            device="cpu",
            progress=False,
        ).epochs
        == 2
    )


def test_float_images_must_match_the_model_but_uint8_is_converted():
    X8, y = torch.randint(0, 256, (8, 4), dtype=torch.uint8), torch.randint(0, 2, (8,))
    assert (
        hp.train(
            nn.Linear(4, 2), (X8, y), epochs=1, device="cpu", progress=False
        ).epochs
        == 1
    )
    net = nn.Linear(4, 2).double()
    assert (
        hp.train(net, (X8.double(), y), epochs=1, device="cpu", progress=False).epochs
        == 1
    )
    with pytest.raises(
        ValueError,
        match=r"^X is torch.float32 but the model's parameters are torch.float64: "
        r"convert one of them, e\.g\. X\.to\(torch.float64\)$",
    ):
        hp.train(net, (X8.float(), y), epochs=1, device="cpu", progress=False)
    # a model without parameters: nothing to check against
    free = torch.zeros(1, requires_grad=True)
    assert (
        hp.train(
            nn.Flatten(),
            (X8.double(), y),
            epochs=1,
            optimizer=torch.optim.SGD([free], lr=0.1),
            loss_fn=lambda logits, yb: free.sum(),
            device="cpu",
            progress=False,
        ).epochs
        == 1
    )


def test_layout_helpers_convert_only_what_they_should():
    X, X8 = torch.rand(2, 3, 4, 5), torch.zeros(2, 3, 4, 5, dtype=torch.uint8)
    prepared = train_module._prepare(X, torch.device("cpu"), True)
    assert (
        prepared.is_contiguous(memory_format=torch.channels_last)
        and not prepared.is_contiguous()
        and torch.equal(prepared, X)
    )
    assert train_module._prepare(X, torch.device("cpu"), False).is_contiguous()
    assert train_module._prepare(
        X8, torch.device("cpu"), True
    ).is_contiguous()  # uint8: converted per batch instead
    assert train_module._prepare(
        X[0], torch.device("cpu"), True
    ).is_contiguous()  # not 4-D
    assert train_module._batch_transform(X, None, False) is None
    to_float = train_module._batch_transform(X8, None, False)
    assert to_float is hp.to_float
    last = train_module._batch_transform(X8 + 51, None, True)(X8 + 51)
    assert (
        last.dtype == torch.float32
        and last.is_contiguous(memory_format=torch.channels_last)
        and torch.allclose(last, torch.full_like(last, 0.2))
    )
    assert train_module._batch_transform(X, None, True)(X).is_contiguous(
        memory_format=torch.channels_last
    )
    assert train_module._batch_transform(X[0], lambda xb: xb * 2, True)(
        X[0]
    ).is_contiguous()  # 3-D: no layout change
    doubled = train_module._batch_transform(X, lambda xb: xb * 2, True)(X)
    assert torch.equal(doubled, X * 2) and doubled.is_contiguous(
        memory_format=torch.channels_last
    )


def test_the_model_is_moved_to_the_training_device():
    """On a machine with only a CPU the move is invisible; a model that records its
    moves shows it."""
    moves = []

    class Recorded(nn.Sequential):
        def to(self, *args, **kwargs):
            moves.append((args, kwargs))
            return super().to(*args, **kwargs)

    X, y = _toy_data(16, seed=0)
    hp.train(
        Recorded(nn.Flatten(), nn.Linear(64, 3)),
        (X, y),
        epochs=1,
        device="cpu",
        progress=False,
    )
    assert moves == [((torch.device("cpu"),), {})]
    moves.clear()
    hp.train(
        Recorded(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(72, 3)),
        (X, y),
        epochs=1,
        device="cpu",
        progress=False,
    )
    assert moves == [
        ((torch.device("cpu"),), {}),
        ((), {"memory_format": torch.channels_last}),
    ]


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_mixed_precision_step_is_autocast_plus_loss_scaling_for_float16(
    monkeypatch, dtype
):
    """CUDA's mixed precision, run on the CPU (which has both autocast dtypes and a
    GradScaler): hp.train is PyTorch's recipe, step for step, with the scaler on exactly
    for float16."""
    GradScaler = torch.amp.GradScaler
    scalers = []

    class Recorded(GradScaler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            scalers.append(self)

    X, y = _toy_data(48, seed=1)
    X_test, y_test = _toy_data(40, seed=2)
    torch.manual_seed(0)
    ours, theirs, plain = (
        nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 3))
        for _ in range(3)
    )
    theirs.load_state_dict(ours.state_dict()), plain.load_state_dict(ours.state_dict())
    hp.seed_everything(0)
    fp32 = hp.train(
        plain,
        (X, y),
        (X_test, y_test),
        epochs=2,
        batch_size=16,
        device="cpu",
        progress=False,
    )
    monkeypatch.setattr(
        train_module, "_amp_settings", lambda device, amp: (True, dtype)
    )
    monkeypatch.setattr(torch.amp, "GradScaler", Recorded)
    hp.seed_everything(0)
    history = hp.train(
        ours,
        (X, y),
        (X_test, y_test),
        epochs=2,
        batch_size=16,
        device="cpu",
        progress=False,
    )
    assert (
        len(scalers) == 1
        and scalers[0]._device == "cpu"
        and scalers[0].is_enabled() is (dtype == torch.float16)
    )

    hp.seed_everything(0)
    opt, scaler = (
        torch.optim.Adam(theirs.parameters()),
        GradScaler("cpu", enabled=dtype == torch.float16),
    )
    losses, test_acc = [], []
    for _ in range(2):
        loss_sum = torch.zeros(())
        for idx in torch.randperm(48).split(16):
            with torch.autocast("cpu", dtype):
                loss = nn.functional.cross_entropy(theirs(X[idx]), y[idx])
            opt.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
            loss_sum += loss.detach().float() * 16
        with torch.no_grad(), torch.autocast("cpu", dtype):
            right = sum(
                (theirs(X_test[i : i + 16]).argmax(1) == y_test[i : i + 16]).sum()
                for i in range(0, 40, 16)
            )
        losses.append((loss_sum / 48).item()), test_acc.append(right.item() / 40)
    assert all(
        torch.equal(a, b)
        for a, b in zip(ours.parameters(), theirs.parameters(), strict=True)
    )
    assert history.train_loss == losses and history.test_acc == pytest.approx(
        test_acc, abs=1e-7
    )
    # the half-precision forward pass really ran
    assert history.train_loss != fp32.train_loss


def test_evaluate_uses_the_training_precision(monkeypatch):
    """Logits 1.000 and 1.001 are a tie in bfloat16 (8 bits of mantissa): evaluate under
    train's bfloat16 autocast picks class 0, in float32 class 1."""
    net = nn.Linear(2, 2, bias=False)
    with torch.no_grad():
        net.weight.copy_(torch.tensor([[1.0, 0.0], [1.0, 0.001]]))
    X, y = torch.ones(3, 2), torch.ones(3, dtype=torch.long)
    assert hp.evaluate(net, X, y) == 1.0
    monkeypatch.setattr(
        train_module, "_amp_settings", lambda device, amp: (True, torch.bfloat16)
    )
    assert hp.evaluate(net, X, y) == 0.0


def test_mixed_precision_asks_the_gpu_it_runs_on(monkeypatch):
    capability = {0: (7, 5), 1: (9, 0)}  # a T4 beside an H100
    monkeypatch.setattr(
        torch.cuda,
        "get_device_capability",
        lambda device=None: capability[torch.device(device).index],
    )
    assert train_module._amp_settings(torch.device("cuda:0"), None) == (
        True,
        torch.float16,
    )
    assert train_module._amp_settings(torch.device("cuda:1"), True) == (
        True,
        torch.bfloat16,
    )


class _Seen(nn.Module):
    """First layer of a model that records what reaches the model: layout and device of
    each batch."""

    def __init__(self):
        super().__init__()
        self.batches = []

    def forward(self, X):
        self.batches.append(
            (X.is_contiguous(memory_format=torch.channels_last), X.device.type, len(X))
        )
        return X


def _conv_net_that_sees():
    seen = _Seen()
    # 2 channels: the layouts differ
    return seen, nn.Sequential(seen, nn.Conv2d(2, 2, 3), nn.Flatten(), nn.Linear(72, 3))


@pytest.mark.parametrize("channels_last", [None, True, False])
def test_every_batch_reaches_the_model_in_the_chosen_layout(channels_last):
    """Channels-last, chosen for conv models on images (or as asked), holds for every
    training and test batch, also the index-gathered mini-batches that come back in the
    default layout."""
    X, y = _toy_data(40, seed=0)
    X = torch.cat([X, -X], dim=1)
    seen, net = _conv_net_that_sees()
    hp.train(
        net,
        (X, y),
        (X[:20], y[:20]),
        epochs=1,
        batch_size=16,
        channels_last=channels_last,
        device="cpu",
        progress=False,
    )
    want = channels_last is not False
    assert seen.batches == [
        (want, "cpu", 16),
        (want, "cpu", 16),
        (want, "cpu", 8),
        (want, "cpu", 16),
        (want, "cpu", 4),
    ]
    assert net[1].weight.is_contiguous(memory_format=torch.channels_last) is want
    seen.batches.clear()
    net2 = _conv_net_that_sees()[1]
    net2[0] = seen
    hp.evaluate(net2, X, y, batch_size=32, channels_last=channels_last)
    assert seen.batches == [(want, "cpu", 32), (want, "cpu", 8)]
    assert net2[1].weight.is_contiguous(memory_format=torch.channels_last) is want
    # uint8 images become float per batch (to_float keeps the stored layout): the layout
    # is set after that
    X8 = (X.sigmoid() * 255).to(torch.uint8)
    seen.batches.clear()
    hp.train(
        net,
        (X8, y),
        (X8[:20], y[:20]),
        epochs=1,
        batch_size=16,
        channels_last=channels_last,
        device="cpu",
        progress=False,
    )
    hp.evaluate(net2, X8, y, batch_size=32, channels_last=channels_last)
    assert seen.batches == [
        (want, "cpu", 16),
        (want, "cpu", 16),
        (want, "cpu", 8),
        (want, "cpu", 16),
        (want, "cpu", 4),
        (want, "cpu", 32),
        (want, "cpu", 8),
    ]


class _Stop(Exception):  # noqa: N818 (a control-flow signal, not an error)
    """Raised by a stand-in to end train or evaluate right after the step a test looks
    at."""


def test_cudnn_autotuning_is_switched_on_for_cuda_training(monkeypatch):
    """On CUDA, train lets cuDNN pick the fastest convolution algorithms (the shapes
    repeat every step); on the CPU it leaves the setting alone. No GPU needed: the CUDA
    run stops right after the choice."""

    def stop(*args):
        raise _Stop("stopped after the cuDNN choice")

    monkeypatch.setattr(torch.backends.cudnn, "benchmark", False)
    X, y = _toy_data(16, seed=0)
    # a whole CPU run
    hp.train(_bn_dropout_net(), (X, y), epochs=1, device="cpu", progress=False)
    assert torch.backends.cudnn.benchmark is False
    monkeypatch.setattr(train_module, "get_device", lambda device: torch.device(device))
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: (8, 0))
    monkeypatch.setattr(
        train_module, "_setup_model", lambda model, device, channels_last: None
    )
    monkeypatch.setattr(train_module, "_prepare", stop)
    with pytest.raises(_Stop, match="stopped after the cuDNN choice"):
        hp.train(
            nn.Linear(64, 3), (X.flatten(1), y), epochs=1, device="cuda", progress=False
        )
    assert torch.backends.cudnn.benchmark is True


def test_evaluate_runs_on_the_models_device(monkeypatch):
    """The batches go to the model's device (here 'meta', so the count itself cannot be
    read back)."""
    calls = []

    def count_correct(model, X, y, batch_size, autocast, transform, labels, name):
        calls.append((X.device.type, y.device.type, batch_size))
        raise _Stop("stopped before counting")

    monkeypatch.setattr(train_module, "_count_correct", count_correct)
    net = nn.Sequential(nn.Flatten(), nn.Linear(64, 3)).to("meta")
    X, y = _toy_data(10, seed=0)
    with pytest.raises(_Stop, match=r"^stopped before counting$"):
        hp.evaluate(net, X, y, batch_size=4)
    # the mode is restored after an error too
    assert calls == [("meta", "meta", 4)] and net.training


def test_mixed_precision_is_asked_off_on_the_cpu(monkeypatch):
    """What train and evaluate ask of torch.autocast on the CPU: the CPU, float32,
    disabled."""
    requests = []
    real = torch.autocast

    def autocast(device_type, dtype=None, enabled=True, cache_enabled=None):
        requests.append((device_type, dtype, enabled))
        return real(device_type, dtype, enabled=enabled)

    monkeypatch.setattr(torch, "autocast", autocast)
    X, y = _toy_data(20, seed=0)
    net = _bn_dropout_net()
    hp.train(net, (X, y), (X, y), epochs=1, batch_size=10, device="cpu", progress=False)
    hp.evaluate(net, X, y)
    assert requests and set(requests) == {("cpu", torch.float32, False)}


def test_default_progress_bar_says_train(capsys):
    X, y = _toy_data(8, seed=0)
    hp.train(
        nn.Sequential(nn.Flatten(), nn.Linear(64, 3)), (X, y), epochs=1, device="cpu"
    )
    assert capsys.readouterr().err.lstrip("\r").startswith("train: ")


def test_data_labels_and_counters_live_on_the_training_device(monkeypatch):
    """Train on the 'meta' device (shapes without data) from CPU tensors: the training
    and the test batches arrive there, and the epoch's sums accumulate there, until the
    one host read at the epoch's end, which meta tensors cannot answer."""
    import contextlib

    seen, real_batches = [], train_module.batches

    def batches(X, y, *args, **kwargs):
        seen.append((X.device.type, y.device.type, len(X)))
        return real_batches(X, y, *args, **kwargs)

    monkeypatch.setattr(train_module, "batches", batches)
    # none for 'meta'
    monkeypatch.setattr(
        torch, "autocast", lambda *args, **kwargs: contextlib.nullcontext()
    )
    X, y = torch.randn(8, 4), torch.randint(0, 2, (8,))
    with pytest.raises(NotImplementedError, match="Cannot copy out of meta tensor"):
        hp.train(
            nn.Linear(4, 2),
            (X, y),
            (X[:4], y[:4]),
            epochs=1,
            device="meta",
            progress=False,
        )
    assert seen == [("meta", "meta", 8), ("meta", "meta", 4)]


# ------------------------------------------------------ a learner's mistakes (issue 19)


def _mlp(outputs: int = 10) -> nn.Sequential:
    return nn.Sequential(nn.Flatten(), nn.Linear(64, outputs))


def _digits(n: int = 40, seed: int = 0):
    """n images 1×8×8 in [0, 1] and labels covering 0…9."""
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 1, 8, 8, generator=g), torch.arange(n) % 10


def test_an_optimizer_of_another_model_is_refused_before_any_step():
    """The optimiser left over from an earlier cell: it would step another network, and
    this one would never change."""
    X, y = _digits()
    net, other = _mlp(), _mlp()
    before = [p.clone() for p in net.parameters()]
    with pytest.raises(
        ValueError,
        match=r"^optimizer holds none of this model's parameters \(built for "
        r"another model, e\.g\. in an "
        r"earlier cell\?\), so nothing would train; build it from this one: "
        r"torch\.optim\.SGD\(model\.parameters\(\), \.\.\.\)$",
    ):
        hp.train(
            net,
            (X, y),
            epochs=1,
            optimizer=torch.optim.SGD(other.parameters(), lr=0.1),
            device="cpu",
            progress=False,
        )
    assert all(torch.equal(a, b) for a, b in zip(before, net.parameters(), strict=True))


def test_an_optimizer_that_misses_some_parameters_warns_and_trains_the_rest():
    X, y = _digits()
    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 10))
    optimizer = torch.optim.SGD(net.parameters(), lr=0.5)
    net[3] = nn.Linear(16, 10)  # replaced after the optimiser was built
    first, last = net[1].weight.clone(), net[3].weight.clone()
    with pytest.warns(
        UserWarning,
        match=r"^optimizer holds 2 of the model's 4 trainable parameters; the "
        r"others \(3\.weight, 3\.bias\) "
        r"will never change: build it after the last change to the model$",
    ):
        hp.train(
            net, (X, y), epochs=1, optimizer=optimizer, device="cpu", progress=False
        )
    assert not torch.equal(net[1].weight, first) and torch.equal(net[3].weight, last)


@pytest.mark.parametrize(
    "bias,listed",
    [
        (True, r"1\.weight, 1\.bias, 2\.weight, …"),
        (False, r"1\.weight, 1\.bias, 2\.weight"),
    ],
)
def test_the_missing_parameters_listed_are_at_most_three(bias, listed):
    net = nn.Sequential(nn.Linear(4, 4), nn.Linear(4, 4), nn.Linear(4, 4, bias=bias))
    optimizer = torch.optim.SGD(net[0].parameters(), lr=0.1)
    with pytest.warns(
        UserWarning,
        match=rf"holds 2 of the model's {5 + bias} trainable parameters; the "
        rf"others \({listed}\) will",
    ):
        hp.train(
            net,
            (torch.rand(8, 4), torch.arange(8) % 4),
            epochs=1,
            optimizer=optimizer,
            device="cpu",
            progress=False,
        )


def test_frozen_parameters_need_not_be_in_the_optimizer():
    """Fine-tuning the last layer only: the frozen ones are not the optimiser's business
    (no warning)."""
    net = nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 10))
    net[1].requires_grad_(False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hp.train(
            net,
            _digits(),
            epochs=1,
            optimizer=torch.optim.SGD(net[3].parameters(), lr=0.1),
            device="cpu",
            progress=False,
        )


@pytest.mark.parametrize("kwargs,message", [
    ({"optimizer": torch.optim.Adam},
     r"^optimizer must be built from the model's parameters, got the class Adam; "
     r"e\.g\. optimizer=torch\.optim\.Adam\(model\.parameters\(\), lr=0\.001\)$"),
    ({"optimizer": "adam"}, r"^optimizer must be a torch\.optim optimiser, got a str$"),
    ({"loss_fn": nn.CrossEntropyLoss}, r"^loss_fn must be a loss to call, got the "
                                       r"class CrossEntropyLoss; pass an "
                                       r"instance: "
                                       r"loss_fn=nn\.CrossEntropyLoss\(\)$"),
    ({"loss_fn": "cross_entropy"}, r"^loss_fn must be a function of \(logits, "
                                   r"y\), e\.g\. nn\.CrossEntropyLoss\(\), got "
                                   r"'cross_entropy'$"),
    ({"transform": hp.resize_to}, r"^transform must be a function of a batch, got "
                                  r"the class resize_to; build one with its size: "
                                  r"transform=hp\.resize_to\(224\)$"),
    ({"transform": 32}, r"^transform must be a function of a batch, got 32; to "
                        r"resize each batch to 32×32: "
                        r"transform=hp\.resize_to\(32\)$"),
    ({"transform": "resize"}, r"^transform must be a function of a batch, got "
                              r"'resize'$"),
    ({"batch_size": 32.5}, r"^batch_size must be a positive int \(or None for one "
                           r"full batch\), got 32\.5$"),
    ({"batch_size": True}, r"^batch_size must be a positive int \(or None for one "
                           r"full batch\), got True$"),
])  # fmt: skip
def test_a_class_or_a_value_where_an_object_belongs_is_refused(kwargs, message):
    X, y = _digits()
    with pytest.raises(ValueError, match=message):
        hp.train(_mlp(), (X, y), epochs=1, device="cpu", progress=False, **kwargs)


@pytest.mark.parametrize("transform,message", [
    (hp.resize_to, r"^transform must be a function of a batch, got the class "
                   r"resize_to; build one with its size"),
    (32, r"^transform must be a function of a batch, got 32; to resize each batch "
         r"to 32×32"),
])  # fmt: skip
def test_a_transform_that_is_no_function_is_refused_in_either_layout(
    transform, message
):
    """Also where each batch is made channels-last after the transform (a conv network's
    default), and in evaluate: the refusal comes before the transform is wrapped."""
    X, y = _digits()
    for channels_last in (True, False):
        with pytest.raises(ValueError, match=message):
            hp.train(
                _mlp(),
                (X, y),
                epochs=1,
                transform=transform,
                channels_last=channels_last,
                device="cpu",
                progress=False,
            )
        with pytest.raises(ValueError, match=message):
            hp.evaluate(_mlp(), X, y, transform=transform, channels_last=channels_last)


@pytest.mark.parametrize("lr", [float("nan"), float("inf")])
def test_a_learning_rate_that_is_no_number_is_refused(lr):
    net = _mlp()
    with pytest.raises(
        ValueError,
        match=rf"^optimizer has the learning rate {lr}; give a finite one, e\.g\. "
        r"lr=0\.01$",
    ):
        hp.train(
            net,
            _digits(),
            epochs=1,
            optimizer=torch.optim.SGD(net.parameters(), lr=lr),
            device="cpu",
            progress=False,
        )


@pytest.mark.parametrize("model,message", [
    (hp.lenet5, r"^model must be a network \(an nn\.Module\), got the function "
                r"lenet5; call it to build one: lenet5\(\.\.\.\)$"),
    (nn.Linear, r"^model must be a network \(an nn\.Module\), got the class "
                r"Linear; call it to build one: Linear\(\.\.\.\)$"),
    ("lenet", r"^model must be a network \(an nn\.Module\), got a str$"),
])  # fmt: skip
def test_train_and_evaluate_need_a_built_model(model, message):
    X, y = _digits()
    with pytest.raises(ValueError, match=message):
        hp.train(model, (X, y), epochs=1, device="cpu", progress=False)
    with pytest.raises(ValueError, match=message):
        hp.evaluate(model, X, y)


def test_labels_of_shape_n_by_1_are_refused_everywhere():
    X, y = _digits()
    net = _mlp()
    column = (
        r"labels of shape \(40, 1\) are one column, not class indices \(N,\) or "
        r"one-hot rows \(N, C\); flatten them: y\.flatten\(\)$"
    )
    with pytest.raises(ValueError, match="^y: " + column):
        hp.evaluate(net, X, y[:, None])
    with pytest.raises(ValueError, match="^y: " + column):
        hp.accuracy(net(X), y[:, None])
    with pytest.raises(ValueError, match="^train_data: " + column):
        hp.train(net, (X, y[:, None]), epochs=1, device="cpu", progress=False)
    with pytest.raises(ValueError, match="^test_data: " + column):
        hp.train(net, (X, y), (X, y[:, None]), epochs=1, device="cpu", progress=False)


@pytest.mark.parametrize("labels,message", [
    (lambda y: y.float(), r"^train_data: y must hold integer class indices, got "
                          r"torch\.float32; convert them: y\.long\(\)$"),
    (lambda y: y > 4, r"^train_data: y must hold integer class indices, got "
                      r"torch\.bool; convert them: y\.long\(\)$"),
    (lambda y: y[:, None, None], r"^train_data: labels must be class indices "
                                 r"\(N,\) or one-hot rows \(N, C\), got shape "
                                 r"\(40, 1, 1\)$"),
    (lambda y: y - 1, r"^train_data: class indices count from 0, got a label -1; "
                      r"shift them so the first class is 0$"),
])  # fmt: skip
def test_labels_that_are_not_class_indices_are_refused(labels, message):
    X, y = _digits()
    with pytest.raises(ValueError, match=message):
        hp.train(_mlp(), (X, labels(y)), epochs=1, device="cpu", progress=False)


def test_labels_the_model_has_no_output_for_are_refused():
    X, y = _digits()
    with pytest.raises(
        ValueError,
        match=r"^y: labels run from 1 to 10, but the model's 10 class scores are "
        r"classes 0 to 9; labels count "
        r"from 0: pass y - 1$",
    ):
        hp.evaluate(_mlp(), X, y + 1)
    too_few = (
        r"^model: returns 5 class scores \(classes 0 to 4\), but {} has labels up "
        r"to 9; build it with 10 outputs, e\.g\. num_classes=10$"
    )
    with pytest.raises(ValueError, match=too_few.format("y")):
        hp.evaluate(_mlp(5), X, y)
    with pytest.raises(ValueError, match=too_few.format("y")):
        hp.accuracy(_mlp(5)(X), y)
    # not torch's "Target 9 is out of bounds"
    with pytest.raises(ValueError, match=too_few.format("train_data")):
        hp.train(_mlp(5), (X, y), epochs=1, device="cpu", progress=False)
    with pytest.raises(ValueError, match=too_few.format("test_data")):
        hp.train(_mlp(5), (X, y % 5), (X, y), epochs=1, device="cpu", progress=False)


def test_labels_from_1_to_more_than_the_outputs_are_too_few_outputs():
    """1 … 11 on 10 outputs: not just shifted by one (the message names the outputs
    needed)."""
    X, _ = _digits(44)
    with pytest.raises(
        ValueError,
        match=r"^model: returns 10 class scores \(classes 0 to 9\), but y has "
        r"labels up to 11; build it with 12",
    ):
        hp.evaluate(_mlp(), X, torch.arange(44) % 11 + 1)


def test_one_hot_labels_must_have_a_column_per_output():
    X, y = _digits()
    with pytest.raises(
        ValueError,
        match=r"^y: one-hot labels have 12 columns but the model returns 10 class "
        r"scores; make them agree, "
        r"e\.g\. hp\.to_one_hot\(y, 10\)$",
    ):
        hp.evaluate(_mlp(), X, hp.to_one_hot(y, 12))
    net = _mlp(12)
    # as wide as the outputs: accepted
    assert hp.evaluate(net, X, hp.to_one_hot(y, 12)) == hp.evaluate(net, X, y)


@pytest.mark.parametrize(
    "call",
    [
        lambda net, X, y: hp.evaluate(net, X, y),
        lambda net, X, y: hp.accuracy(net(X), y),
        lambda net, X, y: hp.train(net, (X, y), epochs=1, device="cpu", progress=False),
    ],
)
def test_a_model_with_one_output_is_refused(call):
    """arg-max over one score is always class 0: the accuracy would be the share of
    class 0."""
    X, y = _digits()
    with pytest.raises(
        ValueError,
        match=r"^model: returns 1 score per example, but the predicted class is "
        r"the arg-max over C ≥ 2 class "
        r"scores: give it one output per class, e\.g\. nn\.Linear\(\.\.\., 2\) "
        r"for two classes$",
    ):
        call(_mlp(1), X, y % 2)


def test_a_model_without_n_by_c_outputs_is_refused():
    X, y = _digits()
    with pytest.raises(
        ValueError,
        match=r"^model: must return N×C class scores \(one row per example\), got "
        r"shape \(40, 10, 1, 1\) for 40 "
        r"examples; end the model with nn\.Flatten\(\) and a Linear layer$",
    ):
        hp.train(
            nn.Sequential(nn.Conv2d(1, 10, 8)),
            _digits(),
            epochs=1,
            device="cpu",
            progress=False,
        )
    with pytest.raises(
        ValueError,
        match=r"^model: must return N×C class scores \(one row per example\), got "
        r"shape \(1, 10\) for 40 examples$",
    ):
        hp.evaluate(
            nn.Sequential(
                nn.Flatten(0), nn.Linear(40 * 64, 10), nn.Unflatten(0, (1, 10))
            ),
            X,
            y,
        )


def test_accuracy_names_its_arguments():
    X, y = _digits()
    logits = _mlp()(X)
    with pytest.raises(
        ValueError,
        match=r"^logits must be N×C class scores, got \(40,\); the order is "
        r"accuracy\(logits, y\)$",
    ):
        hp.accuracy(y, logits)
    with pytest.raises(
        ValueError,
        match=r"^logits must be N×C class scores, got list; the order is "
        r"accuracy\(logits, y\)$",
    ):
        hp.accuracy([[0.1, 0.9]], y)
    with pytest.raises(
        ValueError,
        match=r"^y must be a tensor of 40 labels, one per row of logits, got 39$",
    ):
        hp.accuracy(logits, y[:39])
    with pytest.raises(
        ValueError,
        match=r"^y must be a tensor of 40 labels, one per row of logits, got list$",
    ):
        hp.accuracy(logits, y.tolist())


def test_nan_or_infinite_pixels_are_refused_before_training():
    X, y = _digits()
    X[3, 0, 5, 5], X[7, 0, 0, 0] = float("nan"), float("inf")
    net = _mlp()
    before = [p.clone() for p in net.parameters()]
    nan = (
        r"holds NaN or infinite values in 2 example\(s\), the first at index 3; "
        r"drop or repair them, e\.g\. keep = "
    )
    with pytest.raises(ValueError, match=r"^train_data: X " + nan):
        hp.train(net, (X, y), epochs=1, device="cpu", progress=False)
    with pytest.raises(ValueError, match=r"^test_data: X " + nan):
        hp.train(
            net,
            (X.nan_to_num(posinf=1.0), y),
            (X, y),
            epochs=1,
            device="cpu",
            progress=False,
        )
    with pytest.raises(ValueError, match=r"^X " + nan):
        hp.evaluate(net, X, y)
    assert torch.equal(before[0], net[1].weight)


@pytest.mark.parametrize("value,index", [(float("inf"), 2), (float("-inf"), 5)])
def test_one_infinite_pixel_is_refused_too(value, index):
    """Without a NaN, the smallest or the largest pixel is the infinite one."""
    X, y = _digits()
    X[index, 0, 1, 1] = value
    with pytest.raises(
        ValueError,
        match=r"^X holds NaN or infinite values in 1 example\(s\), the first at "
        rf"index {index}; ",
    ):
        hp.evaluate(_mlp(), X, y)


def test_a_loss_that_turns_nan_stops_training_at_that_epoch():
    """The loss is NaN from the fifth batch on (two batches an epoch): training stops
    after epoch 3, not 10."""
    X, y = _digits()
    calls = []

    def loss_fn(logits, yb):
        calls.append(len(yb))
        return nn.functional.cross_entropy(logits, yb) * (
            float("nan") if len(calls) >= 5 else 1.0
        )

    with pytest.raises(
        FloatingPointError,
        match=r"^train: the loss became nan in epoch 3 of 10, so training stopped "
        r"\(the weights are no "
        r"longer numbers\); the data hold no NaN, so the likely cause is a "
        r"learning rate too "
        r"large: rebuild the model and train with a smaller one, e\.g\. lr=0\.001$",
    ):
        hp.train(
            _mlp(),
            (X, y),
            epochs=10,
            batch_size=20,
            loss_fn=loss_fn,
            device="cpu",
            progress=False,
        )
    assert len(calls) == 6


def test_a_learning_rate_far_too_large_ends_in_a_clear_error():
    X, y = _digits()
    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
    with pytest.raises(
        FloatingPointError,
        match=r"^train: the loss became (nan|inf) in epoch \d+ of 20, so training "
        r"stopped",
    ):
        hp.train(
            net,
            (X, y),
            epochs=20,
            optimizer=torch.optim.SGD(net.parameters(), lr=1e12),
            device="cpu",
            progress=False,
        )


def test_nan_weights_make_evaluate_refuse_instead_of_scoring_class_0():
    X, y = _digits()
    net = _mlp()
    with torch.no_grad():
        net[1].weight[0, 0] = float("nan")
    with pytest.raises(
        ValueError,
        match=r"^model: its class scores are NaN or infinite for 40 of 40 "
        r"examples, so they predict nothing; "
        r"its weights are probably NaN \(a training run that diverged\): retrain "
        r"it with a smaller "
        r"learning rate$",
    ):
        hp.evaluate(net, X, y, batch_size=16)
    with torch.no_grad():
        net[1].weight[0, 0] = 0.0
        net[1].bias[3] = float("inf")  # one class's score infinite for every example
    with pytest.raises(
        ValueError,
        match=r"^model: its class scores are NaN or infinite for 40 of 40 examples",
    ):
        hp.evaluate(net, X, y)


def test_integer_images_other_than_uint8_are_refused():
    X, y = _digits()
    with pytest.raises(
        ValueError,
        match=r"^X holds torch\.int64 images; images are uint8 \(0–255\) or float "
        r"in \[0, 1\]: "
        r"X\.to\(torch\.uint8\) if they hold 0–255$",
    ):
        hp.train(
            hp.lenet5(image_size=8 + 8),
            ((X * 255).long().repeat(1, 1, 2, 2), y),
            epochs=1,
            device="cpu",
            progress=False,
        )
    as_float = hp.train(
        _mlp(),
        ((X * 255).long(), y),
        epochs=1,
        transform=lambda xb: xb.float() / 255,
        device="cpu",
        progress=False,
    )
    assert as_float.epochs == 1  # a transform that converts them is the reader's choice


def test_float_images_in_0_to_255_get_a_warning_and_still_train():
    X, y = _digits()
    with pytest.warns(
        UserWarning,
        match=r"^train_data: X holds float pixels from 0\.\d+ to 25\d\.\d+: 0–255 "
        r"values\? The models here "
        r"expect \[0, 1\]: divide by 255 \(or keep the images uint8: each batch "
        r"is then scaled for you\)$",
    ):
        history = hp.train(_mlp(), (X * 255, y), epochs=1, device="cpu", progress=False)
    assert history.epochs == 1
    with pytest.warns(UserWarning, match=r"^X holds float pixels from"):
        hp.evaluate(_mlp(), X * 255, y)
    with pytest.warns(
        UserWarning, match=r"^X holds float pixels from 0\.\d+ to 1\.5: 0–255 values\?"
    ):
        hp.evaluate(_mlp(), X / X.max() * 1.5, y)


def test_pixels_up_to_1_001_are_float_rounding_not_0_to_255():
    X, y = _digits()
    X = X.double() / X.max() * (1 + 1e-3)  # the largest exactly 1.001
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hp.evaluate(_mlp().double(), X, y)


def test_the_books_legal_inputs_stay_silent():
    """Images in [0, 1] (and a grey conversion 1 + 1e-7 above), uint8 images,
    standardised images, one-hot labels, labels of a few of the classes, a batch norm
    model with a last batch of two."""
    X, y = _digits()
    grey = (
        X.repeat(1, 3, 1, 1) * torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
    ).sum(1, keepdim=True)
    bn = nn.Sequential(
        nn.Flatten(), nn.Linear(64, 8), nn.BatchNorm1d(8), nn.Linear(8, 10)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hp.train(_mlp(), (X, y), (X, y), epochs=1, device="cpu", progress=False)
        hp.train(
            _mlp(),
            ((X * 255).to(torch.uint8), y),
            epochs=1,
            device="cpu",
            progress=False,
        )
        hp.train(_mlp(), ((X - 0.5) / 0.3, y), epochs=1, device="cpu", progress=False)
        hp.train(_mlp(), (X, hp.to_one_hot(y)), epochs=1, device="cpu", progress=False)
        hp.train(
            _mlp(),
            (grey.clamp(max=1) + 1e-7, y),
            epochs=1,
            device="cpu",
            progress=False,
        )
        hp.train(
            bn, (X[:34], y[:34]), epochs=1, batch_size=16, device="cpu", progress=False
        )
        net = _mlp()
        few = y < 3
        expected = (net(X[few]).argmax(1) == y[few]).float().mean().item()
        assert hp.evaluate(net, X[few], y[few]) == pytest.approx(
            expected
        ) and hp.accuracy(net(X[few]), y[few]).item() == pytest.approx(expected)


# ---------------------------------------------- a network fed what it was not built for


def test_lenet_built_for_28_pixels_fed_32_names_both_sizes():
    """The lab's trap: LeNet-5 for CIFAR-10 left at the default image_size=28."""
    X, y = torch.rand(8, 3, 32, 32), torch.arange(8)
    with pytest.raises(
        ValueError,
        match=r"^model: built for 28×28 images \(image_size=28\), got 32×32; "
        r"build it with image_size=32, or "
        r"resize the images: transform=hp\.resize_to\(28\) \(torch: mat1 and mat2 "
        r"shapes cannot be "
        r"multiplied \(8x576 and 400x120\)\)$",
    ):
        hp.train(
            hp.lenet5(3, modern=True), (X, y), epochs=1, device="cpu", progress=False
        )
    with pytest.raises(
        ValueError, match=r"^model: built for 28×28 images \(image_size=28\), got 32×32"
    ):
        hp.evaluate(hp.lenet5(3), X, y)
    net = hp.lenet5(3)  # the fix it names works: the same as resizing first
    assert hp.evaluate(net, X, y, transform=hp.resize_to(28)) == hp.evaluate(
        net, hp.resize_images(X, 28), y
    )


@pytest.mark.parametrize("X,message", [
    (torch.rand(8, 28, 28), r"^model: its first convolution takes 1-channel "
                            r"images N×1×H×W, got shape \(8, 28, 28\); grey "
                            r"images without "
                            r"a channel axis\? X\.unsqueeze\(1\) has shape \(8, "
                            r"1, 28, 28\) \(torch: "),
    (torch.rand(8, 3, 28, 28), r"^model: its first convolution takes 1-channel "
                               r"images N×1×H×W, got shape \(8, 3, 28, 28\); "
                               r"build it "
                               r"with in_channels=3 \(torch: Given groups=1"),
    (torch.rand(8, 28, 28, 1), r"^model: its first convolution takes 1-channel "
                               r"images N×1×H×W, got shape \(8, 28, 28, 1\); "
                               r"channels "
                               r"last\? X\.permute\(0, 3, 1, 2\) has shape \(8, "
                               r"1, 28, 28\) \(torch: "),
])  # fmt: skip
def test_images_a_network_cannot_take_are_named_in_the_readers_terms(X, message):
    with pytest.raises(ValueError, match=message):
        hp.train(
            hp.lenet5(), (X, torch.arange(8)), epochs=1, device="cpu", progress=False
        )


def test_a_transform_of_ones_own_must_return_float_pixels():
    X8 = torch.randint(0, 256, (8, 1, 28, 28), dtype=torch.uint8)
    with pytest.raises(
        ValueError,
        match=r"^model: it computes with float pixels, got torch\.uint8 ones; a "
        r"transform= of your own must "
        r"return floats, e\.g\. hp\.to_float\(xb\) \(torch: ",
    ):
        hp.train(
            hp.lenet5(),
            (X8, torch.arange(8)),
            epochs=1,
            transform=lambda xb: xb.flip(3),
            device="cpu",
            progress=False,
        )


def test_batch_norm_on_a_last_mini_batch_of_one_says_which_batch_size_to_pick():
    bn = nn.Sequential(
        nn.Flatten(), nn.Linear(64, 8), nn.BatchNorm1d(8), nn.Linear(8, 10)
    )
    X, y = _digits(33)
    with pytest.raises(
        ValueError,
        match=r"^model: batch norm cannot train on a batch of 1 example \(it "
        r"normalises over the batch\); with "
        r"hp\.train choose a batch_size that leaves no last mini-batch of one "
        r"\(len\(X\) % batch_size "
        r"!= 1\) \(torch: Expected more than 1 value per channel when training",
    ):
        hp.train(bn, (X, y), epochs=1, batch_size=16, device="cpu", progress=False)


def test_a_dense_layer_of_another_size_is_explained_for_any_network():
    """A network of the reader's own (no recorded image_size): the dense layer's two
    sizes."""
    net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.Flatten(), nn.Linear(4 * 26 * 26, 10))
    with pytest.raises(
        ValueError,
        match=r"^model: a dense layer gets 3600 features per example but expects "
        r"2704: the network was built "
        r"for other images than 1×32×32; hp\.layer_summary\(model, \(1, 1, 32, "
        r"32\)\) shows where "
        r"\(torch: mat1 and mat2 shapes cannot be multiplied \(8x3600 and 2704x10\)\)$",
    ):
        hp.evaluate(net, torch.rand(8, 1, 32, 32), torch.arange(8))


@pytest.mark.parametrize("call,name", [
    (lambda net, X, y: hp.evaluate(net, X, y), "y"),
    (lambda net, X, y: hp.accuracy(net(X), y), "y"),
    (lambda net, X, y: hp.train(net, (X, y.clamp(min=0)), (X, y), epochs=1,
                                device="cpu", progress=False),
     "test_data"),
])  # fmt: skip
def test_negative_labels_are_named_where_they_were_passed(call, name):
    X, y = _digits()
    with pytest.raises(
        ValueError,
        match=rf"^{name}: class indices count from 0, got a label -1; shift them "
        r"so the first class is 0$",
    ):
        call(_mlp(), X, y - 1)


def test_a_transform_that_scales_the_pixels_is_trusted_with_them():
    """0–255 floats or int64 images, scaled by the reader's own transform: no warning,
    no refusal (in train, on the test data, and in evaluate)."""
    X, y = _digits()
    as_bytes = (X * 255).round()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hp.train(
            _mlp(),
            (as_bytes, y),
            (as_bytes, y),
            epochs=1,
            transform=lambda xb: xb / 255,
            device="cpu",
            progress=False,
        )
        net = _mlp()
        scaled = hp.evaluate(net, as_bytes / 255, y)
        assert hp.evaluate(net, as_bytes, y, transform=lambda xb: xb / 255) == scaled
        assert (
            hp.evaluate(net, as_bytes.long(), y, transform=lambda xb: xb.float() / 255)
            == scaled
        )
