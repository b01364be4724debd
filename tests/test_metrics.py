"""Predictions, confusion matrices and per-class accuracy mean what they say."""
from __future__ import annotations

import math

import numpy as np

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
    with pytest.raises(ValueError, match=r"^model: must return N×C class scores \(one row per example\), got shape \(6,\) for 3 examples$"):
        hp.predict(nn.Flatten(0), torch.zeros(3, 2))


# --------------------------------------------------------------------------- a learner's mistakes (issue 19)


def test_predict_refuses_a_model_with_one_output():
    """Every arg-max of one score is class 0: predictions that say nothing."""
    with pytest.raises(ValueError, match=r"^model: returns 1 score per example, but the predicted class is the arg-max over C ≥ 2 class "
                                         r"scores: give it one output per class, e\.g\. nn\.Linear\(\.\.\., 2\) for two classes$"):
        hp.predict(nn.Sequential(nn.Flatten(), nn.Linear(4, 1)), torch.rand(5, 1, 2, 2))


def test_predict_refuses_nan_weights_and_nan_pixels():
    net = nn.Sequential(nn.Flatten(), nn.Linear(4, 3))
    X = torch.rand(5, 1, 2, 2)
    bad = X.clone()
    bad[2, 0, 1, 1] = float("nan")
    with pytest.raises(ValueError, match=r"^X holds NaN or infinite values in 1 example\(s\), the first at index 2; drop or repair them"):
        hp.predict(net, bad)
    with torch.no_grad():
        net[1].weight[1, 0] = float("nan")
    with pytest.raises(ValueError, match=r"^model: its class scores are NaN or infinite for 5 of 5 examples, so they predict nothing; its "
                                         r"weights are probably NaN \(a training run that diverged\): retrain it with a smaller learning rate$"):
        hp.predict(net, X, batch_size=2)


def test_predict_checks_the_model_and_its_images():
    with pytest.raises(ValueError, match=r"^model must be a network \(an nn\.Module\), got the function lenet5; call it to build one"):
        hp.predict(hp.lenet5, torch.rand(2, 1, 28, 28))
    with pytest.raises(ValueError, match=r"^model: its first convolution takes 1-channel images N×1×H×W, got shape \(2, 28, 28\); grey "
                                         r"images without a channel axis\? X\.unsqueeze\(1\) has shape \(2, 1, 28, 28\) \(torch: "):
        hp.predict(hp.lenet5(), torch.rand(2, 28, 28))
    with pytest.raises(ValueError, match=r"^X holds torch\.int32 images; images are uint8 \(0–255\) or float in \[0, 1\]"):
        hp.predict(hp.lenet5(), torch.zeros(2, 1, 28, 28, dtype=torch.int32))
    with pytest.warns(UserWarning, match=r"^X holds float pixels from 0 to 255: 0–255 values\?"):
        hp.predict(hp.lenet5(), torch.linspace(0, 255, 2 * 784).reshape(2, 1, 28, 28))


def test_confusion_matrix_names_the_fix_for_a_column_of_labels_and_takes_arrays():
    with pytest.raises(ValueError, match=r"^y_true must be a 1-D tensor of class indices \(N,\), got shape \(3, 1\); one column\? y\.flatten\(\)$"):
        hp.confusion_matrix(torch.tensor([[0], [1], [1]]), torch.tensor([0, 1, 0]), 2)
    with pytest.raises(ValueError, match=r"^y_pred must hold integer class indices, got torch\.float32; convert them: y\.long\(\)$"):
        hp.confusion_matrix(torch.tensor([0, 1]), torch.tensor([0.0, 1.0]), 2)
    cm = hp.confusion_matrix(np.array([0, 1, 1]), [0, 1, 0], 2)  # a NumPy array and a list, as a reader may have them
    assert cm.tolist() == [[1, 0], [1, 1]]
    assert hp.per_class_accuracy(cm.numpy()).tolist() == [1.0, 0.5]
    assert hp.per_class_accuracy([[3, 1], [0, 2]]).tolist() == [0.75, 1.0]
