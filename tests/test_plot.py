"""The plotting helpers draw what they promise (on the Agg backend)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import pytest
from matplotlib.patches import Rectangle
import torch
from torch import nn

import helpers as hp


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _titles(fig):
    return [ax.get_title() for ax in fig.axes if ax.get_title()]


def test_show_images_titles_and_mistakes():
    X = torch.rand(5, 1, 28, 28)
    assert hp.show_images(X, torch.tensor([0, 1, 2, 3, 4]), ["a", "b", "c", "d", "e"], ncols=3, predictions=[0, 1, 0, 3, 4]) is None
    fig = plt.gcf()
    assert len(fig.axes) == 6  # 2 rows × 3 columns, the last panel blank
    assert _titles(fig) == ["a", "b", "c\n→ a", "d", "e"]
    hp.show_images(torch.rand(2, 3, 32, 32))  # RGB, no labels
    with pytest.raises(ValueError, match="N×1×H×W"):
        hp.show_images(torch.rand(2, 28, 28))


def test_show_images_takes_one_hot_labels_and_predictions():
    """One-hot rows are a documented label format (load_data(..., one_hot=True)); they used to raise."""
    X, y = torch.rand(3, 1, 8, 8), torch.tensor([2, 0, 1])
    hp.show_images(X, hp.to_one_hot(y, 3), ["a", "b", "c"], predictions=hp.to_one_hot(torch.tensor([2, 1, 1]), 3))
    assert _titles(plt.gcf()) == ["c", "a\n→ b", "b"]
    hp.show_images(X, y.tolist())  # a plain list, no class names: the indices
    assert _titles(plt.gcf()) == ["2", "0", "1"]


def test_show_images_with_too_few_labels_says_so():
    with pytest.raises(ValueError, match=r"^5 images to show but only 3 labels$"):
        hp.show_images(torch.rand(5, 1, 8, 8), torch.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match=r"^4 images to show but only 2 predictions$"):
        hp.show_images(torch.rand(6, 1, 8, 8), torch.zeros(6, dtype=torch.long), max_images=4, predictions=[0, 1])
    hp.show_images(torch.rand(5, 1, 8, 8), torch.tensor([0, 1, 2]), max_images=3)  # enough for the images shown


def test_kernels_and_feature_maps():
    conv = nn.Conv2d(3, 6, 5)
    hp.show_kernels(conv, in_channel=2)
    assert len(plt.gcf().axes) == 6
    hp.show_feature_maps(conv(torch.rand(1, 3, 12, 12)), ncols=4)
    assert len(plt.gcf().axes) == 8 and "6 of 6 channels" in plt.gcf()._suptitle.get_text()
    with pytest.raises(ValueError, match="show_kernels needs an nn.Conv2d, got Linear"):
        hp.show_kernels(nn.Linear(2, 2))
    with pytest.raises(ValueError, match=r"in_channel must be in \[0, 3\), got 3"):
        hp.show_kernels(conv, in_channel=3)


def test_plot_history_draws_every_curve():
    h = hp.History(train_loss=[1.0, 0.5], train_acc=[0.5, 0.7], test_acc=[0.4, 0.6])
    hp.plot_history({"MLP": h, "CNN": h})
    loss_ax, acc_ax = plt.gcf().axes
    assert len(loss_ax.lines) == 2 and len(acc_ax.lines) == 4


def test_sliding_window_marks_the_cell():
    X = torch.arange(16.0).reshape(4, 4)
    hp.show_sliding_window(X, torch.full((2, 2), 0.25), i=1, j=2)
    assert _titles(plt.gcf())[-1] == "output: cell (1, 2) = 8.5"
    ramp = torch.arange(48.0).reshape(6, 8)
    hp.show_sliding_window(ramp, torch.ones(3, 2), i=1, j=3, stride=(3, 2))
    window_sum = ramp[3:6, 6:8].sum().item()  # stride (3, 2): cell (1, 3) starts at row 3, column 6
    assert _titles(plt.gcf())[-1] == f"output: cell (1, 3) = {window_sum:g}"
    with pytest.raises(ValueError, match="outside"):
        hp.show_sliding_window(X, torch.ones(2, 2), i=3, j=0)


def test_confusion_matrix_picture_has_names_and_counts():
    cm = torch.tensor([[2, 1, 0], [0, 1, 1], [1, 0, 3]])
    assert hp.show_confusion_matrix(cm, ["cat", "dog", "bird"]) is None
    (ax,) = plt.gcf().axes
    assert [t.get_text() for t in ax.get_xticklabels()] == ["cat", "dog", "bird"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["cat", "dog", "bird"]
    assert ax.get_xlabel() == "predicted class" and ax.get_ylabel() == "true class"
    assert [t.get_text() for t in ax.texts] == ["2", "1", "0", "0", "1", "1", "1", "0", "3"]  # row by row
    assert ax.get_title() == "confusion matrix (9 examples)"
    hp.show_confusion_matrix(cm, ["cat", "dog", "bird"], normalize=True)
    (ax,) = plt.gcf().axes
    assert [t.get_text() for t in ax.texts][:3] == ["0.67", "0.33", "0.00"]  # row 0 over its 3 examples
    assert [t.get_text() for t in ax.texts][8] == "0.75"
    with pytest.raises(ValueError, match="class names"):
        hp.show_confusion_matrix(cm, ["cat", "dog"])
    with pytest.raises(ValueError, match="square"):
        hp.show_confusion_matrix(torch.ones(2, 3), ["a", "b"])


def test_misclassified_shows_only_the_mistakes():
    X = torch.rand(6, 3, 32, 32)
    y_true = torch.tensor([0, 1, 2, 0, 1, 2])
    y_pred = torch.tensor([0, 2, 2, 1, 1, 0])  # wrong at 1, 3 and 5
    assert hp.show_misclassified(X, y_true, y_pred, ["a", "b", "c"], ncols=2) is None
    fig = plt.gcf()
    assert len(fig.axes) == 4  # 3 mistakes on a 2×2 grid
    assert _titles(fig) == ["b\n→ c", "a\n→ b", "c\n→ a"]
    assert fig._suptitle.get_text() == "3 of 3 misclassified (of 6): true → predicted"
    hp.show_misclassified(X, y_true, y_pred, ["a", "b", "c"], max_images=2)
    assert _titles(plt.gcf()) == ["b\n→ c", "a\n→ b"]
    with pytest.raises(ValueError, match="no misclassified"):
        hp.show_misclassified(X, y_true, y_true, ["a", "b", "c"])
    with pytest.raises(ValueError, match="same length"):
        hp.show_misclassified(X, y_true[:5], y_pred, ["a", "b", "c"])


def test_architecture_stages_fold_activations_and_name_the_layers():
    net = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 8, 5, stride=2),
                        nn.Sigmoid(), nn.AvgPool2d(2, stride=1), nn.Flatten(), nn.Dropout(0.5), nn.Linear(8, 10))
    assert hp.architecture_stages(net, (1, 1, 16, 16)) == [
        ("input", (1, 16, 16)),
        ("conv 3×3, pad 1 + ReLU", (4, 16, 16)),
        ("max pool 2×2, stride 2", (4, 8, 8)),
        ("conv 5×5, stride 2 + Sigmoid", (8, 2, 2)),
        ("avg pool 2×2, stride 1", (8, 1, 1)),
        ("flatten", (8,)),
        ("dense", (10,)),   # the dropout is not drawn
    ]


def test_show_architecture_draws_one_box_per_stage_with_its_shape():
    net = nn.Sequential(nn.Conv2d(3, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(6 * 14 * 14, 10))
    assert hp.show_architecture(net, (1, 3, 32, 32)) is None
    ax = plt.gcf().axes[0]
    texts = [t.get_text() for t in ax.texts]
    assert len([p for p in ax.patches if isinstance(p, Rectangle)]) == 5
    assert {"3×32×32", "6×28×28", "6×14×14", "1,176", "10"} <= set(texts)
    assert "conv 5×5\n+ ReLU" in texts and "max pool 2×2,\nstride 2" in texts
