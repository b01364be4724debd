"""The training loop: it learns, it records, it refuses what it cannot do."""
from __future__ import annotations

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
