"""After training: predictions for a whole test set, the confusion matrix, per-class
accuracy.

``predict`` runs a trained model over N examples in mini-batches on the model's
device (no per-sample Python) and returns the arg-max labels, optionally with the
softmax probabilities. ``confusion_matrix`` counts (true, predicted) pairs in one
``bincount``; ``per_class_accuracy`` reads its diagonal.

>>> pred = predict(model, X_test)
>>> # rows: true class, columns: predicted
>>> cm = confusion_matrix(y_test, pred, num_classes=10)
>>> per_class_accuracy(cm)  # recall of each class
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from .checks import (
    check_class_indices,
    check_image_dtype,
    check_model,
    check_pixels,
    check_scores,
    forward,
)
from .train import _batch_transform, _inference_setup

__all__ = ["confusion_matrix", "per_class_accuracy", "predict"]


def predict(
    model: nn.Module,
    X: torch.Tensor,
    batch_size: int = 1024,
    transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
    return_probs: bool = False,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """Predicted classes of ``model`` for every row of ``X``, in eval mode.

    Args:
        model: maps a batch N×… to N×C logits.
        X: N×… inputs (e.g. N×C×H×W images; uint8 batches are scaled to [0, 1]).
        batch_size: examples per forward pass.
        transform: applied to each batch on the device before the forward pass
            (e.g. ``hp.resize_to(224)``), as in ``train``/``evaluate``.
        return_probs: also return the softmax probabilities.

    Returns: ``y_pred`` (N,) int64 on the model's device, or ``(y_pred, probs)`` with
    ``probs`` N×C float32 (each row sums to 1). The model's train/eval mode is restored.

    Checked as in ``evaluate`` (a ``ValueError`` rather than predictions that mean
    nothing): NaN pixels, a model that does not return N×C class scores with C ≥ 2,
    class scores that come out NaN (one host read at the end).
    """
    check_model(model)
    if not isinstance(X, torch.Tensor) or X.ndim < 2 or len(X) == 0:
        got = (
            f"shape {tuple(X.shape)}"
            if isinstance(X, torch.Tensor)
            else f"a {type(X).__name__}"
        )
        raise ValueError(f"X must be a non-empty tensor N×…, got {got}")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    check_image_dtype(model, X, transform)
    check_pixels(X, "X", transform)
    # The same device, mixed precision and memory layout as ``train``/``evaluate``, so
    # the predictions agree.
    device, cl, autocast = _inference_setup(model, X, None)
    # uint8 → [0, 1] unless a transform is given
    per_batch = _batch_transform(X, transform, cl)
    was_training = model.training
    model.eval()
    preds, probs, not_finite = [], [], []
    try:
        # a with block, not a decorator: mutmut skips decorated functions
        with torch.no_grad():
            for start in range(0, len(X), batch_size):
                xb = X[start : start + batch_size].to(device)
                xb = per_batch(xb) if per_batch is not None else xb
                with autocast():
                    logits = forward(model, xb).float()
                check_scores(logits, len(xb))
                not_finite.append((~logits.isfinite()).any(dim=1).sum())
                preds.append(logits.argmax(dim=1))
                if return_probs:
                    probs.append(torch.softmax(logits, dim=1))
    finally:
        model.train(was_training)
    bad = int(torch.stack(not_finite).sum())  # the one host read
    if bad:
        raise ValueError(
            f"model: its class scores are NaN or infinite for {bad} of {len(X)} "
            f"examples, so they predict "
            f"nothing; its weights are probably NaN (a training run that "
            f"diverged): retrain it with a smaller learning rate"
        )
    y_pred = torch.cat(preds)
    return (y_pred, torch.cat(probs)) if return_probs else y_pred


def _labels(y: torch.Tensor, name: str) -> torch.Tensor:
    y = torch.as_tensor(y)  # a list or a NumPy array as well
    check_class_indices(y, name)
    return y.long()


def confusion_matrix(
    y_true: torch.Tensor, y_pred: torch.Tensor, num_classes: int
) -> torch.Tensor:
    """Counts of (true class, predicted class) pairs.

    Args:
        y_true, y_pred: (N,) integer class indices in ``[0, num_classes)``, same length.
        num_classes: C.

    Returns:
        C×C int64 tensor ``cm`` on ``y_true``'s device: ``cm[i, j]`` is the number of
        examples of true class ``i`` predicted as ``j``. Rows sum to the class sizes,
        the diagonal holds the correct predictions, everything sums to N.
    """
    if (
        not isinstance(num_classes, int)
        or isinstance(num_classes, bool)
        or num_classes < 1
    ):
        raise ValueError(f"num_classes must be a positive int, got {num_classes!r}")
    y_true, y_pred = _labels(y_true, "y_true"), _labels(y_pred, "y_pred")
    if len(y_true) != len(y_pred):
        raise ValueError(
            f"y_true and y_pred must have the same length, got {len(y_true)} and "
            f"{len(y_pred)}"
        )
    y_pred = y_pred.to(y_true.device)
    for name, y in (("y_true", y_true), ("y_pred", y_pred)):
        if len(y) and (y.min() < 0 or y.max() >= num_classes):
            raise ValueError(
                f"{name} has labels outside [0, {num_classes}): min "
                f"{int(y.min())}, max {int(y.max())}"
            )
    counts = torch.bincount(
        y_true * num_classes + y_pred, minlength=num_classes * num_classes
    )
    return counts.reshape(num_classes, num_classes)


def per_class_accuracy(cm: torch.Tensor) -> torch.Tensor:
    """Accuracy within each true class (the recall): ``cm[i, i] / cm[i].sum()``.

    Args:
        cm: C×C confusion matrix, rows = true class (as from ``confusion_matrix``).

    Returns:
        (C,) float64 tensor in [0, 1]; NaN for a class with no examples.
    """
    cm = torch.as_tensor(cm)  # a NumPy array or nested lists as well
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1] or cm.shape[0] == 0:
        raise ValueError(f"cm must be a square C×C tensor, got shape {tuple(cm.shape)}")
    if (cm < 0).any():
        raise ValueError(f"cm must hold non-negative counts, got {cm.min().item()}")
    cm = cm.double()
    return cm.diagonal() / cm.sum(dim=1)
