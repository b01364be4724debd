"""The training loop: it learns, it records, it refuses what it cannot do."""
from __future__ import annotations

import importlib

import pytest
import torch
from torch import nn

import helpers as hp


@pytest.fixture(scope="module")
def fashion(data_dir):
    train = hp.load_data("fashion_mnist", "train", n=3000, root=data_dir)
    test = hp.load_data("fashion_mnist", "test", n=1000, root=data_dir)
    return train, test


def test_short_cpu_run_beats_stated_accuracy(fashion):
    """Modern LeNet-5, 3,000 images, 5 epochs of mini-batches (about 2 s on 2 cores): > 72% test accuracy."""
    train, test = fashion
    hp.seed_everything(0)
    net = hp.lenet5(modern=True)
    net.apply(hp.init_xavier)
    history = hp.train(net, train, test, epochs=5, batch_size=64, device="cpu", progress=False)
    assert history.epochs == 5 and len(history.train_acc) == len(history.test_acc) == 5
    assert history.train_loss[-1] < history.train_loss[0]
    assert history.test_acc[-1] > 0.72
    assert hp.evaluate(net, *test) == pytest.approx(history.test_acc[-1])
    assert not net.training  # left in eval mode


def _lecture_cnn():
    return nn.Sequential(nn.Conv2d(1, 16, 2), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(2704, 10))


def test_full_batch_with_one_hot_equals_integer_labels(fashion):
    (X, y), _ = fashion
    X, y = X[:500], y[:500]
    losses = []
    for labels in (y, hp.to_one_hot(y)):
        torch.manual_seed(0)
        net = _lecture_cnn()
        losses.append(hp.train(net, (X, labels), epochs=3, device="cpu", progress=False).train_loss)
    assert losses[0] == pytest.approx(losses[1], rel=1e-5)


def test_full_batch_step_is_the_lectures_loop():
    """One hp.train epoch with batch_size=None is exactly forward, loss, backward, Adam step."""
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
    for pa, pb in zip(a.parameters(), b.parameters()):
        assert torch.allclose(pa, pb, atol=1e-6)


def test_accuracy_accepts_labels_or_one_hot():
    logits = torch.tensor([[2.0, 1.0], [0.0, 3.0], [1.0, 0.0]])
    y = torch.tensor([0, 1, 1])
    assert hp.accuracy(logits, y).item() == pytest.approx(2 / 3)
    assert hp.accuracy(logits, hp.to_one_hot(y, 2)).item() == pytest.approx(2 / 3)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_never_silently_trains_on_cpu_when_cuda_was_asked_for():
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        hp.train(nn.Linear(4, 2), (torch.randn(8, 4), torch.randint(0, 2, (8,))), epochs=1, device="cuda", progress=False)


@pytest.mark.parametrize(
    "kwargs,message",
    [({"epochs": 0}, "epochs must be"), ({"epochs": 1, "amp": True, "device": "cpu"}, "amp=True needs a CUDA"),
     ({"epochs": 1, "train_data": (torch.randn(8, 4), torch.zeros(7))}, "same, non-zero number"),
     ({"epochs": 1, "train_data": torch.randn(8, 4)}, "pair of tensors")],
)
def test_bad_training_arguments(kwargs, message):
    kwargs.setdefault("train_data", (torch.randn(8, 4), torch.randint(0, 2, (8,))))
    with pytest.raises(ValueError, match=message):
        hp.train(nn.Linear(4, 2), kwargs.pop("train_data"), progress=False, **kwargs)


def test_uint8_with_per_batch_resize_trains_exactly_like_resizing_first(data_dir):
    """Same seed, same order: storing uint8 and resizing each batch gives the run of resizing up front."""
    X8, y = hp.load_data("fashion_mnist", "test", n=600, root=data_dir, dtype=torch.uint8)
    Xr, _ = hp.load_data("fashion_mnist", "test", n=600, root=data_dir, resize=32)
    Xt8, yt = hp.load_data("fashion_mnist", "train", n=1500, root=data_dir, dtype=torch.uint8)  # > one eval batch
    Xtr, _ = hp.load_data("fashion_mnist", "train", n=1500, root=data_dir, resize=32)
    runs = []
    for train_data, test_data, transform in [((Xr, y), (Xtr, yt), None), ((X8, y), (Xt8, yt), hp.resize_to(32))]:
        hp.seed_everything(0)
        net = hp.lenet5(image_size=32, modern=True)
        h = hp.train(net, train_data, test_data, epochs=2, batch_size=64, device="cpu", progress=False, transform=transform)
        runs.append((h, net, hp.evaluate(net, *test_data, batch_size=500, transform=transform)))
    (h0, net0, acc0), (h1, net1, acc1) = runs
    assert h1.train_loss == pytest.approx(h0.train_loss, rel=1e-4) and h1.test_acc == pytest.approx(h0.test_acc, abs=1e-3)
    assert acc1 == pytest.approx(acc0, abs=1e-3) and acc1 == pytest.approx(h1.test_acc[-1])
    for a, b in zip(net0.parameters(), net1.parameters()):
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
    lb = hp.train(b, (X8.float() / 255, y), epochs=2, device="cpu", progress=False).train_loss
    assert la == lb


@pytest.mark.parametrize("capability,dtype,scaled", [((7, 5), torch.float16, True), ((8, 0), torch.bfloat16, False),
                                                     ((9, 0), torch.bfloat16, False)])
def test_mixed_precision_uses_native_bf16_only(monkeypatch, capability, dtype, scaled):
    """T4 (7.5) reports bf16 'supported' through emulation; it must get float16 + loss scaling."""
    train_module = importlib.import_module("helpers.train")  # the module (hp.train is the function)

    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda including_emulation=True: True)
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: capability)
    enabled, chosen = train_module._amp_settings(torch.device("cuda"), None)
    assert enabled and chosen == dtype
    assert (chosen == torch.float16) is scaled  # train() enables the GradScaler exactly for float16
    assert train_module._amp_settings(torch.device("cuda"), False)[0] is False
    assert train_module._amp_settings(torch.device("cpu"), None) == (False, torch.float32)


def test_float64_images_get_a_clear_error():
    X, y = torch.randn(8, 4, dtype=torch.float64), torch.randint(0, 2, (8,))
    with pytest.raises(ValueError, match=r"X is torch.float64 but the model's parameters are torch.float32"):
        hp.train(nn.Linear(4, 2), (X, y), epochs=1, device="cpu", progress=False)
