"""The plotting helpers draw what they promise (on the Agg backend)."""

from __future__ import annotations

import warnings

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.patches import Rectangle
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
    assert (
        hp.show_images(
            X,
            torch.tensor([0, 1, 2, 3, 4]),
            ["a", "b", "c", "d", "e"],
            ncols=3,
            predictions=[0, 1, 0, 3, 4],
        )
        is None
    )
    fig = plt.gcf()
    assert len(fig.axes) == 6  # 2 rows × 3 columns, the last panel blank
    assert _titles(fig) == ["a", "b", "c\n→ a", "d", "e"]
    hp.show_images(torch.rand(2, 3, 32, 32))  # RGB, no labels
    with pytest.raises(ValueError, match="N×1×H×W"):
        hp.show_images(torch.rand(2, 28, 28))


def test_show_images_takes_one_hot_labels_and_predictions():
    """One-hot rows are a documented label format (load_data(..., one_hot=True)); they
    used to raise."""
    X, y = torch.rand(3, 1, 8, 8), torch.tensor([2, 0, 1])
    hp.show_images(
        X,
        hp.to_one_hot(y, 3),
        ["a", "b", "c"],
        predictions=hp.to_one_hot(torch.tensor([2, 1, 1]), 3),
    )
    assert _titles(plt.gcf()) == ["c", "a\n→ b", "b"]
    hp.show_images(X, y.tolist())  # a plain list, no class names: the indices
    assert _titles(plt.gcf()) == ["2", "0", "1"]


def test_show_images_with_too_few_labels_says_so():
    with pytest.raises(ValueError, match=r"^5 images to show but only 3 labels$"):
        hp.show_images(torch.rand(5, 1, 8, 8), torch.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match=r"^4 images to show but only 2 predictions$"):
        hp.show_images(
            torch.rand(6, 1, 8, 8),
            torch.zeros(6, dtype=torch.long),
            max_images=4,
            predictions=[0, 1],
        )
    # enough for the images shown
    hp.show_images(torch.rand(5, 1, 8, 8), torch.tensor([0, 1, 2]), max_images=3)


def test_kernels_and_feature_maps():
    conv = nn.Conv2d(3, 6, 5)
    hp.show_kernels(conv, in_channel=2)
    assert len(plt.gcf().axes) == 6
    hp.show_feature_maps(conv(torch.rand(1, 3, 12, 12)), ncols=4)
    assert (
        len(plt.gcf().axes) == 8 and "6 of 6 channels" in plt.gcf()._suptitle.get_text()
    )
    with pytest.raises(
        ValueError, match=r"show_kernels needs an nn\.Conv2d, got Linear"
    ):
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
    # stride (3, 2): cell (1, 3) starts at row 3, column 6
    window_sum = ramp[3:6, 6:8].sum().item()
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
    # row by row
    assert [t.get_text() for t in ax.texts] == [
        "2",
        "1",
        "0",
        "0",
        "1",
        "1",
        "1",
        "0",
        "3",
    ]
    assert ax.get_title() == "confusion matrix (9 examples)"
    hp.show_confusion_matrix(cm, ["cat", "dog", "bird"], normalize=True)
    (ax,) = plt.gcf().axes
    # row 0 over its 3 examples
    assert [t.get_text() for t in ax.texts][:3] == [
        "0.67",
        "0.33",
        "0.00",
    ]
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
    net = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(4, 8, 5, stride=2),
        nn.Sigmoid(),
        nn.AvgPool2d(2, stride=1),
        nn.Flatten(),
        nn.Dropout(0.5),
        nn.Linear(8, 10),
    )
    assert hp.architecture_stages(net, (1, 1, 16, 16)) == [
        ("input", (1, 16, 16)),
        ("conv 3×3, pad 1 + ReLU", (4, 16, 16)),
        ("max pool 2×2, stride 2", (4, 8, 8)),
        ("conv 5×5, stride 2 + Sigmoid", (8, 2, 2)),
        ("avg pool 2×2, stride 1", (8, 1, 1)),
        ("flatten", (8,)),
        ("dense", (10,)),  # the dropout is not drawn
    ]


def test_show_architecture_draws_one_box_per_stage_with_its_shape():
    net = nn.Sequential(
        nn.Conv2d(3, 6, 5),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(6 * 14 * 14, 10),
    )
    assert hp.show_architecture(net, (1, 3, 32, 32)) is None
    ax = plt.gcf().axes[0]
    texts = [t.get_text() for t in ax.texts]
    assert len([p for p in ax.patches if isinstance(p, Rectangle)]) == 5
    assert {"3×32×32", "6×28×28", "6×14×14", "1,176", "10"} <= set(texts)
    assert "conv 5×5\n+ ReLU" in texts and "max pool 2×2,\nstride 2" in texts


# -------------------------------------------------- draw what they are given (issue 19)


def _shown(fig, k: int = 0):
    image = fig.axes[k].images[0]
    return image.get_array(), image.get_clim()


def test_uint8_images_are_drawn_on_the_0_to_255_scale():
    """load_data(..., dtype=torch.uint8) images used to be drawn on [0, 1]: every pixel
    above 1 white."""
    X8 = torch.arange(64, dtype=torch.uint8).reshape(1, 1, 8, 8) * 4
    hp.show_images(X8)
    pixels, clim = _shown(plt.gcf())
    assert clim == (0, 255) and pixels.dtype == np.uint8 and pixels.max() == 252
    hp.show_images(X8.float() / 255)
    pixels, clim = _shown(plt.gcf())
    assert clim == (0, 1) and pixels.max() == pytest.approx(252 / 255)


def test_uint8_colour_images_keep_their_bytes():
    X8 = torch.zeros(1, 3, 4, 4, dtype=torch.uint8)
    X8[0, 0] = 200  # red
    hp.show_images(X8)
    pixels, _ = _shown(plt.gcf())
    assert pixels.dtype == np.uint8 and pixels[0, 0].tolist() == [200, 0, 0]


@pytest.mark.parametrize("X,message", [
    (torch.linspace(0, 255, 64).reshape(1, 1, 8, 8), r"^X holds float pixels from "
                                                     r"0 to 255; they are drawn "
                                                     r"clipped to \[0, 1\] "
                                                     r"\(0–255 values\? "
                                                     r"divide by 255 or pass "
                                                     r"uint8 images\)$"),
    (torch.linspace(-1, 2, 64).reshape(1, 1, 8, 8), r"^X holds float pixels from "
                                                    r"-1 to 2; they are drawn "
                                                    r"clipped to \[0, 1\] "
                                                    r"\(standardised "
                                                    r"images\? undo it: X \* std "
                                                    r"\+ mean\)$"),
])  # fmt: skip
def test_float_pixels_outside_the_unit_range_are_drawn_clipped_with_a_warning(
    X, message
):
    with pytest.warns(UserWarning, match=message):
        hp.show_images(X)
    assert _shown(plt.gcf())[1] == (0, 1)


def test_images_in_the_unit_range_are_drawn_without_a_word():
    """A grey conversion 0.299 R + 0.587 G + 0.114 B of white may land at 1 + 1e-7
    (chapter 8 draws one)."""
    grey = (
        torch.ones(2, 3, 8, 8) * torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
    ).sum(1, keepdim=True) + 1e-7
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hp.show_images(grey)
        hp.show_images(torch.rand(2, 3, 8, 8))


@pytest.mark.parametrize("X,message", [
    (torch.rand(1, 28, 28), r"^show_images expects N×1×H×W or N×3×H×W, got shape "
                            r"\(1, 28, 28\); one image without its batch axis\? "
                            r"X\[None\] "
                            r"has shape \(1, 1, 28, 28\)$"),
    (torch.rand(5, 28, 28), r"^show_images expects N×1×H×W or N×3×H×W, got shape "
                            r"\(5, 28, 28\); grey images without a channel axis\? "
                            r"X\.unsqueeze\(1\) has shape \(5, 1, 28, 28\)$"),
    (torch.rand(28, 28), r"^show_images expects N×1×H×W or N×3×H×W, got shape "
                         r"\(28, 28\); one grey image\? X\[None, None\] has shape "
                         r"\(1, 1, 28, 28\)$"),
    (torch.rand(4, 32, 32, 3), r"^show_images expects N×1×H×W or N×3×H×W, got "
                               r"shape \(4, 32, 32, 3\); channels last\? "
                               r"X\.permute\(0, 3, 1, 2\) has shape \(4, 3, 32, 32\)$"),
    (torch.rand(0, 1, 8, 8), r"^X holds no images \(shape \(0, 1, 8, 8\)\)$"),
    (torch.zeros(2, 1, 8, 8, dtype=torch.int64), r"^X holds torch\.int64 pixels; "
                                                 r"images are uint8 \(0–255\) or "
                                                 r"float in \[0, 1\]: "
                                                 r"X\.to\(torch\.uint8\) if they "
                                                 r"hold 0–255$"),
])  # fmt: skip
def test_show_images_says_how_to_make_a_batch_of_images(X, message):
    with pytest.raises(ValueError, match=message):
        hp.show_images(X)


def test_show_images_takes_a_numpy_array():
    hp.show_images(
        np.random.default_rng(0).random((3, 1, 8, 8)), [0, 1, 2], ["a", "b", "c"]
    )
    assert _titles(plt.gcf()) == ["a", "b", "c"]


@pytest.mark.parametrize("kwargs,message", [
    ({"labels": [0, 1, 7], "class_names": ["a", "b"]},
     r"^class_names has 2 names, but labels include 7; give one name per class, "
     r"e\.g\. hp\.class_names\(\.\.\.\)$"),
    ({"labels": [0, 1, 2], "class_names": ["a", "b", "c"], "predictions": [0, 5, 2]},
     r"^class_names has 3 names, but predictions include 5; give one name per class"),
    ({"labels": [0, -1, 2], "class_names": ["a", "b", "c"]}, r"^class_names has 3 "
                                                             r"names, but labels "
                                                             r"include -1; give "
                                                             r"one name per class"),
    ({"labels": [0, -1, 2]}, r"^labels must be class indices 0, 1, 2, …, got -1$"),
    ({"predictions": [0, 1, 2]}, r"^predictions are shown beside the true labels: "
                                 r"pass those too, show_images\(X, labels, "
                                 r"class_names, "
                                 r"predictions=\.\.\.\)$"),
    ({"max_images": 0}, r"^max_images must be a positive int, got 0$"),
    ({"max_images": 2.5}, r"^max_images must be a positive int, got 2\.5$"),
])  # fmt: skip
def test_show_images_refuses_titles_it_cannot_write(kwargs, message):
    """A label past the class names (or a negative one, which Python would read from the
    end) names no class."""
    with pytest.raises(ValueError, match=message):
        hp.show_images(torch.rand(3, 1, 8, 8), **kwargs)


def test_misclassified_counts_one_hot_labels_as_their_class():
    """One-hot y_true compared with (N,) predictions used to broadcast to N×C and
    miscount."""
    X, y_true = torch.rand(6, 1, 8, 8), torch.tensor([0, 1, 2, 0, 1, 2])
    y_pred = torch.tensor([0, 2, 2, 1, 1, 0])
    hp.show_misclassified(X, hp.to_one_hot(y_true, 3), y_pred, ["a", "b", "c"])
    assert (
        plt.gcf()._suptitle.get_text()
        == "3 of 3 misclassified (of 6): true → predicted"
    )
    assert _titles(plt.gcf()) == ["b\n→ c", "a\n→ b", "c\n→ a"]
    hp.show_misclassified(
        X.numpy(),
        y_true.numpy(),
        torch.softmax(hp.to_one_hot(y_pred, 3) * 5, 1),
        ["a", "b", "c"],
    )
    assert (
        plt.gcf()._suptitle.get_text()
        == "3 of 3 misclassified (of 6): true → predicted"
    )


@pytest.mark.parametrize("histories,message", [
    ([hp.History([1.0], [0.5])], r"^histories must be a History or a dict of "
                                 r"them, got a list; name each run: "
                                 r"plot_history\(\{'run 1': h1, 'run 2': h2\}\)$"),
    ({}, r"^histories must be a History or a dict of them, got an empty dict; "
         r"name each run"),
    ({"run": [1.0, 0.5]}, r"^histories\['run'\] must be a History \(what "
                          r"hp\.train returns\), got a list$"),
])  # fmt: skip
def test_plot_history_needs_histories(histories, message):
    with pytest.raises(ValueError, match=message):
        hp.plot_history(histories)


@pytest.mark.parametrize("cm,message", [
    (torch.tensor([[0.75, 0.25], [0.1, 0.9]]), r"^cm must hold counts \(whole "
                                               r"numbers ≥ 0\), got 0\.75; pass "
                                               r"the counts from "
                                               r"hp\.confusion_matrix and "
                                               r"normalize=True to show each "
                                               r"row's fractions$"),
    (torch.tensor([[3, -1], [0, 2]]), r"^cm must hold counts \(whole numbers ≥ "
                                      r"0\), got -1;"),
])  # fmt: skip
def test_a_confusion_matrix_of_fractions_is_not_shown_as_counts(cm, message):
    """Its cells would print as 0 and its title as "1 examples"."""
    with pytest.raises(ValueError, match=message):
        hp.show_confusion_matrix(cm, ["a", "b"])
    # counts stored as floats are counts
    hp.show_confusion_matrix(torch.tensor([[3.0, 1.0], [0.0, 2.0]]), ["a", "b"])
    assert [t.get_text() for t in plt.gcf().axes[0].texts] == ["3", "1", "0", "2"]


def test_feature_maps_from_numpy():
    hp.show_feature_maps(np.zeros((1, 4, 6, 6)), ncols=2)
    assert len(plt.gcf().axes) == 4
