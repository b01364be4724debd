"""Parity with the textbook's own code (d2l 1.0.3), where the d2l package ships it.

d2l is a test/benchmark-only dependency (``make bench-deps``: ``pip install --no-deps
d2l==1.0.3`` plus the modules it imports); without it these tests are skipped.
d2l 1.0.3 ships ``corr2d``, ``init_cnn``, ``LeNet`` and ``Residual``; VGG and ResNet-18
are defined only in the book's chapters, so their tables are checked in test_models.py.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

import helpers as hp

d2l = pytest.importorskip("d2l.torch", reason="d2l is not installed (make bench-deps)")


@pytest.mark.parametrize(
    "h,w,kh,kw", [(3, 3, 2, 2), (6, 8, 1, 2), (7, 5, 3, 3), (9, 9, 9, 1), (5, 12, 4, 5)]
)
def test_corr2d_equals_the_textbooks(h, w, kh, kw):
    torch.manual_seed(h * 100 + w)
    X, K = torch.randn(h, w), torch.randn(kh, kw)
    assert torch.allclose(hp.corr2d(X, K), d2l.corr2d(X, K), atol=1e-6)


def test_init_xavier_is_the_textbooks_init_cnn():
    nets = []
    for init in (hp.init_xavier, d2l.init_cnn):
        torch.manual_seed(0)
        net = hp.lenet5()
        torch.manual_seed(1)
        net.apply(init)
        nets.append(net)
    for a, b in zip(
        nets[0].state_dict().values(), nets[1].state_dict().values(), strict=True
    ):
        assert torch.equal(a, b)


def _d2l_lenet() -> nn.Module:
    model = d2l.LeNet()
    model.apply_init([torch.zeros(1, 1, 28, 28)], d2l.init_cnn)
    return model.net


def test_lenet_has_the_textbooks_layers_shapes_and_parameters():
    ours, theirs = hp.lenet5(), _d2l_lenet()
    assert hp.layer_summary(ours, (1, 1, 28, 28), show=False) == hp.layer_summary(
        theirs, (1, 1, 28, 28), show=False
    )
    assert [tuple(p.shape) for p in ours.parameters()] == [
        tuple(p.shape) for p in theirs.parameters()
    ]
    assert hp.count_parameters(ours) == hp.count_parameters(theirs) == 61_706
    theirs.load_state_dict(ours.state_dict())  # same names, same shapes
    X = torch.rand(4, 1, 28, 28)
    assert torch.equal(ours(X), theirs(X))


@pytest.mark.parametrize(
    "c_in,c_out,use_1x1conv,stride",
    [(3, 3, False, 1), (3, 6, True, 2), (8, 8, True, 1)],
)
def test_residual_block_computes_what_the_textbooks_does(
    c_in, c_out, use_1x1conv, stride
):
    torch.manual_seed(0)
    ours = hp.Residual(c_in, c_out, use_1x1conv=use_1x1conv, stride=stride)
    theirs = d2l.Residual(c_out, use_1x1conv=use_1x1conv, strides=stride)
    X = torch.randn(4, c_in, 6, 6)
    theirs(X)  # materialise the lazy layers
    theirs.load_state_dict(ours.state_dict())  # conv1, conv2, conv3, bn1, bn2 in both
    for mode in (True, False):  # batch statistics, then running statistics
        ours.train(mode), theirs.train(mode)
        assert torch.allclose(ours(X), theirs(X), atol=1e-6)
