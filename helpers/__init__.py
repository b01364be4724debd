"""helpers: the small library behind the CNN course book.

One module per concern, each short enough to read in a sitting:

* ``helpers.device``  — pick CUDA/MPS/CPU, move things, seed everything
* ``helpers.data``    — Fashion-MNIST, MNIST, CIFAR-10 as tensors; mini-batches
* ``helpers.ops``     — from-scratch cross-correlation, pooling, shape formula
* ``helpers.models``  — LeNet-5, AlexNet, VGG, Inception, ResNet-18, ResNeXt, init,
  layer summary, parameter and multiply-add counts
* ``helpers.train``   — the one training loop, ``evaluate``
* ``helpers.plot``    — images, kernels, feature maps, curves, the sliding window,
  confusion matrices, misclassified images
* ``helpers.animate`` — the sliding window animated: convolution, pooling and transposed
  convolution computed step by step on your own tensors, in a player for notebook and
  website
* ``helpers.metrics`` — predictions for a whole set, confusion matrix, per-class
  accuracy
* ``helpers.tables``  — tables rendered as tables (Markdown), not fixed-width prints
* ``helpers.runmode`` — CPU runs for the book, the textbook's recipe on a GPU, quick
  runs for CI
* ``helpers.checks``  — the mistakes a learner makes, refused or explained in one line
  where they enter
* ``helpers.practice`` — the practice edition's feedback: the book's checks read out as
  a verdict (``hp.checking``)

Use it as ``import helpers as hp``; everything below is also reachable as ``hp.<name>``.
"""

import inspect as _inspect
import sys as _sys
import types as _types
from typing import Any as _Any

from .animate import (
    WindowAnimation,
    animate_conv2d,
    animate_conv_transpose2d,
    animate_pool2d,
)
from .data import (
    DatasetNotFoundError,
    batches,
    cache_dir,
    class_names,
    data_root,
    load_data,
    read_idx,
    resize_images,
    resize_to,
    to_float,
    to_one_hot,
)
from .device import device_name, get_device, seed_everything, to_device
from .metrics import confusion_matrix, per_class_accuracy, predict
from .models import (
    Inception,
    Residual,
    ResNeXtBlock,
    alexnet,
    count_macs,
    count_parameters,
    init_xavier,
    layer_macs,
    layer_summary,
    lenet5,
    resnet18,
    resnet_block,
    vgg,
    vgg_block,
)
from .ops import (
    apply_conv2d,
    conv_macs,
    conv_matrix,
    conv_output_shape,
    conv_output_size,
    corr2d,
    corr2d_multi_in,
    corr2d_multi_in_out,
    corr2d_multi_in_out_1x1,
    pool2d,
)
from .plot import (
    architecture_stages,
    plot_history,
    show_architecture,
    show_confusion_matrix,
    show_feature_maps,
    show_images,
    show_kernels,
    show_misclassified,
    show_sliding_window,
)
from .practice import checking
from .runmode import budget, gpu_seconds_estimate, is_quick, run_mode
from .tables import markdown_table, show_table
from .train import History, accuracy, evaluate, train

__version__ = "0.1.0"

# The public API, one name per line (also what ``from helpers import *`` gives).
__all__ = [
    "DatasetNotFoundError",
    "History",
    "Inception",
    "ResNeXtBlock",
    "Residual",
    "WindowAnimation",
    "__version__",
    "accuracy",
    "alexnet",
    "animate_conv2d",
    "animate_conv_transpose2d",
    "animate_pool2d",
    "apply_conv2d",
    "architecture_stages",
    "batches",
    "budget",
    "cache_dir",
    "checking",
    "class_names",
    "confusion_matrix",
    "conv_macs",
    "conv_matrix",
    "conv_output_shape",
    "conv_output_size",
    "corr2d",
    "corr2d_multi_in",
    "corr2d_multi_in_out",
    "corr2d_multi_in_out_1x1",
    "count_macs",
    "count_parameters",
    "data_root",
    "device_name",
    "evaluate",
    "get_device",
    "gpu_seconds_estimate",
    "init_xavier",
    "is_quick",
    "layer_macs",
    "layer_summary",
    "lenet5",
    "load_data",
    "markdown_table",
    "per_class_accuracy",
    "plot_history",
    "pool2d",
    "predict",
    "read_idx",
    "resize_images",
    "resize_to",
    "resnet18",
    "resnet_block",
    "run_mode",
    "seed_everything",
    "show_architecture",
    "show_confusion_matrix",
    "show_feature_maps",
    "show_images",
    "show_kernels",
    "show_misclassified",
    "show_sliding_window",
    "show_table",
    "to_device",
    "to_float",
    "to_one_hot",
    "train",
    "vgg",
    "vgg_block",
]


# ``helpers.train`` names both a submodule and its main function, and the package
# attribute can hold only one of them: with the function there, ``import helpers.train
# as m`` gave the function, not the module. So the attribute is the module, made
# callable: ``hp.train(...)`` runs ``helpers.train.train(...)``, and ``import
# helpers.train as m; m.evaluate`` works.
class _CallableModule(_types.ModuleType):
    def __call__(self, *args: _Any, **kwargs: _Any) -> _Any:
        return self.train(*args, **kwargs)


# The function imported above is replaced by its module on purpose (see above).
train = _sys.modules[__name__ + ".train"]  # type: ignore[assignment]  # noqa: F811
train.__class__ = _CallableModule
# what hp.train? and tab completion show
train.__signature__ = _inspect.signature(train.train)  # type: ignore[attr-defined]
