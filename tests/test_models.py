"""Models against the textbook's layer_summary tables, parameter counts, init."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

import helpers as hp


def S(*shape):  # noqa: N802 (one letter, like torch.Size, keeps the shape tables narrow)
    return tuple(shape)


def test_lenet_summary_matches_textbook():
    rows = hp.layer_summary(hp.lenet5(), (1, 1, 28, 28), show=False)
    assert rows == [
        ("Conv2d", S(1, 6, 28, 28)), ("Sigmoid", S(1, 6, 28, 28)),
        ("AvgPool2d", S(1, 6, 14, 14)),
        ("Conv2d", S(1, 16, 10, 10)), ("Sigmoid", S(1, 16, 10, 10)),
        ("AvgPool2d", S(1, 16, 5, 5)),
        ("Flatten", S(1, 400)), ("Linear", S(1, 120)), ("Sigmoid", S(1, 120)),
        ("Linear", S(1, 84)), ("Sigmoid", S(1, 84)), ("Linear", S(1, 10)),
    ]  # fmt: skip


def test_vgg11_summary_matches_textbook():
    arch = ((1, 64), (1, 128), (2, 256), (2, 512), (2, 512))
    rows = hp.layer_summary(hp.vgg(arch), (1, 1, 224, 224), show=False)
    assert rows == [
        ("Sequential", S(1, 64, 112, 112)), ("Sequential", S(1, 128, 56, 56)),
        ("Sequential", S(1, 256, 28, 28)), ("Sequential", S(1, 512, 14, 14)),
        ("Sequential", S(1, 512, 7, 7)), ("Flatten", S(1, 25088)),
        ("Linear", S(1, 4096)), ("ReLU", S(1, 4096)), ("Dropout", S(1, 4096)),
        ("Linear", S(1, 4096)), ("ReLU", S(1, 4096)), ("Dropout", S(1, 4096)),
        ("Linear", S(1, 10)),
    ]  # fmt: skip


def test_resnet18_summary_matches_textbook():
    rows = hp.layer_summary(hp.resnet18(), (1, 1, 96, 96), show=False)
    assert rows == [
        ("Sequential", S(1, 64, 24, 24)),
        ("Sequential", S(1, 64, 24, 24)),
        ("Sequential", S(1, 128, 12, 12)),
        ("Sequential", S(1, 256, 6, 6)),
        ("Sequential", S(1, 512, 3, 3)),
        ("Sequential", S(1, 10)),
    ]


def test_residual_block_shapes():
    X = torch.randn(4, 3, 6, 6)
    assert hp.Residual(3, 3)(X).shape == (4, 3, 6, 6)
    assert hp.Residual(3, 6, use_1x1conv=True, stride=2)(X).shape == (4, 6, 3, 3)
    with pytest.raises(
        ValueError,
        match=r"^a shortcut without a 1×1 conv needs in_channels == out_channels "
        r"and stride 1$",
    ):
        hp.Residual(3, 6)


def test_layer_summary_prints_table_and_keeps_mode(capsys):
    net = hp.resnet18()
    net.train()
    before = net.b1[1].running_mean.clone()
    hp.layer_summary(net, (2, 1, 64, 64))
    assert net.training and torch.equal(net.b1[1].running_mean, before)
    out = capsys.readouterr().out
    assert "output shape" in out and f"{hp.count_parameters(net):,}" in out


def test_parameter_counts():
    mlp = nn.Sequential(
        nn.Flatten(), nn.Linear(784, 2048), nn.ReLU(), nn.Linear(2048, 10)
    )
    cnn = nn.Sequential(
        nn.Conv2d(1, 16, 2),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(2704, 10),
    )
    assert hp.count_parameters(mlp) == 1_628_170
    assert hp.count_parameters(cnn) == 27_130
    assert hp.count_parameters(hp.lenet5()) == 61_706
    # the lab's LeNet-5 on 3×32×32 CIFAR-10 images: no padding, ReLU, max pooling
    cifar = hp.lenet5(3, image_size=32, padding=0, modern=True)
    assert hp.count_parameters(cifar) == 62_006
    assert cifar(torch.zeros(2, 3, 32, 32)).shape == (2, 10)
    frozen = hp.lenet5()
    frozen[0].weight.requires_grad_(False)
    assert hp.count_parameters(frozen) == 61_706 - 150
    assert hp.count_parameters(frozen, trainable_only=False) == 61_706


def test_models_adapt_to_input_size_and_channels():
    assert hp.vgg(((1, 16), (1, 32)), in_channels=3, image_size=32, hidden=64)(
        torch.zeros(2, 3, 32, 32)
    ).shape == (2, 10)
    assert hp.resnet18(in_channels=3, num_classes=7)(
        torch.zeros(2, 3, 40, 40)
    ).shape == (2, 7)


def test_init_xavier_bounds_weights_and_keeps_biases():
    torch.manual_seed(0)
    net = hp.lenet5()
    bias = net[0].bias.clone()
    net.apply(hp.init_xavier)
    w = net[7].weight  # Linear(400, 120)
    assert w.abs().max() <= math.sqrt(6 / (400 + 120))
    assert torch.equal(net[0].bias, bias)


@pytest.mark.parametrize("call,message", [
    (lambda: hp.vgg(()), r"^arch must list at least one \(num_convs, "
                         r"out_channels\) block$"),
    (lambda: hp.lenet5(in_channels=0), r"^in_channels must be a positive int, got 0$"),
    (lambda: hp.lenet5(num_classes=2.0), r"^num_classes must be a positive int, "
                                         r"got 2\.0$"),
    (lambda: hp.resnet_block(3, 3, 0), r"^num_residuals must be a positive int, "
                                       r"got 0$"),
    (lambda: hp.layer_summary(hp.lenet5(), (1, 0, 28)), r"^input_shape must be "
                                                        r"positive ints like \(1, "
                                                        r"1, 28, 28\), got \(1, "
                                                        r"0, 28\)$"),
    (lambda: hp.layer_summary(hp.lenet5(), (28,)), r"^input_shape must be "
                                                   r"positive ints"),
    (lambda: hp.layer_macs(hp.lenet5(), (1, 1.0, 28, 28)),
     r"^input_shape must be positive ints"),
    (lambda: hp.lenet5(image_size=8), r"^image_size: lenet5 needs images of at "
                                      r"least 12×12 pixels \(its layers shrink "
                                      r"them\), "
                                      r"got 8; resize them, e\.g\. "
                                      r"transform=hp\.resize_to\(12\)$"),
    (lambda: hp.Residual(3, 3, stride=2), r"^a shortcut without a 1×1 conv needs "
                                          r"in_channels == out_channels and "
                                          r"stride 1$"),
    (lambda: hp.Residual(3, 3, use_1x1conv=True, stride=0),
     r"^stride must be a positive int, got 0$"),
    (lambda: hp.vgg_block(0, 3, 8), r"^num_convs must be a positive int, got 0$"),
    (lambda: hp.alexnet(image_size=0), r"^image_size must be a positive int, got 0$"),
    (lambda: hp.resnet18(num_classes=0), r"^num_classes must be a positive int, "
                                         r"got 0$"),
])  # fmt: skip
def test_bad_model_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# ------------------------------------------------------------------------ beyond shapes


def test_layer_summary_prints_each_rows_parameters(capsys):
    rows = hp.layer_summary(
        hp.lenet5(3, image_size=32, padding=0, modern=True), (1, 3, 32, 32)
    )
    lines = capsys.readouterr().out.splitlines()
    assert (
        lines[0].split() == ["layer", "output", "shape", "parameters"]
        and len(lines) == 14
    )
    printed = [
        (line.split()[0], int(line.split()[-1].replace(",", "")))
        for line in lines[1:-1]
    ]
    # conv 3·6·25+6, conv 6·16·25+16, dense 400·120+120, 120·84+84, 84·10+10; the rest
    # have none
    assert printed == [
        ("Conv2d", 456),
        ("ReLU", 0),
        ("MaxPool2d", 0),
        ("Conv2d", 2416),
        ("ReLU", 0),
        ("MaxPool2d", 0),
        ("Flatten", 0),
        ("Linear", 48120),
        ("ReLU", 0),
        ("Linear", 10164),
        ("ReLU", 0),
        ("Linear", 850),
    ]
    assert lines[-1].split() == ["total", "62,006"] and "[1, 6, 28, 28]" in lines[1]
    assert [name for name, _ in rows] == [name for name, _ in printed]
    assert (
        hp.layer_summary(hp.lenet5(), (1, 1, 28, 28), show=False)
        and capsys.readouterr().out == ""
    )


def test_layer_summary_counts_frozen_parameters_too(capsys):
    """The table shows the model's size: a frozen layer (requires_grad=False) still has
    its parameters."""
    net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    net[0].requires_grad_(False)
    hp.layer_summary(net, (1, 3))
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[-1] for line in lines[1:]] == ["16", "0", "10", "26"]


class _ModeRecorder(nn.Module):
    def __init__(self):
        super().__init__()
        self.seen = []
        self.scale = nn.Parameter(torch.ones(()))

    def forward(self, X):
        self.seen.append(self.training)
        return X * self.scale


@pytest.mark.parametrize(
    "summarise",
    [
        lambda m: hp.layer_summary(m, (2, 3), show=False),
        lambda m: hp.count_macs(m, (2, 3)),
    ],
)
@pytest.mark.parametrize("mode", [True, False])
def test_summaries_run_in_eval_mode_and_restore_the_mode(summarise, mode):
    recorder = _ModeRecorder()
    net = nn.Sequential(recorder, nn.Linear(3, 2), nn.BatchNorm1d(2))
    net.train(mode)
    summarise(net)
    assert (
        recorder.seen == [False] and net.training is mode and recorder.training is mode
    )
    assert (
        torch.equal(net[2].running_mean, torch.zeros(2))
        and net[2].num_batches_tracked == 0
    )


def test_layer_summary_runs_on_the_models_device():
    net = nn.Sequential(nn.Flatten(), nn.Linear(4, 2)).to("meta")
    assert hp.layer_summary(net, (3, 1, 2, 2), show=False) == [
        ("Flatten", (3, 4)),
        ("Linear", (3, 2)),
    ]
    assert hp.layer_summary(nn.Sequential(nn.Flatten()), (3, 1, 2, 2), show=False) == [
        ("Flatten", (3, 4))
    ]
    assert (
        hp.count_macs(net, (3, 1, 2, 2)) == 3 * 2 * 4
        and hp.count_macs(nn.Sequential(nn.ReLU()), (1, 2)) == 0
    )


@pytest.mark.parametrize(
    "c_in,c_out,use_1x1conv,stride",
    [(3, 3, False, 1), (3, 6, True, 2), (4, 4, True, 1)],
)
@pytest.mark.parametrize("mode", [True, False])
def test_residual_block_is_relu_of_the_shortcut_when_its_last_batch_norm_is_zero(
    c_in, c_out, use_1x1conv, stride, mode
):
    torch.manual_seed(0)
    block = hp.Residual(c_in, c_out, use_1x1conv=use_1x1conv, stride=stride).train(mode)
    nn.init.zeros_(block.bn2.weight), nn.init.zeros_(block.bn2.bias)
    X = torch.randn(4, c_in, 6, 6)
    shortcut = block.conv3(X) if use_1x1conv else X
    assert torch.equal(block(X), torch.relu(shortcut))
    assert (block.conv3 is not None) is use_1x1conv and block.conv1.stride == (
        stride,
        stride,
    )
    if use_1x1conv:
        assert block.conv3.kernel_size == (1, 1) and block.conv3.stride == (
            stride,
            stride,
        )


def test_residual_block_adds_the_residual_path():
    """With the shortcut taken away (zero input to the sum), what is left is
    ReLU(BN(conv(ReLU(BN(conv X)))))."""
    torch.manual_seed(0)
    block = hp.Residual(3, 3).eval()
    for bn in (block.bn1, block.bn2):
        bn.running_mean.uniform_(-0.5, 0.5), bn.running_var.uniform_(0.5, 2.0)
    X = torch.randn(2, 3, 5, 5)
    residual = block.bn2(block.conv2(torch.relu(block.bn1(block.conv1(X)))))
    assert torch.allclose(block(X), torch.relu(residual + X), atol=1e-6)
    assert not torch.allclose(block(X), torch.relu(residual), atol=1e-3)


def test_resnet_block_halves_only_when_not_first():
    first, later = (
        hp.resnet_block(64, 64, 2, first_block=True),
        hp.resnet_block(64, 128, 3),
    )
    assert [b.conv3 is None for b in first] == [True, True] and [
        b.conv1.stride for b in first
    ] == [(1, 1)] * 2
    assert [b.conv3 is None for b in later] == [False, True, True]
    assert [b.conv1.stride for b in later] == [(2, 2), (1, 1), (1, 1)]
    assert [b.conv1.in_channels for b in later] == [64, 128, 128] and later(
        torch.zeros(1, 64, 8, 8)
    ).shape == (1, 128, 4, 4)


def test_resnet18_parameters_and_stem():
    net = hp.resnet18()
    assert [hp.count_parameters(stage) for stage in net.children()] == [
        3328,
        148224,
        525952,
        2100480,
        8395264,
        5130,
    ]
    assert hp.count_parameters(net) == 11_178_378
    stem = net.b1
    assert (stem[0].kernel_size, stem[0].stride, stem[0].padding) == (
        (7, 7),
        (2, 2),
        (3, 3),
    )
    assert (stem[3].kernel_size, stem[3].stride, stem[3].padding) == (
        3,
        2,
        1,
    ) and isinstance(stem[2], nn.ReLU)
    assert (
        isinstance(net.last[0], nn.AdaptiveAvgPool2d) and net.last[2].in_features == 512
    )


def test_the_big_models_parameters_and_dropout():
    with torch.device("meta"):  # no memory, no initialisation: only the shapes
        assert hp.count_parameters(hp.alexnet()) == 46_764_746
        assert (
            hp.count_parameters(
                hp.vgg(((1, 64), (1, 128), (2, 256), (2, 512), (2, 512)))
            )
            == 128_806_154
        )
    for net in (
        hp.alexnet(dropout=0.3, image_size=96),
        hp.vgg(((1, 8),), dropout=0.3, image_size=32, hidden=16),
    ):
        assert [m.p for m in net.modules() if isinstance(m, nn.Dropout)] == [0.3, 0.3]
    net = hp.vgg(
        ((2, 8), (1, 16)), in_channels=3, image_size=32, hidden=24, num_classes=5
    )
    assert [m.out_channels for m in net.modules() if isinstance(m, nn.Conv2d)] == [
        8,
        8,
        16,
    ]
    assert [
        (m.in_features, m.out_features)
        for m in net.modules()
        if isinstance(m, nn.Linear)
    ] == [(16 * 8 * 8, 24), (24, 24), (24, 5)]
    assert all(
        m.kernel_size == (3, 3) and m.padding == (1, 1)
        for m in net.modules()
        if isinstance(m, nn.Conv2d)
    )
    classic, modern = hp.lenet5(), hp.lenet5(modern=True)
    assert {type(m) for m in classic} >= {nn.Sigmoid, nn.AvgPool2d} and not {
        nn.ReLU,
        nn.MaxPool2d,
    } & {type(m) for m in classic}
    assert {type(m) for m in modern} >= {nn.ReLU, nn.MaxPool2d} and not {
        nn.Sigmoid,
        nn.AvgPool2d,
    } & {type(m) for m in modern}
    assert modern[0].padding == (2, 2) and hp.lenet5(padding=0, image_size=32)[
        0
    ].padding == (0, 0)


def test_inception_is_four_paths_with_relus():
    torch.manual_seed(0)
    block = hp.Inception(6, 2, (3, 4), (2, 3), 5)
    X = torch.randn(2, 6, 7, 7)
    expected = torch.cat([
        torch.relu(block.b1(X)),
        torch.relu(block.b2_2(torch.relu(block.b2_1(X)))),
        torch.relu(block.b3_2(torch.relu(block.b3_1(X)))),
        torch.relu(block.b4_2(nn.functional.max_pool2d(X, 3, stride=1, padding=1))),
    ], dim=1)  # fmt: skip
    assert torch.equal(block(X), expected)
    assert [block.b2_2.kernel_size, block.b3_2.kernel_size] == [(3, 3), (5, 5)]


def test_init_xavier_gives_every_conv_and_linear_the_xavier_spread():
    """Xavier-uniform: U(−a, a) with a = √(6 / (fan_in + fan_out)), fan = channels ×
    kernel area. PyTorch's default is narrower (a = 1/√fan_in), so a no-op init fails
    the lower bounds."""
    torch.manual_seed(0)
    for model in (hp.lenet5(), hp.resnet18(), hp.Inception(8, 4, (4, 8), (2, 4), 4)):
        biases = {
            name: p.clone()
            for name, p in model.named_parameters()
            if not name.endswith("weight")
        }
        bn_weights = [
            m.weight.clone() for m in model.modules() if isinstance(m, nn.BatchNorm2d)
        ]
        model.apply(hp.init_xavier)
        layers = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
        assert layers
        for layer in layers:
            w = layer.weight.detach()
            receptive = w[0, 0].numel() if w.ndim == 4 else 1
            a = math.sqrt(6 / ((w.shape[0] + w.shape[1]) * receptive))
            assert w.abs().max() <= a
            if w.numel() >= 100:
                assert (
                    w.abs().max() > 0.9 * a
                    and abs(w.std().item() / (a / math.sqrt(3)) - 1) < 0.2
                ), layer
        assert all(
            torch.equal(p, biases[name])
            for name, p in model.named_parameters()
            if name in biases
        )
        assert all(
            torch.equal(m.weight, w)
            for m, w in zip(
                (m for m in model.modules() if isinstance(m, nn.BatchNorm2d)),
                bn_weights,
                strict=True,
            )
        )


def test_alexnet_summary_matches_textbook():
    rows = hp.layer_summary(hp.alexnet(), (1, 1, 224, 224), show=False)
    shapes = [shape for _, shape in rows]
    assert shapes[:3] == [S(1, 96, 54, 54), S(1, 96, 54, 54), S(1, 96, 26, 26)]
    assert S(1, 256, 12, 12) in shapes and S(1, 256, 5, 5) in shapes
    assert rows[-7:] == [
        ("Linear", S(1, 4096)),
        ("ReLU", S(1, 4096)),
        ("Dropout", S(1, 4096)),
        ("Linear", S(1, 4096)),
        ("ReLU", S(1, 4096)),
        ("Dropout", S(1, 4096)),
        ("Linear", S(1, 10)),
    ]
    assert ("Flatten", S(1, 6400)) in rows
    assert hp.alexnet(3, image_size=96)(torch.zeros(2, 3, 96, 96)).shape == (2, 10)


def test_inception_block_concatenates_four_paths():
    block = hp.Inception(192, 64, (96, 128), (16, 32), 32)  # GoogLeNet's first block
    assert block(torch.randn(2, 192, 28, 28)).shape == (2, 64 + 128 + 32 + 32, 28, 28)
    # 1×1: 192·64+64; 1×1→3×3: 192·96+96 + 96·128·9+128; 1×1→5×5: 192·16+16 +
    # 16·32·25+32; pool→1×1: 192·32+32
    assert hp.count_parameters(block) == 12352 + 18528 + 110720 + 3088 + 12832 + 6176
    with pytest.raises(ValueError, match="c3 must be"):
        hp.Inception(8, 4, (4, 4), (4, 0), 4)


def _flop_counter_macs(model: nn.Module, shape) -> int:
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    model.eval()
    with counter, torch.no_grad():
        model(torch.zeros(*shape))
    return counter.get_total_flops() // 2


@pytest.mark.parametrize("make,shape", [
    (lambda: hp.lenet5(), (1, 1, 28, 28)),
    (lambda: hp.alexnet(), (1, 1, 224, 224)),
    (lambda: hp.vgg(((1, 16), (1, 32), (2, 64), (2, 128), (2, 128))), (1, 1, 224, 224)),
    (lambda: hp.resnet18(), (2, 1, 96, 96)),
    (lambda: hp.Inception(16, 8, (4, 8), (2, 4), 4), (1, 16, 12, 12)),
    (lambda: nn.Sequential(nn.Conv2d(8, 16, 3, groups=4, stride=2, padding=1),
                           nn.Flatten(), nn.Linear(16 * 25, 3)), (3, 8, 10, 10)),
])  # fmt: skip
def test_count_macs_agrees_with_pytorchs_flop_counter(make, shape):
    torch.manual_seed(0)
    assert hp.count_macs(make(), shape) == _flop_counter_macs(make(), shape)


def test_layer_macs_by_layer_and_against_conv_macs():
    net = hp.lenet5()
    macs = hp.layer_macs(net, (1, 1, 28, 28))
    # the two convs and the three dense layers, in order
    assert list(macs) == [
        "0",
        "3",
        "7",
        "9",
        "11",
    ]
    assert macs["0"] == hp.conv_macs(1, 6, (28, 28), 5, padding=2) == 6 * 25 * 28 * 28
    assert macs["3"] == hp.conv_macs(6, 16, (14, 14), 5) and macs["7"] == 400 * 120
    # linear in the batch
    assert hp.count_macs(net, (4, 1, 28, 28)) == 4 * sum(macs.values())
    net.train()
    hp.count_macs(net, (1, 1, 28, 28))
    assert net.training  # mode restored
    with pytest.raises(ValueError, match="input_shape"):
        hp.count_macs(net, (1, 0, 28, 28))


def test_layer_macs_are_whole_numbers():
    """Integers, also for grouped convolutions (a float would print as 1,234.0 in the
    chapters' tables)."""
    net = nn.Sequential(
        nn.Conv2d(4, 8, 3, groups=2), nn.Flatten(), nn.Linear(8 * 4 * 4, 3)
    )
    macs = hp.layer_macs(net, (1, 4, 6, 6))
    assert macs == {"0": 8 * 4 * 4 * (2 * 3 * 3), "2": 128 * 3} and all(
        type(v) is int for v in macs.values()
    )
    assert type(hp.count_macs(net, (1, 4, 6, 6))) is int


def test_layer_macs_counts_a_shared_layer_each_time_and_removes_its_hooks():
    shared = nn.Linear(3, 3)
    net = nn.Sequential(shared, nn.ReLU(), shared)
    assert hp.layer_macs(net, (2, 3)) == {"0": 2 * (2 * 3 * 3)}  # named once, run twice
    assert all(not m._forward_hooks for m in net.modules())


@pytest.mark.parametrize("make,name", [
    (lambda v: hp.lenet5(in_channels=v), "in_channels"),
    (lambda v: hp.lenet5(num_classes=v), "num_classes"),
    (lambda v: hp.lenet5(image_size=v), "image_size"),
    (lambda v: hp.alexnet(in_channels=v), "in_channels"),
    (lambda v: hp.alexnet(num_classes=v), "num_classes"),
    (lambda v: hp.alexnet(image_size=v), "image_size"),
    (lambda v: hp.vgg_block(v, 3, 8), "num_convs"),
    (lambda v: hp.vgg_block(1, v, 8), "in_channels"),
    (lambda v: hp.vgg_block(1, 3, v), "out_channels"),
    (lambda v: hp.Residual(v, 3, use_1x1conv=True), "in_channels"),
    (lambda v: hp.Residual(3, v, use_1x1conv=True), "out_channels"),
    (lambda v: hp.Residual(3, 3, use_1x1conv=True, stride=v), "stride"),
    (lambda v: hp.resnet_block(3, 3, v), "num_residuals"),
    (lambda v: hp.resnet18(in_channels=v), "in_channels"),
    (lambda v: hp.resnet18(num_classes=v), "num_classes"),
    (lambda v: hp.Inception(v, 1, (1, 1), (1, 1), 1), "in_channels"),
    (lambda v: hp.Inception(4, v, (1, 1), (1, 1), 1), "c1"),
    (lambda v: hp.Inception(4, 1, (v, 1), (1, 1), 1), "c2_reduce"),
    (lambda v: hp.Inception(4, 1, (1, v), (1, 1), 1), "c2"),
    (lambda v: hp.Inception(4, 1, (1, 1), (v, 1), 1), "c3_reduce"),
    (lambda v: hp.Inception(4, 1, (1, 1), (1, v), 1), "c3"),
    (lambda v: hp.Inception(4, 1, (1, 1), (1, 1), v), "c4"),
])  # fmt: skip
def test_every_size_argument_is_checked(make, name):
    for bad in (0, -1, 2.0):
        with pytest.raises(
            ValueError, match=f"^{name} must be a positive int, got {bad!r}$"
        ):
            make(bad)


def test_alexnet_layers_are_the_textbooks():
    """Kernel, stride and padding of every layer (a 12×12 kernel or a 4×4 pool would
    give the same shapes at 224, so the table alone cannot tell)."""
    net = hp.alexnet()
    convs = [
        (m.kernel_size[0], m.stride[0], m.padding[0], m.out_channels)
        for m in net
        if isinstance(m, nn.Conv2d)
    ]
    assert convs == [
        (11, 4, 1, 96),
        (5, 1, 2, 256),
        (3, 1, 1, 384),
        (3, 1, 1, 384),
        (3, 1, 1, 256),
    ]
    assert [(m.kernel_size, m.stride) for m in net if isinstance(m, nn.MaxPool2d)] == [
        (3, 2)
    ] * 3
    assert [type(m).__name__ for m in net] == [
        "Conv2d", "ReLU", "MaxPool2d", "Conv2d", "ReLU", "MaxPool2d",
        "Conv2d", "ReLU", "Conv2d", "ReLU", "Conv2d", "ReLU", "MaxPool2d",
        "Flatten", "Linear", "ReLU", "Dropout", "Linear", "ReLU", "Dropout", "Linear",
    ]  # fmt: skip


@pytest.mark.parametrize(
    "make,sizes",
    [
        (lambda s: hp.alexnet(image_size=s), range(224, 240)),
        (lambda s: hp.lenet5(image_size=s), range(80, 96)),
        (lambda s: hp.lenet5(image_size=s, padding=0, modern=True), range(80, 96)),
        (
            lambda s: hp.vgg(((1, 8), (1, 8), (1, 8)), image_size=s, hidden=8),
            range(80, 96),
        ),
    ],
)
def test_the_dense_layers_fit_every_image_size(make, sizes):
    """The flattened size is computed, not traced: check it at every size of a range
    (shapes only, on the meta device), where rounding in each layer differs."""
    with torch.device("meta"):
        for size in sizes:
            assert make(size)(torch.zeros(1, 1, size, size)).shape == (1, 10), size


def test_resnet_stage_names_and_first_block():
    assert list(hp.resnet18()._modules) == ["b1", "b2", "b3", "b4", "b5", "last"]
    with pytest.raises(
        ValueError,
        match=r"^a shortcut without a 1×1 conv needs in_channels == out_channels "
        r"and stride 1$",
    ):
        # the first stage keeps the channels
        hp.resnet_block(32, 64, 2, first_block=True)


# --- ResNeXt (D2L 8.6.5) ---


def test_resnext_block_keeps_the_textbooks_shape_and_halves_with_a_stride():
    """The textbook's example, ResNeXtBlock(32, 16, 1) on 4×32×96×96: 32 channels, 2
    groups of 16."""
    torch.manual_seed(0)
    block = hp.ResNeXtBlock(32, 32, groups=2, bot_mul=1)
    assert block(torch.randn(4, 32, 96, 96)).shape == (4, 32, 96, 96)
    assert (block.bot_channels, block.conv2.groups, block.conv4, block.bn4) == (
        32,
        2,
        None,
        None,
    )
    down = hp.ResNeXtBlock(32, 64, groups=8, bot_mul=0.5, use_1x1conv=True, stride=2)
    assert down(torch.randn(2, 32, 9, 9)).shape == (2, 64, 5, 5)
    assert (
        down.conv2.stride == (2, 2)
        and down.conv4.stride == (2, 2)
        and down.conv1.stride == (1, 1)
    )
    assert [
        c.kernel_size for c in (down.conv1, down.conv2, down.conv3, down.conv4)
    ] == [(1, 1), (3, 3), (1, 1), (1, 1)]


def test_resnext_block_is_its_layers_by_hand():
    """Eval mode with non-trivial running statistics: the block is ReLU(BN3 conv3
    ReLU(BN2 conv2 ReLU(BN1 conv1 X)) + BN4 conv4 X), and the grouped conv2 is two
    separate 3×3 convolutions, one on each half of the channels."""
    torch.manual_seed(0)
    block = hp.ResNeXtBlock(6, 8, groups=2, bot_mul=0.5, use_1x1conv=True).eval()
    for bn in (block.bn1, block.bn2, block.bn3, block.bn4):
        bn.running_mean.uniform_(-0.5, 0.5), bn.running_var.uniform_(0.5, 2.0)
        bn.weight.data.uniform_(0.5, 1.5), bn.bias.data.uniform_(-0.5, 0.5)
    X = torch.randn(2, 6, 5, 5)
    F = nn.functional
    Y = torch.relu(block.bn1(F.conv2d(X, block.conv1.weight, block.conv1.bias)))
    # (4, 2, 3, 3): each output channel sees the 2 channels of its group
    w, b = (
        block.conv2.weight,
        block.conv2.bias,
    )
    halves = [
        F.conv2d(
            Y[:, 2 * j : 2 * j + 2],
            w[2 * j : 2 * j + 2],
            b[2 * j : 2 * j + 2],
            padding=1,
        )
        for j in range(2)
    ]
    Y = torch.relu(block.bn2(torch.cat(halves, dim=1)))
    Y = block.bn3(F.conv2d(Y, block.conv3.weight, block.conv3.bias))
    shortcut = block.bn4(F.conv2d(X, block.conv4.weight, block.conv4.bias))
    assert torch.allclose(block(X), torch.relu(Y + shortcut), atol=1e-6)
    assert not torch.allclose(
        block(X), torch.relu(Y), atol=1e-3
    ) and not torch.allclose(block(X), torch.relu(shortcut), atol=1e-3)
    # one group's input does not reach the other group's output
    Z = torch.randn(1, 4, 5, 5)
    Z2 = Z.clone()
    Z2[:, 2:] = torch.randn(1, 2, 5, 5)
    assert torch.equal(
        block.conv2(Z)[:, :2], block.conv2(Z2)[:, :2]
    ) and not torch.equal(block.conv2(Z)[:, 2:], block.conv2(Z2)[:, 2:])


@pytest.mark.parametrize("mode", [True, False])
def test_resnext_block_is_relu_of_the_shortcut_when_its_last_batch_norm_is_zero(mode):
    torch.manual_seed(0)
    block = hp.ResNeXtBlock(8, 8, groups=4, bot_mul=0.5).train(mode)
    nn.init.zeros_(block.bn3.weight), nn.init.zeros_(block.bn3.bias)
    X = torch.randn(2, 8, 6, 6)
    assert torch.equal(block(X), torch.relu(X))


def test_resnext_parameters_and_macs_by_hand():
    """c_in=c_out=256, 32 groups, b=128 (ResNeXt-50's first stage, 32×4d) on 56×56."""
    block = hp.ResNeXtBlock(256, 256, groups=32, bot_mul=0.5)
    c, b, g = 256, 128, 32
    conv1, conv2, conv3 = c * b + b, b * (b // g) * 9 + b, b * c + c
    assert (
        [hp.count_parameters(m) for m in (block.conv1, block.conv2, block.conv3)]
        == [conv1, conv2, conv3]
        == [32_896, 4_736, 33_024]
    )
    assert (
        hp.count_parameters(block) == conv1 + conv2 + conv3 + 2 * (b + b + c) == 71_680
    )
    macs = hp.layer_macs(block, (1, c, 56, 56))
    assert macs == {
        "conv1": 56 * 56 * b * c,
        "conv2": 56 * 56 * b * (b // g) * 9,
        "conv3": 56 * 56 * c * b,
    }
    shortcut = hp.ResNeXtBlock(64, 256, groups=1, bot_mul=0.25, use_1x1conv=True)
    assert (
        hp.count_parameters(shortcut.conv4) + hp.count_parameters(shortcut.bn4)
        == 64 * 256 + 256 + 2 * 256
    )


@pytest.mark.parametrize("groups", [2, 4, 8, 32])
def test_grouping_divides_the_3x3_stages_weights_and_multiply_adds_by_the_groups(
    groups,
):
    one, grouped = (
        hp.ResNeXtBlock(64, 64, groups=1, bot_mul=1),
        hp.ResNeXtBlock(64, 64, groups=groups, bot_mul=1),
    )
    assert one.conv2.weight.numel() == groups * grouped.conv2.weight.numel()
    m1, mg = (
        hp.layer_macs(one, (1, 64, 14, 14)),
        hp.layer_macs(grouped, (1, 64, 14, 14)),
    )
    assert m1["conv2"] == groups * mg["conv2"] and (m1["conv1"], m1["conv3"]) == (
        mg["conv1"],
        mg["conv3"],
    )


def test_resnext_block_with_one_group_is_torchvisions_bottleneck_plus_the_conv_biases():
    """ResNet-50's first block (64 → 256 channels, bottleneck 64); torchvision's
    convolutions have no bias."""
    resnet = pytest.importorskip("torchvision.models.resnet")
    with torch.device("meta"):
        ours = hp.ResNeXtBlock(64, 256, groups=1, bot_mul=0.25, use_1x1conv=True)
        theirs = resnet.Bottleneck(
            64,
            64,
            downsample=nn.Sequential(
                nn.Conv2d(64, 256, 1, bias=False), nn.BatchNorm2d(256)
            ),
        )
    biases = sum(m.out_channels for m in ours.modules() if isinstance(m, nn.Conv2d))
    assert (
        hp.count_parameters(ours) - hp.count_parameters(theirs)
        == biases
        == 64 + 64 + 256 + 256
    )
    assert hp.count_parameters(theirs) == 75_008


@pytest.mark.parametrize("call,message", [
    (lambda: hp.ResNeXtBlock(32, 32, groups=3, bot_mul=1),
     r"^the bottleneck's 32 channels \(round\(out_channels · bot_mul\)\) must be a "
     r"positive multiple of groups = 3$"),
    (lambda: hp.ResNeXtBlock(4, 4, groups=1, bot_mul=0.1),
     r"^the bottleneck's 0 channels"),
    (lambda: hp.ResNeXtBlock(4, 4, groups=1, bot_mul=0),
     r"^bot_mul must be a positive number, got 0$"),
    (lambda: hp.ResNeXtBlock(4, 4, groups=1, bot_mul="1"),
     r"^bot_mul must be a positive number, got '1'$"),
    (lambda: hp.ResNeXtBlock(4, 4, groups=1, bot_mul=True),
     r"^bot_mul must be a positive number, got True$"),
    (lambda: hp.ResNeXtBlock(4, 8, groups=1, bot_mul=1),
     r"^a shortcut without a 1×1 conv needs in_channels == out_channels and "
     r"stride 1$"),
    (lambda: hp.ResNeXtBlock(4, 4, groups=1, bot_mul=1, stride=2),
     r"^a shortcut without a 1×1 conv needs"),
    (lambda: hp.ResNeXtBlock(4, 4, groups=0, bot_mul=1),
     r"^groups must be a positive int, got 0$"),
    (lambda: hp.ResNeXtBlock(0, 4, groups=1, bot_mul=1),
     r"^in_channels must be a positive int, got 0$"),
    (lambda: hp.ResNeXtBlock(4, 4, groups=1, bot_mul=1, use_1x1conv=True, stride=0),
     r"^stride must be a positive int, got 0$"),
])  # fmt: skip
def test_bad_resnext_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# ------------------------------------------------------ a learner's mistakes (issue 19)


@pytest.mark.parametrize("make,smallest,name", [
    (lambda s: hp.lenet5(image_size=s), 12, "lenet5"),
    (lambda s: hp.lenet5(image_size=s, padding=0), 16, "lenet5"),
    (lambda s: hp.alexnet(image_size=s), 65, "alexnet"),
    (lambda s: hp.vgg(((1, 8),) * 5, image_size=s, hidden=8), 32, "vgg with 5 blocks"),
    (lambda s: hp.vgg(((1, 8),) * 3, image_size=s, hidden=8), 8, "vgg with 3 blocks"),
])  # fmt: skip
def test_an_image_size_too_small_names_the_smallest_that_works(make, smallest, name):
    """Not "kernel 2×2 is larger than the (padded) input 1×1" from a pooling layer deep
    inside: the builder's own argument, and the size from which it works (checked: it
    builds and runs)."""
    with pytest.raises(
        ValueError,
        match=rf"^image_size: {name} needs images of at least "
        rf"{smallest}×{smallest} pixels \(its layers shrink "
        rf"them\), got {smallest - 1}; resize them, e\.g\. "
        rf"transform=hp\.resize_to\({smallest}\)$",
    ):
        make(smallest - 1)
    with torch.device("meta"):
        assert make(smallest)(torch.zeros(1, 1, smallest, smallest)).shape == (1, 10)


def test_the_builders_record_the_image_size_they_were_built_for():
    assert (
        hp.lenet5().image_size == 28
        and hp.lenet5(3, image_size=32, padding=0).image_size == 32
    )
    assert hp.alexnet().image_size == 224 and hp.alexnet(image_size=96).image_size == 96
    assert (
        hp.vgg(((1, 8),)).image_size == 224
        and hp.vgg(((1, 8),), image_size=32, hidden=8).image_size == 32
    )


def test_layer_summary_without_the_batch_axis_says_so():
    with pytest.raises(
        ValueError,
        match=r"^model: its first convolution takes 1-channel images N×1×H×W, got "
        r"shape \(1, 28, 28\); one image "
        r"without its batch axis\? X\[None\] has shape \(1, 1, 28, 28\) \(torch: "
        r"mat1 and mat2 shapes "
        r"cannot be multiplied \(16x25 and 400x120\)\)$",
    ):
        hp.layer_summary(hp.lenet5(), (1, 28, 28), show=False)


@pytest.mark.parametrize(
    "summarise",
    [
        lambda net, shape: hp.layer_summary(net, shape, show=False),
        hp.count_macs,
        hp.layer_macs,
    ],
)
def test_summaries_at_another_size_name_the_size_the_model_was_built_for(summarise):
    with pytest.raises(
        ValueError,
        match=r"^model: built for 28×28 images \(image_size=28\), got 32×32; "
        r"build it with image_size=32, or "
        r"resize the images: transform=hp\.resize_to\(28\) \(torch: mat1 and mat2 "
        r"shapes cannot be "
        r"multiplied \(1x576 and 400x120\)\)$",
    ):
        summarise(hp.lenet5(), (1, 1, 32, 32))
    with pytest.raises(
        ValueError,
        match=r"^model: its first convolution takes 1-channel images N×1×H×W, got "
        r"shape \(1, 3, 28, 28\); build "
        r"it with in_channels=3 \(torch: Given groups=1, weight of size \[6, 1, 5, 5\]",
    ):
        summarise(hp.lenet5(), (1, 3, 28, 28))


def test_summaries_that_fail_for_another_reason_keep_torchs_error():
    """A mismatch the checks cannot name from outside stays torch's own error,
    unchanged."""
    # built wrong inside: not the reader's input
    net = nn.Sequential(nn.Linear(3, 4), nn.Linear(5, 2))
    with pytest.raises(
        RuntimeError,
        match=r"^mat1 and mat2 shapes cannot be multiplied \(1x4 and 5x2\)$",
    ):
        hp.layer_summary(net, (1, 3), show=False)
    with pytest.raises(
        RuntimeError,
        match=r"^mat1 and mat2 shapes cannot be multiplied \(1x4 and 5x2\)$",
    ):
        hp.count_macs(net, (1, 3))


@pytest.mark.parametrize(
    "call",
    [
        lambda m: hp.count_parameters(m),
        lambda m: hp.layer_summary(m, (1, 1, 28, 28)),
        lambda m: hp.count_macs(m, (1, 1, 28, 28)),
        lambda m: hp.layer_macs(m, (1, 1, 28, 28)),
    ],
)
def test_the_function_that_builds_a_model_is_not_a_model(call):
    with pytest.raises(
        ValueError,
        match=r"^model must be a network \(an nn\.Module\), got the function "
        r"lenet5; call it to build one: "
        r"lenet5\(\.\.\.\)$",
    ):
        call(hp.lenet5)


def test_input_shape_is_a_shape_not_a_batch():
    with pytest.raises(
        ValueError,
        match=r"^input_shape must be a shape like \(1, 1, 28, 28\), got a tensor "
        r"of shape \(2, 1, 28, 28\); pass "
        r"a shape, e\.g\. \(1, \*X\.shape\[1:\]\) for one image$",
    ):
        hp.layer_summary(hp.lenet5(), torch.zeros(2, 1, 28, 28))
    with pytest.raises(
        ValueError,
        match=r"^input_shape must be a shape like \(1, 1, 28, 28\), got a tensor "
        r"of shape \(2, 1, 28, 28\)",
    ):
        hp.count_macs(hp.lenet5(), torch.zeros(2, 1, 28, 28))
