"""Predictions, confusion matrices and per-class accuracy mean what they say."""

from __future__ import annotations

import math
import warnings

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
    # rows: true classes
    assert cm.sum(dim=1).tolist() == torch.bincount(y_true).tolist()
    # columns: predictions
    assert cm.sum(dim=0).tolist() == torch.bincount(y_pred).tolist()


def test_confusion_matrix_keeps_absent_classes_and_is_not_symmetric():
    cm = hp.confusion_matrix(torch.tensor([3, 3]), torch.tensor([1, 3]), num_classes=5)
    assert (
        cm.shape == (5, 5)
        and cm[3, 1] == 1
        and cm[1, 3] == 0
        and cm[3, 3] == 1
        and cm.sum() == 2
    )


@pytest.mark.parametrize("y_true,y_pred,num_classes,message", [
    ([0, 1], [0], 2, r"^y_true and y_pred must have the same length, got 2 and 1$"),
    ([0, 2], [0, 1], 2, r"^y_true has labels outside \[0, 2\): min 0, max 2$"),
    ([0, 1], [-1, 1], 2, r"^y_pred has labels outside \[0, 2\): min -1, max 1$"),
    (torch.eye(3), [0, 1, 2], 3, r"^y_true must be a 1-D tensor of class indices "
                                 r"\(N,\), got shape \(3, 3\); one-hot rows\? "
                                 r"y\.argmax\(dim=1\)$"),
    ([0.0, 1.0], [0, 1], 2, r"^y_true must hold integer class indices, got "
                            r"torch\.float32; convert them: y\.long\(\)$"),
    ([0], [0], 0, r"^num_classes must be a positive int, got 0$"),
    ([0], [0], 2.0, r"^num_classes must be a positive int, got 2\.0$"),
    ([0], [0], True, r"^num_classes must be a positive int, got True$"),
])  # fmt: skip
def test_confusion_matrix_rejects_bad_input(y_true, y_pred, num_classes, message):
    with pytest.raises(ValueError, match=message):
        hp.confusion_matrix(
            torch.as_tensor(y_true), torch.as_tensor(y_pred), num_classes
        )


def test_one_class_is_a_one_by_one_matrix():
    cm = hp.confusion_matrix(torch.tensor([0, 0, 0]), torch.tensor([0, 0, 0]), 1)
    assert cm.tolist() == [[3]] and hp.per_class_accuracy(cm).tolist() == [1.0]


def test_per_class_accuracy_is_the_diagonal_over_the_row():
    cm = torch.tensor([[2, 1, 0], [0, 1, 1], [1, 0, 3]])
    acc = hp.per_class_accuracy(cm)
    assert acc.dtype == torch.float64
    assert torch.allclose(acc, torch.tensor([2 / 3, 1 / 2, 3 / 4], dtype=torch.float64))
    empty = hp.per_class_accuracy(torch.tensor([[4, 0], [0, 0]]))
    # no examples of class 1: undefined, not 0
    assert empty[0] == 1.0 and math.isnan(empty[1])
    with pytest.raises(
        ValueError, match=r"^cm must be a square C×C tensor, got shape \(2, 3\)$"
    ):
        hp.per_class_accuracy(torch.ones(2, 3))
    with pytest.raises(
        ValueError, match=r"^cm must be a square C×C tensor, got shape \(0, 0\)$"
    ):
        hp.per_class_accuracy(torch.ones(0, 0))
    with pytest.raises(
        ValueError, match=r"^cm must be a square C×C tensor, got shape \(4,\)$"
    ):
        hp.per_class_accuracy(torch.ones(4))
    with pytest.raises(ValueError, match=r"^cm must hold non-negative counts, got -1$"):
        hp.per_class_accuracy(torch.tensor([[1, -1], [0, 1]]))


class _Pick(nn.Module):
    """Logits that put the largest value at index int(x[0]) (a model whose answers we
    know)."""

    def __init__(self, num_classes: int = 4):
        super().__init__()
        self.num_classes = num_classes
        self.scale = nn.Parameter(torch.ones(()))

    def forward(self, x):
        return (
            nn.functional.one_hot(x[:, 0].long(), self.num_classes).float()
            * 3
            * self.scale
        )


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
    # uint8 without a transform: scaled to [0, 1]
    as_bytes = (X * 255).round().to(torch.uint8)
    assert torch.equal(
        hp.predict(model, as_bytes), model(as_bytes.float() / 255).argmax(dim=1)
    )


def test_predict_rejects_bad_input():
    model = nn.Linear(2, 2)
    with pytest.raises(
        ValueError, match=r"^X must be a non-empty tensor N×…, got shape \(0, 2\)$"
    ):
        hp.predict(model, torch.zeros(0, 2))
    with pytest.raises(
        ValueError, match=r"^X must be a non-empty tensor N×…, got shape \(2,\)$"
    ):
        hp.predict(model, torch.zeros(2))
    with pytest.raises(
        ValueError, match=r"^X must be a non-empty tensor N×…, got a list$"
    ):
        hp.predict(model, [[0.0, 1.0]])
    with pytest.raises(ValueError, match=r"^batch_size must be a positive int, got 0$"):
        hp.predict(model, torch.zeros(3, 2), batch_size=0)
    with pytest.raises(
        ValueError, match=r"^batch_size must be a positive int, got 2\.5$"
    ):
        hp.predict(model, torch.zeros(3, 2), batch_size=2.5)
    with pytest.raises(
        ValueError,
        match=r"^model: must return N×C class scores \(one row per example\), got "
        r"shape \(6,\) for 3 examples$",
    ):
        hp.predict(nn.Flatten(0), torch.zeros(3, 2))


# ------------------------------------------------------ a learner's mistakes (issue 19)


def test_predict_refuses_a_model_with_one_output():
    """Every arg-max of one score is class 0: predictions that say nothing."""
    with pytest.raises(
        ValueError,
        match=r"^model: returns 1 score per example, but the predicted class is "
        r"the arg-max over C ≥ 2 class "
        r"scores: give it one output per class, e\.g\. nn\.Linear\(\.\.\., 2\) "
        r"for two classes$",
    ):
        hp.predict(nn.Sequential(nn.Flatten(), nn.Linear(4, 1)), torch.rand(5, 1, 2, 2))


def test_predict_refuses_nan_weights_and_nan_pixels():
    net = nn.Sequential(nn.Flatten(), nn.Linear(4, 3))
    X = torch.rand(5, 1, 2, 2)
    bad = X.clone()
    bad[2, 0, 1, 1] = float("nan")
    with pytest.raises(
        ValueError,
        match=r"^X holds NaN or infinite values in 1 example\(s\), the first at "
        r"index 2; drop or repair them",
    ):
        hp.predict(net, bad)
    with torch.no_grad():
        net[1].weight[1, 0] = float("nan")
    with pytest.raises(
        ValueError,
        match=r"^model: its class scores are NaN or infinite for 5 of 5 examples, "
        r"so they predict nothing; its "
        r"weights are probably NaN \(a training run that diverged\): retrain it "
        r"with a smaller learning rate$",
    ):
        hp.predict(net, X, batch_size=2)


def test_predict_checks_the_model_and_its_images():
    with pytest.raises(
        ValueError,
        match=r"^model must be a network \(an nn\.Module\), got the function "
        r"lenet5; call it to build one",
    ):
        hp.predict(hp.lenet5, torch.rand(2, 1, 28, 28))
    with pytest.raises(
        ValueError,
        match=r"^model: its first convolution takes 1-channel images N×1×H×W, got "
        r"shape \(2, 28, 28\); grey "
        r"images without a channel axis\? X\.unsqueeze\(1\) has shape \(2, 1, 28, "
        r"28\) \(torch: ",
    ):
        hp.predict(hp.lenet5(), torch.rand(2, 28, 28))
    with pytest.raises(
        ValueError,
        match=r"^X holds torch\.int32 images; images are uint8 \(0–255\) or float "
        r"in \[0, 1\]",
    ):
        hp.predict(hp.lenet5(), torch.zeros(2, 1, 28, 28, dtype=torch.int32))
    with pytest.warns(
        UserWarning, match=r"^X holds float pixels from 0 to 255: 0–255 values\?"
    ):
        hp.predict(hp.lenet5(), torch.linspace(0, 255, 2 * 784).reshape(2, 1, 28, 28))


def test_confusion_matrix_names_the_fix_for_a_column_of_labels_and_takes_arrays():
    with pytest.raises(
        ValueError,
        match=r"^y_true must be a 1-D tensor of class indices \(N,\), got shape "
        r"\(3, 1\); one column\? y\.flatten\(\)$",
    ):
        hp.confusion_matrix(torch.tensor([[0], [1], [1]]), torch.tensor([0, 1, 0]), 2)
    with pytest.raises(
        ValueError,
        match=r"^y_pred must hold integer class indices, got torch\.float32; "
        r"convert them: y\.long\(\)$",
    ):
        hp.confusion_matrix(torch.tensor([0, 1]), torch.tensor([0.0, 1.0]), 2)
    # a NumPy array and a list, as a reader may have them
    cm = hp.confusion_matrix(np.array([0, 1, 1]), [0, 1, 0], 2)
    assert cm.tolist() == [[1, 0], [1, 1]]
    assert hp.per_class_accuracy(cm.numpy()).tolist() == [1.0, 0.5]
    assert hp.per_class_accuracy([[3, 1], [0, 2]]).tolist() == [0.75, 1.0]


def test_predict_leaves_converting_to_a_transform_it_is_given():
    """int64 or 0–255 float images with a transform that scales them: no refusal, no
    warning."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(4, 3))
    X = torch.randint(0, 256, (5, 1, 2, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        from_int = hp.predict(net, X, transform=lambda xb: xb.float() / 255)
        from_float = hp.predict(net, X.float(), transform=lambda xb: xb / 255)
    assert torch.equal(from_int, net(X.float() / 255).argmax(1)) and torch.equal(
        from_float, from_int
    )


def test_predict_one_example_at_a_time():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(4, 3))
    X = torch.rand(5, 1, 2, 2)
    assert torch.equal(hp.predict(net, X, batch_size=1), net(X).argmax(1))


class _Seen(nn.Module):
    """Records where and in which layout each batch reaches the model."""

    def __init__(self):
        super().__init__()
        self.batches = []

    def forward(self, X):
        self.batches.append(
            (X.device.type, X.is_contiguous(memory_format=torch.channels_last))
        )
        return X


def test_predict_runs_each_batch_on_the_models_device_in_its_layout(monkeypatch):
    """A conv model runs channels-last (as in train); on 'meta' the batches arrive, and
    only the final read of the NaN count cannot be answered."""
    import contextlib

    # none for 'meta'
    monkeypatch.setattr(
        torch, "autocast", lambda *args, **kwargs: contextlib.nullcontext()
    )
    seen = _Seen()
    net = nn.Sequential(seen, nn.Conv2d(2, 2, 1), nn.Flatten(), nn.Linear(8, 3))
    hp.predict(net, torch.rand(5, 2, 2, 2), batch_size=2)
    assert seen.batches == [("cpu", True)] * 3
    seen.batches.clear()
    with pytest.raises(
        RuntimeError, match=r"^Tensor\.item\(\) cannot be called on meta tensors$"
    ):
        hp.predict(net.to("meta"), torch.rand(5, 2, 2, 2), batch_size=2)
    assert seen.batches == [("meta", True)] * 3


def test_confusion_matrix_counts_on_y_trues_device():
    """y_pred is moved to y_true's device first: from 'meta', which has no data, the
    move is what fails."""
    with pytest.raises(
        NotImplementedError, match=r"^Cannot copy out of meta tensor; no data!"
    ):
        hp.confusion_matrix(
            torch.tensor([0, 1]), torch.tensor([0, 1], device="meta"), 2
        )
