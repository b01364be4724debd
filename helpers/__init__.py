"""helpers: the small library behind the CNN course book.

One module per concern, each short enough to read in a sitting:

* ``helpers.device``  — pick CUDA/MPS/CPU, move things, seed everything
* ``helpers.data``    — Fashion-MNIST, MNIST, CIFAR-10 as tensors; mini-batches
* ``helpers.ops``     — from-scratch cross-correlation, pooling, shape formula
* ``helpers.models``  — LeNet-5, AlexNet, VGG, Inception, ResNet-18, init, layer summary,
  parameter and multiply-add counts
* ``helpers.train``   — the one training loop, ``evaluate``
* ``helpers.plot``    — images, kernels, feature maps, curves, the sliding window,
  confusion matrices, misclassified images
* ``helpers.metrics`` — predictions for a whole set, confusion matrix, per-class accuracy
* ``helpers.runmode`` — CPU runs for the book, the textbook's recipe on a GPU, quick runs for CI

Use it as ``import helpers as hp``; everything below is also reachable as ``hp.<name>``.
"""
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
from .models import (
    Inception,
    Residual,
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
from .metrics import confusion_matrix, per_class_accuracy, predict
from .plot import (
    plot_history,
    show_confusion_matrix,
    show_feature_maps,
    show_images,
    show_kernels,
    show_misclassified,
    show_sliding_window,
)
from .runmode import budget, is_quick, run_mode
from .train import History, accuracy, evaluate, train

__version__ = "0.1.0"
