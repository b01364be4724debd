"""The loader against the offline mirror: shapes, dtypes, labels, known statistics, errors."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import torch

import helpers as hp


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*")}


@pytest.mark.parametrize("name,mean,std", [("fashion_mnist", 0.2860, 0.3530), ("mnist", 0.1307, 0.3081)])
def test_mnist_like_train_split(data_dir, name, mean, std):
    X, y = hp.load_data(name, "train", root=data_dir)
    assert X.shape == (60000, 1, 28, 28) and X.dtype == torch.float32
    assert y.shape == (60000,) and y.dtype == torch.int64
    assert 0.0 <= X.min() and X.max() <= 1.0
    assert torch.equal(torch.bincount(y), torch.full((10,), 6000)) if name == "fashion_mnist" else set(y.tolist()) == set(range(10))
    assert abs(X.mean().item() - mean) < 5e-4 and abs(X.std().item() - std) < 5e-4


def test_fashion_mnist_first_label_and_test_split(data_dir):
    X, y = hp.load_data("fashion_mnist", "test", root=data_dir)
    assert X.shape == (10000, 1, 28, 28)
    _, y_train = hp.load_data("fashion-MNIST", n=1, root=data_dir)
    assert y_train.tolist() == [9] and hp.class_names("fashion_mnist")[9] == "Ankle boot"


def test_subset_is_the_first_n_like_torch_subset(data_dir, monkeypatch):
    monkeypatch.setenv("BOOK_DATA_DIR", str(data_dir))  # the environment variable route
    X_all, y_all = hp.load_data("mnist", "test")
    X, y = hp.load_data("mnist", "test", n=1000)
    assert torch.equal(X, X_all[:1000]) and torch.equal(y, y_all[:1000])


def test_one_hot_and_resize(data_dir):
    X, y = hp.load_data("fashion_mnist", "test", n=50, root=data_dir, one_hot=True, resize=96)
    assert X.shape == (50, 1, 96, 96) and 0 <= X.min() and X.max() <= 1
    assert y.shape == (50, 10) and y.dtype == torch.float32
    _, labels = hp.load_data("fashion_mnist", "test", n=50, root=data_dir)
    assert torch.equal(y.argmax(1), labels)
    assert hp.resize_images(torch.rand(3, 3, 32, 32), (8, 16)).shape == (3, 3, 8, 16)


def test_cifar10_from_the_jpeg_tar(data_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("BOOK_CACHE_DIR", str(tmp_path / "cache"))
    X, y = hp.load_data("cifar10", "test", root=data_dir)
    assert X.shape == (10000, 3, 32, 32) and X.dtype == torch.float32
    assert torch.equal(torch.bincount(y), torch.full((10,), 1000))
    assert len(set(y[:100].tolist())) == 10  # the fixed shuffle mixes classes in a first-N subset
    assert list((tmp_path / "cache" / "decoded").glob("*.pt")), "decoded tensors are cached outside the data root"
    X2, y2 = hp.load_data("cifar10", "test", root=data_dir, n=500)  # from the cache
    assert torch.equal(X2, X[:500]) and torch.equal(y2, y[:500])


def test_loader_never_writes_into_the_given_root(data_dir, tmp_path, monkeypatch):
    root = tmp_path / "copy"
    (root / "MNIST" / "raw").mkdir(parents=True)
    for f in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        shutil.copy(data_dir / "MNIST" / "raw" / f, root / "MNIST" / "raw" / f)
    (root / "CIFAR10-jpeg").mkdir()
    shutil.copy(data_dir / "CIFAR10-jpeg" / "test.tar", root / "CIFAR10-jpeg" / "test.tar")
    monkeypatch.setenv("BOOK_CACHE_DIR", str(tmp_path / "cache"))
    before = _snapshot(root)
    hp.load_data("mnist", "test", root=root, n=10)
    hp.load_data("cifar10", "test", root=root, n=10)
    with pytest.raises(hp.DatasetNotFoundError):
        hp.load_data("mnist", "train", root=root)  # missing: an error, not a download into root
    assert _snapshot(root) == before


def test_missing_data_gives_one_clear_error(tmp_path):
    with pytest.raises(hp.DatasetNotFoundError) as info:
        hp.load_data("fashion_mnist", root=tmp_path)
    text = str(info.value)
    assert "Fashion-MNIST was not found" in text and "BOOK_DATA_DIR" in text
    assert str(tmp_path / "FashionMNIST" / "raw" / "train-images-idx3-ubyte") in text


def test_download_failure_is_one_line(tmp_path, monkeypatch):
    """Without BOOK_DATA_DIR the loader downloads; a failing download is one clear error."""
    monkeypatch.delenv("BOOK_DATA_DIR", raising=False)
    monkeypatch.setenv("BOOK_CACHE_DIR", str(tmp_path))
    import torchvision.datasets as tvd

    def offline(*args, **kwargs):
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz:\nTried a mirror, got:\n<urlopen error>")

    monkeypatch.setattr(tvd, "FashionMNIST", offline)
    with pytest.raises(hp.DatasetNotFoundError) as info:
        hp.load_data("fashion_mnist")
    text = str(info.value)
    assert "could not download Fashion-MNIST" in text and "\n" not in text and "BOOK_DATA_DIR" in text
    assert info.value.__suppress_context__  # raised `from None`: no chained torchvision traceback


def test_default_root_is_the_writable_cache(monkeypatch, tmp_path):
    monkeypatch.delenv("BOOK_DATA_DIR", raising=False)
    monkeypatch.setenv("BOOK_CACHE_DIR", str(tmp_path))
    assert hp.data_root() == (tmp_path / "data", False)
    assert hp.data_root("/somewhere") == (Path("/somewhere"), True)


@pytest.mark.parametrize("kwargs,message", [({"name": "imagenet"}, "unknown dataset"), ({"name": "mnist", "split": "val"}, "split"),
                                            ({"name": "mnist", "n": 0}, "n must be"), ({"name": "mnist", "n": 10**6}, "n must be")])
def test_bad_arguments(data_dir, kwargs, message):
    with pytest.raises(ValueError, match=message):
        hp.load_data(root=data_dir, split=kwargs.pop("split", "test"), **kwargs)


def test_read_idx_rejects_other_files(tmp_path):
    bad = tmp_path / "bad"
    bad.write_bytes(b"not an idx file")
    with pytest.raises(ValueError, match="not an IDX file"):
        hp.read_idx(bad)


def test_batches_cover_every_example_once():
    X, y = torch.arange(10.0).reshape(10, 1), torch.arange(10)
    torch.manual_seed(0)
    seen = torch.cat([yb for _, yb in hp.batches(X, y, 3, shuffle=True)])
    assert sorted(seen.tolist()) == list(range(10)) and seen.tolist() != list(range(10))
    assert [len(b) for b, _ in hp.batches(X, y, 4)] == [4, 4, 2]
    assert [len(b) for b, _ in hp.batches(X, y)] == [10]
    with pytest.raises(ValueError, match="disagree"):
        list(hp.batches(X, y[:5], 2))
    with pytest.raises(ValueError, match="positive"):
        list(hp.batches(X, y, 0))


def test_uint8_storage_is_the_float_data_times_255(data_dir):
    X8, y8 = hp.load_data("fashion_mnist", "test", n=200, root=data_dir, dtype=torch.uint8)
    X, y = hp.load_data("fashion_mnist", "test", n=200, root=data_dir)
    assert X8.dtype == torch.uint8 and X8.shape == (200, 1, 28, 28) and torch.equal(y8, y)
    assert torch.equal(hp.to_float(X8), X) and torch.equal(X8.float() / 255, X)
    assert hp.to_float(X) is X  # float images pass unchanged
    with pytest.raises(ValueError, match="uint8 or floating point"):
        hp.to_float(X8.long())


def test_per_batch_resize_equals_resizing_the_whole_set_first(data_dir):
    whole, _ = hp.load_data("fashion_mnist", "test", n=300, root=data_dir, resize=96)
    X8, _ = hp.load_data("fashion_mnist", "test", n=300, root=data_dir, dtype=torch.uint8)
    per_batch = torch.cat([xb for xb, _ in hp.batches(X8, torch.zeros(300), 128, transform=hp.resize_to(96))])
    assert per_batch.dtype == torch.float32 and per_batch.shape == (300, 1, 96, 96)
    assert torch.allclose(per_batch, whole, atol=1e-6)
    rect = hp.resize_to((40, 24))(X8[:5])
    assert rect.shape == (5, 1, 40, 24) and 0 <= rect.min() and rect.max() <= 1
    assert repr(hp.resize_to(224)) == "resize_to(224×224)"


def test_cifar_per_batch_resize_keeps_colour_channels(data_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("BOOK_CACHE_DIR", str(tmp_path))
    X8, _ = hp.load_data("cifar10", "test", n=64, root=data_dir, dtype=torch.uint8)
    X, _ = hp.load_data("cifar10", "test", n=64, root=data_dir, resize=48)
    assert torch.allclose(hp.resize_to(48)(X8), X, atol=1e-6)


@pytest.mark.parametrize("kwargs,message", [
    ({"resize": 224}, r"would hold 12\.0 GB.*dtype=torch\.uint8.*transform=hp\.resize_to\(224\)"),
    ({"resize": 96, "dtype": torch.uint8}, r"resize needs float images.*hp\.resize_to\(96\)"),
    ({"dtype": torch.int64}, "dtype must be torch.uint8 or a floating-point dtype"),
    ({"resize": (0, 5)}, "size must be a positive int"),
])  # fmt: skip
def test_load_data_refuses_what_would_not_fit_and_says_what_to_do(data_dir, kwargs, message):
    with pytest.raises(ValueError, match=message):
        hp.load_data("fashion_mnist", "train", root=data_dir, **kwargs)


def test_resize_arguments_are_checked():
    with pytest.raises(ValueError, match="batch N×C×H×W"):
        hp.resize_to(8)(torch.zeros(3, 8, 8))
    with pytest.raises(ValueError, match="positive int or a pair"):
        hp.resize_to((8, 8, 8))
    with pytest.raises(ValueError, match="float pixels"):
        hp.resize_images(torch.zeros(2, 1, 8, 8, dtype=torch.uint8), 4)
