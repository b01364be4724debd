"""Predictions, confusion matrices and per-class accuracy mean what they say."""
from __future__ import annotations

import math

import pytest
import torch
from torch import nn

import helpers as hp


def test_confusion_matrix_counts_every_cell():
    y_true = torch.tensor([0, 0, 0, 1, 1, 2, 2, 2, 2])
    y_pred = torch.tensor([0, 0, 1, 1, 2, 2, 2, 0, 2])
    cm = hp.confusion_matrix(y_true, y_pred, num_classes=3)
    assert cm.dtype == torch.int64
    assert cm.tolist() == [
        [2, 1, 0],  # class 0: two right, one taken for class 1
        [0, 1, 1],  # class 1: one right, one taken for class 2
        [1, 0, 3],  # class 2: three right, one taken for class 0
    ]
    assert cm.sum() == len(y_true) and cm.diagonal().sum() == (y_true == y_pred).sum()
    assert cm.sum(dim=1).tolist() == torch.bincount(y_true).tolist()  # rows: true classes
    assert cm.sum(dim=0).tolist() == torch.bincount(y_pred).tolist()  # columns: predictions


def test_confusion_matrix_keeps_absent_classes_and_is_not_symmetric():
    cm = hp.confusion_matrix(torch.tensor([3, 3]), torch.tensor([1, 3]), num_classes=5)
    assert cm.shape == (5, 5) and cm[3, 1] == 1 and cm[1, 3] == 0 and cm[3, 3] == 1 and cm.sum() == 2


def test_confusion_matrix_rejects_bad_input():
    with pytest.raises(ValueError, match="same length"):
        hp.confusion_matrix(torch.tensor([0, 1]), torch.tensor([0]), 2)
    with pytest.raises(ValueError, match=r"outside \[0, 2\)"):
        hp.confusion_matrix(torch.tensor([0, 2]), torch.tensor([0, 1]), 2)
    with pytest.raises(ValueError, match="y_pred has labels outside"):
        hp.confusion_matrix(torch.tensor([0, 1]), torch.tensor([-1, 1]), 2)
    with pytest.raises(ValueError, match="one-hot"):
        hp.confusion_matrix(torch.eye(3), torch.tensor([0, 1, 2]), 3)
    with pytest.raises(ValueError, match="integer class indices"):
        hp.confusion_matrix(torch.tensor([0.0, 1.0]), torch.tensor([0, 1]), 2)
    with pytest.raises(ValueError, match="num_classes"):
        hp.confusion_matrix(torch.tensor([0]), torch.tensor([0]), 0)


def test_per_class_accuracy_is_the_diagonal_over_the_row():
    cm = torch.tensor([[2, 1, 0], [0, 1, 1], [1, 0, 3]])
    acc = hp.per_class_accuracy(cm)
    assert acc.dtype == torch.float64
    assert torch.allclose(acc, torch.tensor([2 / 3, 1 / 2, 3 / 4], dtype=torch.float64))
    empty = hp.per_class_accuracy(torch.tensor([[4, 0], [0, 0]]))
    assert empty[0] == 1.0 and math.isnan(empty[1])  # no examples of class 1: undefined, not 0
    with pytest.raises(ValueError, match="square"):
        hp.per_class_accuracy(torch.ones(2, 3))
    with pytest.raises(ValueError, match="non-negative"):
        hp.per_class_accuracy(torch.tensor([[1, -1], [0, 1]]))


class _Pick(nn.Module):
    """Logits that put the largest value at index int(x[0]) (a model whose answers we know)."""

    def __init__(self, num_classes: int = 4):
        super().__init__()
        self.num_classes = num_classes
        self.scale = nn.Parameter(torch.ones(()))

    def forward(self, x):
        return nn.functional.one_hot(x[:, 0].long(), self.num_classes).float() * 3 * self.scale


def test_predict_gives_the_argmax_in_batches_and_restores_the_mode():
    model = _Pick()
    model.train()
    X = torch.tensor([[2.0], [0.0], [3.0], [1.0], [3.0]])
    pred = hp.predict(model, X, batch_size=2)
    assert pred.dtype == torch.int64 and pred.tolist() == [2, 0, 3, 1, 3]
    assert model.training  # mode restored
    pred2, probs = hp.predict(model, X, batch_size=3, return_probs=True)
    assert torch.equal(pred2, pred) and probs.shape == (5, 4)
    assert torch.allclose(probs.sum(dim=1), torch.ones(5))
    expected = math.exp(3) / (math.exp(3) + 3)  # softmax of (3, 0, 0, 0)
    assert probs[0, 2].item() == pytest.approx(expected, rel=1e-6)


def test_predict_matches_evaluate_and_applies_the_transform():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(12, 3))
    X, y = torch.rand(50, 3, 2, 2), torch.randint(0, 3, (50,))
    pred = hp.predict(model, X, batch_size=7)
    assert (pred == y).float().mean().item() == pytest.approx(hp.evaluate(model, X, y))
    assert torch.equal(pred, model(X).argmax(dim=1))
    doubled = hp.predict(model, X, transform=lambda xb: 2 * xb)
    assert torch.equal(doubled, model(2 * X).argmax(dim=1))
    as_bytes = (X * 255).round().to(torch.uint8)  # uint8 without a transform: scaled to [0, 1]
    assert torch.equal(hp.predict(model, as_bytes), model(as_bytes.float() / 255).argmax(dim=1))


def test_predict_rejects_bad_input():
    model = nn.Linear(2, 2)
    with pytest.raises(ValueError, match="non-empty"):
        hp.predict(model, torch.zeros(0, 2))
    with pytest.raises(ValueError, match="batch_size"):
        hp.predict(model, torch.zeros(3, 2), batch_size=0)
    with pytest.raises(ValueError, match="N×C logits"):
        hp.predict(nn.Flatten(0), torch.zeros(3, 2))
