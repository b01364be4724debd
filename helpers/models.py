"""The textbook's networks (LeNet-5, VGG, ResNet-18, the ResNeXt block), built with
explicit sizes.

Each constructor returns a plain ``nn.Sequential`` whose top-level children are
the rows of the textbook's ``layer_summary`` table, so ``layer_summary(model,
shape)`` prints the same table. Sizes are computed with the shape formula from
``helpers.ops`` instead of ``Lazy`` layers, so parameters exist (and can be
counted) before the first forward pass.

``lenet5``, ``alexnet`` and ``vgg`` record the ``image_size`` they were built for on the
returned network; an ``image_size`` too small for their layers is refused with the
smallest that works. When a network fails on an input (in ``layer_summary``,
``layer_macs``, and in ``train``/``evaluate``/``predict``), the error names what the
reader can change: the image size or channels the network was built for, a missing batch
or channel axis.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence

import torch
from torch import nn

from .checks import check_model, failure_message, forward
from .ops import conv_output_size

__all__ = [
    "Inception",
    "ResNeXtBlock",
    "Residual",
    "alexnet",
    "count_macs",
    "count_parameters",
    "init_xavier",
    "layer_macs",
    "layer_summary",
    "lenet5",
    "resnet18",
    "resnet_block",
    "vgg",
    "vgg_block",
]


def _positive(**values: int) -> None:
    for name, value in values.items():
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")


# (kernel, padding, stride) of each layer that changes the size
Layers = Sequence[tuple[int, int, int]]


def _smallest_image(layers: Layers) -> int:
    """The smallest side n for which every layer still has a window to apply: walk back
    from an output of 1, each layer needing an input of at least (out − 1)·stride +
    kernel − 2·padding."""
    n = 1
    for kernel, padding, stride in reversed(layers):
        n = max(1, (n - 1) * stride + kernel - 2 * padding)
    return n


def _side_after(image_size: int, layers: Layers, builder: str) -> int:
    """The side of an image_size×image_size input after ``layers``; a too-small
    image_size is refused with the smallest that works (instead of an error about a
    pooling layer deep inside)."""
    smallest = _smallest_image(layers)
    if image_size < smallest:
        raise ValueError(
            f"image_size: {builder} needs images of at least "
            f"{smallest}×{smallest} pixels "
            f"(its layers shrink them), got {image_size}; resize them, e.g. "
            f"transform=hp.resize_to({smallest})"
        )
    for kernel, padding, stride in layers:
        image_size = conv_output_size(image_size, kernel, padding, stride)
    return image_size


def lenet5(
    in_channels: int = 1,
    num_classes: int = 10,
    image_size: int = 28,
    padding: int = 2,
    modern: bool = False,
) -> nn.Sequential:
    """LeNet-5 for in_channels×image_size×image_size inputs → num_classes logits.

    ``modern=False``: the 1998 recipe used by the textbook (sigmoid, average pooling).
    ``modern=True``: ReLU and max pooling, as in the lab. With the defaults (28×28,
    padding 2) the flattened features are 16×5×5 = 400; the lab's CIFAR-10 version is
    ``lenet5(3, image_size=32, padding=0, modern=True)``. The network records
    ``image_size`` (``net.image_size``); it needs at least 12×12 images (16×16 with
    padding 0).
    """
    _positive(in_channels=in_channels, num_classes=num_classes, image_size=image_size)
    act, pool = (nn.ReLU, nn.MaxPool2d) if modern else (nn.Sigmoid, nn.AvgPool2d)
    # conv, pool, conv, pool
    size = _side_after(
        image_size, [(5, padding, 1), (2, 0, 2), (5, 0, 1), (2, 0, 2)], "lenet5"
    )
    net = nn.Sequential(
        nn.Conv2d(in_channels, 6, kernel_size=5, padding=padding), act(),
        pool(kernel_size=2, stride=2),
        nn.Conv2d(6, 16, kernel_size=5), act(),
        pool(kernel_size=2, stride=2),
        nn.Flatten(),
        nn.Linear(16 * size * size, 120), act(),
        nn.Linear(120, 84), act(),
        nn.Linear(84, num_classes),
    )  # fmt: skip
    # a plain attribute (nn.Module's __setattr__ is hinted for tensors and modules)
    net.image_size = image_size  # type: ignore[assignment]
    return net


def alexnet(
    in_channels: int = 1,
    num_classes: int = 10,
    image_size: int = 224,
    dropout: float = 0.5,
) -> nn.Sequential:
    """The textbook's AlexNet (D2L 8.1) for in_channels×image_size×image_size inputs.

    Five convolutions (11×11 stride 4, 5×5, three 3×3) with three 3×3/stride-2 max
    pools, then two 4096-wide dense layers with dropout. On 1×224×224 the
    convolutions leave 256×5×5 = 6,400 features. The network records ``image_size``;
    it needs at least 65×65 images.
    """
    _positive(in_channels=in_channels, num_classes=num_classes, image_size=image_size)
    # the 11×11 conv, then the three pools (the 5×5 and 3×3 convs keep the size)
    size = _side_after(
        image_size, [(11, 1, 4), (3, 0, 2), (3, 0, 2), (3, 0, 2)], "alexnet"
    )
    net = nn.Sequential(
        nn.Conv2d(in_channels, 96, kernel_size=11, stride=4, padding=1), nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(96, 256, kernel_size=5, padding=2), nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(256, 384, kernel_size=3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 384, kernel_size=3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 256, kernel_size=3, padding=1), nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2), nn.Flatten(),
        nn.Linear(256 * size * size, 4096), nn.ReLU(), nn.Dropout(dropout),
        nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(dropout),
        nn.Linear(4096, num_classes),
    )  # fmt: skip
    # a plain attribute (nn.Module's __setattr__ is hinted for tensors and modules)
    net.image_size = image_size  # type: ignore[assignment]
    return net


def vgg_block(num_convs: int, in_channels: int, out_channels: int) -> nn.Sequential:
    """``num_convs`` × (3×3 conv, padding 1, ReLU), then 2×2 max pooling: C_in×H×W →
    C_out×H/2×W/2."""
    _positive(num_convs=num_convs, in_channels=in_channels, out_channels=out_channels)
    layers: list[nn.Module] = []
    for i in range(num_convs):
        layers += [
            nn.Conv2d(
                in_channels if i == 0 else out_channels,
                out_channels,
                kernel_size=3,
                padding=1,
            ),
            nn.ReLU(),
        ]
    layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
    return nn.Sequential(*layers)


def vgg(
    arch: Sequence[tuple[int, int]],
    in_channels: int = 1,
    num_classes: int = 10,
    image_size: int = 224,
    hidden: int = 4096,
    dropout: float = 0.5,
) -> nn.Sequential:
    """VGG from an architecture tuple of (num_convs, out_channels) blocks.

    VGG-11 is ``arch=((1, 64), (1, 128), (2, 256), (2, 512), (2, 512))``; on a 1×224×224
    input its five blocks leave 512×7×7 = 25,088 features for the two ``hidden``-wide
    dense layers with dropout. Each block halves the image, so n blocks need images of
    at least 2ⁿ×2ⁿ; the network records ``image_size``.
    """
    if not arch:
        raise ValueError("arch must list at least one (num_convs, out_channels) block")
    blocks, channels = [], in_channels
    for num_convs, out_channels in arch:
        blocks.append(vgg_block(num_convs, channels, out_channels))
        channels = out_channels
    # each block's pooling
    size = _side_after(
        image_size, [(2, 0, 2)] * len(arch), f"vgg with {len(arch)} blocks"
    )
    net = nn.Sequential(
        *blocks, nn.Flatten(),
        nn.Linear(channels * size * size, hidden), nn.ReLU(), nn.Dropout(dropout),
        nn.Linear(hidden, hidden), nn.ReLU(), nn.Dropout(dropout),
        nn.Linear(hidden, num_classes),
    )  # fmt: skip
    # a plain attribute (nn.Module's __setattr__ is hinted for tensors and modules)
    net.image_size = image_size  # type: ignore[assignment]
    return net


class Residual(nn.Module):
    """The ResNet residual block: C_in×H×W → C_out×(H/stride)×(W/stride).

    Two 3×3 convolutions with batch norm; the input is added back before the
    last ReLU. When the shape changes (``use_1x1conv``) a 1×1 convolution with
    the same stride reshapes the shortcut so the sum is defined.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        use_1x1conv: bool = False,
        stride: int = 1,
    ):
        super().__init__()
        _positive(in_channels=in_channels, out_channels=out_channels, stride=stride)
        if not use_1x1conv and (in_channels != out_channels or stride != 1):
            raise ValueError(
                "a shortcut without a 1×1 conv needs in_channels == out_channels "
                "and stride 1"
            )
        self.conv1 = nn.Conv2d(
            in_channels, out_channels, kernel_size=3, padding=1, stride=stride
        )
        self.conv2 = nn.Conv2d(out_channels, out_channels, kernel_size=3, padding=1)
        self.conv3 = (
            nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=stride)
            if use_1x1conv
            else None
        )
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.bn2 = nn.BatchNorm2d(out_channels)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        Y = torch.relu(self.bn1(self.conv1(X)))
        Y = self.bn2(self.conv2(Y))
        shortcut = self.conv3(X) if self.conv3 is not None else X
        return torch.relu(Y + shortcut)


def resnet_block(
    in_channels: int, out_channels: int, num_residuals: int, first_block: bool = False
) -> nn.Sequential:
    """``num_residuals`` residual blocks; unless ``first_block``, the first one halves H
    and W."""
    _positive(num_residuals=num_residuals)
    blocks = []
    for i in range(num_residuals):
        if i == 0 and not first_block:
            blocks.append(
                Residual(in_channels, out_channels, use_1x1conv=True, stride=2)
            )
        else:
            blocks.append(
                Residual(in_channels if i == 0 else out_channels, out_channels)
            )
    return nn.Sequential(*blocks)


def resnet18(in_channels: int = 1, num_classes: int = 10) -> nn.Sequential:
    """ResNet-18: stem (7×7 conv stride 2, BN, ReLU, 3×3 max pool stride 2), four stages
    of two residual blocks (64, 128, 256, 512 channels), global average pooling, a
    linear layer.

    Any H×W works (the pooling is adaptive); on 1×96×96 the stages give 64×24×24,
    64×24×24, 128×12×12, 256×6×6, 512×3×3.
    """
    _positive(in_channels=in_channels, num_classes=num_classes)
    stem = nn.Sequential(
        nn.Conv2d(in_channels, 64, kernel_size=7, stride=2, padding=3),
        nn.BatchNorm2d(64), nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2, padding=1),
    )  # fmt: skip
    stages: OrderedDict[str, nn.Module] = OrderedDict(b1=stem)
    channels = 64
    for i, out_channels in enumerate((64, 128, 256, 512)):
        stages[f"b{i + 2}"] = resnet_block(
            channels, out_channels, 2, first_block=(i == 0)
        )
        channels = out_channels
    stages["last"] = nn.Sequential(
        nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.Linear(channels, num_classes)
    )
    return nn.Sequential(stages)


class ResNeXtBlock(nn.Module):
    """The ResNeXt block (D2L 8.6.5): C_in×H×W → C_out×(H/stride)×(W/stride).

    A bottleneck residual block whose 3×3 convolution is grouped: a 1×1 convolution to
    ``b = round(bot_mul · out_channels)`` channels, a 3×3 convolution (with the stride)
    split into ``groups`` independent groups of b/groups channels each, a 1×1
    convolution to ``out_channels``; batch norm after each, ReLU after the first two.
    The shortcut, the input itself or (``use_1x1conv``) a 1×1 convolution with the
    stride and a batch norm, is added before the last ReLU. ``groups=1`` is ResNet's
    bottleneck block.

    ``groups`` is the number of groups, as in the textbook's prose and in ``nn.Conv2d``.
    (The textbook's code passes ``bot_channels // groups`` to ``nn.Conv2d``, so there
    its ``groups`` argument is the width of each group: its ``ResNeXtBlock(32, 16, 1)``
    has 2 groups of 16 channels, which is ``ResNeXtBlock(32, 32, groups=2, bot_mul=1)``
    here.)
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        groups: int,
        bot_mul: float,
        use_1x1conv: bool = False,
        stride: int = 1,
    ):
        super().__init__()
        _positive(
            in_channels=in_channels,
            out_channels=out_channels,
            groups=groups,
            stride=stride,
        )
        if (
            isinstance(bot_mul, bool)
            or not isinstance(bot_mul, (int, float))
            or not bot_mul > 0
        ):
            raise ValueError(f"bot_mul must be a positive number, got {bot_mul!r}")
        bot_channels = round(out_channels * bot_mul)
        if bot_channels < 1 or bot_channels % groups:
            raise ValueError(
                f"the bottleneck's {bot_channels} channels (round(out_channels · "
                f"bot_mul)) "
                f"must be a positive multiple of groups = {groups}"
            )
        if not use_1x1conv and (in_channels != out_channels or stride != 1):
            raise ValueError(
                "a shortcut without a 1×1 conv needs in_channels == out_channels "
                "and stride 1"
            )
        self.bot_channels = bot_channels
        self.conv1 = nn.Conv2d(in_channels, bot_channels, kernel_size=1)
        self.conv2 = nn.Conv2d(
            bot_channels,
            bot_channels,
            kernel_size=3,
            padding=1,
            stride=stride,
            groups=groups,
        )
        self.conv3 = nn.Conv2d(bot_channels, out_channels, kernel_size=1)
        self.bn1 = nn.BatchNorm2d(bot_channels)
        self.bn2 = nn.BatchNorm2d(bot_channels)
        self.bn3 = nn.BatchNorm2d(out_channels)
        if use_1x1conv:
            self.conv4: nn.Conv2d | None = nn.Conv2d(
                in_channels, out_channels, kernel_size=1, stride=stride
            )
            self.bn4: nn.BatchNorm2d | None = nn.BatchNorm2d(out_channels)
        else:
            self.conv4 = self.bn4 = None

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        Y = torch.relu(self.bn1(self.conv1(X)))
        Y = torch.relu(self.bn2(self.conv2(Y)))
        Y = self.bn3(self.conv3(Y))
        # bn4 exists exactly when conv4 does
        shortcut = self.bn4(self.conv4(X)) if self.conv4 is not None else X  # type: ignore[misc]
        return torch.relu(Y + shortcut)


class Inception(nn.Module):
    """GoogLeNet's Inception block (D2L 8.4): C_in×H×W → (c1 + c2[1] + c3[1] + c4)×H×W.

    Four parallel paths, concatenated along the channels: a 1×1 conv; 1×1 then 3×3;
    1×1 then 5×5; 3×3 max pooling then 1×1. Every path keeps H and W, and each
    convolution is followed by a ReLU.
    """

    def __init__(
        self,
        in_channels: int,
        c1: int,
        c2: tuple[int, int],
        c3: tuple[int, int],
        c4: int,
    ):
        super().__init__()
        _positive(
            in_channels=in_channels,
            c1=c1,
            c2_reduce=c2[0],
            c2=c2[1],
            c3_reduce=c3[0],
            c3=c3[1],
            c4=c4,
        )
        self.b1 = nn.Conv2d(in_channels, c1, kernel_size=1)
        self.b2_1 = nn.Conv2d(in_channels, c2[0], kernel_size=1)
        self.b2_2 = nn.Conv2d(c2[0], c2[1], kernel_size=3, padding=1)
        self.b3_1 = nn.Conv2d(in_channels, c3[0], kernel_size=1)
        self.b3_2 = nn.Conv2d(c3[0], c3[1], kernel_size=5, padding=2)
        self.b4_1 = nn.MaxPool2d(kernel_size=3, stride=1, padding=1)
        self.b4_2 = nn.Conv2d(in_channels, c4, kernel_size=1)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        b1 = torch.relu(self.b1(X))
        b2 = torch.relu(self.b2_2(torch.relu(self.b2_1(X))))
        b3 = torch.relu(self.b3_2(torch.relu(self.b3_1(X))))
        b4 = torch.relu(self.b4_2(self.b4_1(X)))
        return torch.cat((b1, b2, b3, b4), dim=1)


def init_xavier(module: nn.Module) -> None:
    """Xavier-uniform weights for every ``nn.Linear``/``nn.Conv2d`` (use
    ``model.apply(init_xavier)``).

    This is the textbook's ``init_cnn``; biases keep PyTorch's default.
    """
    if isinstance(module, (nn.Linear, nn.Conv2d)):
        nn.init.xavier_uniform_(module.weight)


def count_parameters(model: nn.Module, trainable_only: bool = True) -> int:
    """Number of scalar parameters in ``model`` (only those with ``requires_grad`` by
    default)."""
    check_model(model)
    return sum(
        p.numel() for p in model.parameters() if p.requires_grad or not trainable_only
    )


def _check_input_shape(input_shape: Sequence[int]) -> None:
    if isinstance(input_shape, torch.Tensor):
        raise ValueError(
            f"input_shape must be a shape like (1, 1, 28, 28), got a tensor of shape "
            f"{tuple(input_shape.shape)}; pass a shape, e.g. (1, *X.shape[1:]) "
            f"for one image"
        )
    if len(input_shape) < 2 or any(
        not isinstance(d, int) or d < 1 for d in input_shape
    ):
        raise ValueError(
            f"input_shape must be positive ints like (1, 1, 28, 28), got "
            f"{tuple(input_shape)!r}"
        )


def layer_summary(
    model: nn.Module, input_shape: Sequence[int], show: bool = True
) -> list[tuple[str, tuple[int, ...]]]:
    """Push a random input of ``input_shape`` (e.g. (1, 1, 28, 28)) through each
    top-level child.

    Returns ``[(layer class name, output shape), ...]`` and, with ``show``, prints
    a table with each layer's output shape and parameter count. The model runs in
    eval mode (batch-norm statistics are left untouched) and its mode is restored.
    An input the model cannot take (no batch axis, another size than it was built for)
    is a ``ValueError`` that says so.
    """
    check_model(model)
    _check_input_shape(input_shape)
    first = next(model.parameters(), None)
    X = X_in = torch.randn(
        *input_shape, device=first.device if first is not None else "cpu"
    )
    rows, was_training = [], model.training
    model.eval()
    try:
        # a with block, not a decorator: mutmut skips decorated functions
        with torch.no_grad():
            for layer in model.children():
                X = layer(X)
                rows.append(
                    (
                        layer.__class__.__name__,
                        tuple(X.shape),
                        count_parameters(layer, trainable_only=False),
                    )
                )
    except (RuntimeError, ValueError) as err:
        message = failure_message(model, X_in, err)
        if message is None:
            raise
        raise ValueError(message) from err
    finally:
        model.train(was_training)
    if show:
        print(f"{'layer':<12} {'output shape':<22} {'parameters':>12}")
        for name, shape, params in rows:
            print(f"{name:<12} {list(shape)!s:<22} {params:>12,}")
        print(
            f"{'total':<12} {'':<22} "
            f"{count_parameters(model, trainable_only=False):>12,}"
        )
    return [(name, shape) for name, shape, _ in rows]


def layer_macs(model: nn.Module, input_shape: Sequence[int]) -> dict[str, int]:
    """Multiply-adds of every ``nn.Conv2d`` and ``nn.Linear`` in ``model`` for one
    forward pass on a zero input of ``input_shape`` (use batch 1, e.g. (1, 1, 224, 224),
    for "per image").

    Keys are the modules' qualified names (``model.named_modules()``), in the order they
    ran. A conv costs (C_in / groups)·k_h·k_w per output value, a linear layer
    ``in_features`` per output value; pooling, activations, batch norm and the
    additions of a residual are not counted (PyTorch's FLOP counter counts the same
    layers and reports 2 FLOPs per multiply-add). An input the model cannot take is a
    ``ValueError`` that names the size it was built for, as in ``layer_summary``.
    """
    check_model(model)
    _check_input_shape(input_shape)
    macs: dict[str, int] = {}

    def hook(name: str) -> Callable[..., None]:
        def count(
            module: nn.Conv2d | nn.Linear, inputs: object, output: torch.Tensor
        ) -> None:
            if isinstance(module, nn.Conv2d):
                kh, kw = module.kernel_size
                per_output = module.in_channels // module.groups * kh * kw
            else:
                per_output = module.in_features
            macs[name] = macs.get(name, 0) + output.numel() * per_output

        return count

    handles = [
        m.register_forward_hook(hook(name))
        for name, m in model.named_modules()
        if isinstance(m, (nn.Conv2d, nn.Linear))
    ]
    first = next(model.parameters(), None)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            forward(
                model,
                torch.zeros(
                    *input_shape, device=first.device if first is not None else "cpu"
                ),
            )
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()
    return macs


def count_macs(model: nn.Module, input_shape: Sequence[int]) -> int:
    """Total multiply-adds of the convolutions and dense layers of ``model`` on
    ``input_shape`` (the sum of ``layer_macs``); with batch 1 it is the cost of one
    image's forward pass."""
    return sum(layer_macs(model, input_shape).values())
