"""Models against the textbook's layer_summary tables, parameter counts, init."""
from __future__ import annotations

import math

import pytest
import torch
from torch import nn

import helpers as hp


def S(*shape):
    return tuple(shape)


def test_lenet_summary_matches_textbook():
    rows = hp.layer_summary(hp.lenet5(), (1, 1, 28, 28), show=False)
    assert rows == [
        ("Conv2d", S(1, 6, 28, 28)), ("Sigmoid", S(1, 6, 28, 28)), ("AvgPool2d", S(1, 6, 14, 14)),
        ("Conv2d", S(1, 16, 10, 10)), ("Sigmoid", S(1, 16, 10, 10)), ("AvgPool2d", S(1, 16, 5, 5)),
        ("Flatten", S(1, 400)), ("Linear", S(1, 120)), ("Sigmoid", S(1, 120)),
        ("Linear", S(1, 84)), ("Sigmoid", S(1, 84)), ("Linear", S(1, 10)),
    ]  # fmt: skip


def test_vgg11_summary_matches_textbook():
    arch = ((1, 64), (1, 128), (2, 256), (2, 512), (2, 512))
    rows = hp.layer_summary(hp.vgg(arch), (1, 1, 224, 224), show=False)
    assert rows == [
        ("Sequential", S(1, 64, 112, 112)), ("Sequential", S(1, 128, 56, 56)), ("Sequential", S(1, 256, 28, 28)),
        ("Sequential", S(1, 512, 14, 14)), ("Sequential", S(1, 512, 7, 7)), ("Flatten", S(1, 25088)),
        ("Linear", S(1, 4096)), ("ReLU", S(1, 4096)), ("Dropout", S(1, 4096)),
        ("Linear", S(1, 4096)), ("ReLU", S(1, 4096)), ("Dropout", S(1, 4096)), ("Linear", S(1, 10)),
    ]  # fmt: skip


def test_resnet18_summary_matches_textbook():
    rows = hp.layer_summary(hp.resnet18(), (1, 1, 96, 96), show=False)
    assert rows == [("Sequential", S(1, 64, 24, 24)), ("Sequential", S(1, 64, 24, 24)), ("Sequential", S(1, 128, 12, 12)),
                    ("Sequential", S(1, 256, 6, 6)), ("Sequential", S(1, 512, 3, 3)), ("Sequential", S(1, 10))]


def test_residual_block_shapes():
    X = torch.randn(4, 3, 6, 6)
    assert hp.Residual(3, 3)(X).shape == (4, 3, 6, 6)
    assert hp.Residual(3, 6, use_1x1conv=True, stride=2)(X).shape == (4, 6, 3, 3)
    with pytest.raises(ValueError, match="1×1 conv"):
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
    mlp = nn.Sequential(nn.Flatten(), nn.Linear(784, 2048), nn.ReLU(), nn.Linear(2048, 10))
    cnn = nn.Sequential(nn.Conv2d(1, 16, 2), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(2704, 10))
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
    assert hp.vgg(((1, 16), (1, 32)), in_channels=3, image_size=32, hidden=64)(torch.zeros(2, 3, 32, 32)).shape == (2, 10)
    assert hp.resnet18(in_channels=3, num_classes=7)(torch.zeros(2, 3, 40, 40)).shape == (2, 7)


def test_init_xavier_bounds_weights_and_keeps_biases():
    torch.manual_seed(0)
    net = hp.lenet5()
    bias = net[0].bias.clone()
    net.apply(hp.init_xavier)
    w = net[7].weight  # Linear(400, 120)
    assert w.abs().max() <= math.sqrt(6 / (400 + 120))
    assert torch.equal(net[0].bias, bias)


@pytest.mark.parametrize("call", [lambda: hp.vgg(()), lambda: hp.lenet5(in_channels=0), lambda: hp.resnet_block(3, 3, 0),
                                  lambda: hp.layer_summary(hp.lenet5(), (1, 0, 28)), lambda: hp.lenet5(image_size=8)])
def test_bad_model_arguments(call):
    with pytest.raises(ValueError):
        call()


def test_alexnet_summary_matches_textbook():
    rows = hp.layer_summary(hp.alexnet(), (1, 1, 224, 224), show=False)
    shapes = [shape for _, shape in rows]
    assert shapes[:3] == [S(1, 96, 54, 54), S(1, 96, 54, 54), S(1, 96, 26, 26)]
    assert S(1, 256, 12, 12) in shapes and S(1, 256, 5, 5) in shapes
    assert rows[-7:] == [("Linear", S(1, 4096)), ("ReLU", S(1, 4096)), ("Dropout", S(1, 4096)),
                         ("Linear", S(1, 4096)), ("ReLU", S(1, 4096)), ("Dropout", S(1, 4096)), ("Linear", S(1, 10))]
    assert ("Flatten", S(1, 6400)) in rows
    assert hp.alexnet(3, image_size=96)(torch.zeros(2, 3, 96, 96)).shape == (2, 10)


def test_inception_block_concatenates_four_paths():
    block = hp.Inception(192, 64, (96, 128), (16, 32), 32)  # GoogLeNet's first block
    assert block(torch.randn(2, 192, 28, 28)).shape == (2, 64 + 128 + 32 + 32, 28, 28)
    # 1×1: 192·64+64; 1×1→3×3: 192·96+96 + 96·128·9+128; 1×1→5×5: 192·16+16 + 16·32·25+32; pool→1×1: 192·32+32
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
    (lambda: nn.Sequential(nn.Conv2d(8, 16, 3, groups=4, stride=2, padding=1), nn.Flatten(), nn.Linear(16 * 25, 3)), (3, 8, 10, 10)),
])  # fmt: skip
def test_count_macs_agrees_with_pytorchs_flop_counter(make, shape):
    torch.manual_seed(0)
    assert hp.count_macs(make(), shape) == _flop_counter_macs(make(), shape)


def test_layer_macs_by_layer_and_against_conv_macs():
    net = hp.lenet5()
    macs = hp.layer_macs(net, (1, 1, 28, 28))
    assert list(macs) == ["0", "3", "7", "9", "11"]  # the two convs and the three dense layers, in order
    assert macs["0"] == hp.conv_macs(1, 6, (28, 28), 5, padding=2) == 6 * 25 * 28 * 28
    assert macs["3"] == hp.conv_macs(6, 16, (14, 14), 5) and macs["7"] == 400 * 120
    assert hp.count_macs(net, (4, 1, 28, 28)) == 4 * sum(macs.values())  # linear in the batch
    net.train()
    hp.count_macs(net, (1, 1, 28, 28))
    assert net.training  # mode restored
    with pytest.raises(ValueError, match="input_shape"):
        hp.count_macs(net, (1, 0, 28, 28))
