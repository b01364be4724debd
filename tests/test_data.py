"""The loader against the offline mirror: shapes, dtypes, labels, known statistics,
errors."""

from __future__ import annotations

import io
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

import helpers as hp
import helpers.data as data_module


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in folder.rglob("*")
    }


@pytest.mark.parametrize(
    "name,mean,std,first,ink,least",
    [
        ("fashion_mnist", 0.2860, 0.3530, [9, 0, 0, 3, 0, 2, 7, 2], 76247, 5),
        ("mnist", 0.1307, 0.3081, [5, 0, 4, 1, 9, 2, 1, 3], 27537, 1),
    ],
)
def test_mnist_like_train_split(data_dir, name, mean, std, first, ink, least):
    X, y = hp.load_data(name, "train", root=data_dir)
    assert X.shape == (60000, 1, 28, 28) and X.dtype == torch.float32
    assert y.shape == (60000,) and y.dtype == torch.int64
    assert X.min() == 0.0 and X.max() == 1.0
    assert (
        torch.equal(torch.bincount(y), torch.full((10,), 6000))
        if name == "fashion_mnist"
        else set(y.tolist()) == set(range(10))
    )
    assert abs(X.mean().item() - mean) < 5e-4 and abs(X.std().item() - std) < 5e-4
    # the official first example
    assert y[:8].tolist() == first and round(X[0].sum().item() * 255) == ink
    _check_images_match_labels(X, y, least)


def _check_images_match_labels(X, y, least: int) -> None:
    """Image-label alignment and orientation from the pictures themselves: the class
    with the least ink (MNIST's 1, Fashion-MNIST's sandal) is least by a margin, and the
    mean 1 / trouser is an upright shape (its columns vary far more than its rows; a
    transposed set would swap them)."""
    ink = torch.stack([X[y == c].mean() for c in range(10)])
    assert ink.argmin().item() == least and ink.sort().values[1] - ink[least] > 0.025
    upright = X[y == 1].mean(0)[0]
    assert upright.mean(0).std() > 2.5 * upright.mean(1).std()


@pytest.mark.parametrize(
    "name,first",
    [("mnist", [7, 2, 1, 0, 4, 1, 4, 9]), ("fashion_mnist", [9, 2, 1, 1, 6, 1, 4, 6])],
)
def test_mnist_like_test_split_starts_with_the_official_labels(data_dir, name, first):
    X, y = hp.load_data(name, "test", root=data_dir)
    assert X.shape == (10000, 1, 28, 28) and y[:8].tolist() == first
    _check_images_match_labels(X, y, least={"mnist": 1, "fashion_mnist": 5}[name])


def test_class_names_in_label_order():
    assert hp.class_names("fashion_mnist") == (
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    )
    assert hp.class_names("MNIST") == ("0", "1", "2", "3", "4", "5", "6", "7", "8", "9")
    assert hp.class_names("CIFAR-10") == (
        "airplane",
        "automobile",
        "bird",
        "cat",
        "deer",
        "dog",
        "frog",
        "horse",
        "ship",
        "truck",
    )
    assert (
        hp.class_names("Fashion MNIST")
        == hp.class_names("fashion-mnist")
        == hp.class_names("FashionMNIST")
    )
    with pytest.raises(
        ValueError,
        match=r"^unknown dataset 'svhn'; choose one of 'Fashion-MNIST', 'MNIST', "
        r"'CIFAR-10'$",
    ):
        hp.class_names("svhn")


def test_fashion_mnist_first_label_and_test_split(data_dir):
    X, _y = hp.load_data("fashion_mnist", "test", root=data_dir)
    assert X.shape == (10000, 1, 28, 28)
    _, y_train = hp.load_data("fashion-MNIST", n=1, root=data_dir)
    assert (
        y_train.tolist() == [9] and hp.class_names("fashion_mnist")[9] == "Ankle boot"
    )


def test_subset_is_the_first_n_like_torch_subset(data_dir, monkeypatch):
    monkeypatch.setenv("BOOK_DATA_DIR", str(data_dir))  # the environment variable route
    X_all, y_all = hp.load_data("mnist", "test")
    X, y = hp.load_data("mnist", "test", n=1000)
    assert torch.equal(X, X_all[:1000]) and torch.equal(y, y_all[:1000])


def test_one_hot_and_resize(data_dir):
    X, y = hp.load_data(
        "fashion_mnist", "test", n=50, root=data_dir, one_hot=True, resize=96
    )
    assert X.shape == (50, 1, 96, 96) and X.min() >= 0 and X.max() <= 1
    assert y.shape == (50, 10) and y.dtype == torch.float32
    _, labels = hp.load_data("fashion_mnist", "test", n=50, root=data_dir)
    assert torch.equal(y.argmax(1), labels)
    assert hp.resize_images(torch.rand(3, 3, 32, 32), (8, 16)).shape == (3, 3, 8, 16)


def test_cifar10_from_the_jpeg_tar(data_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("BOOK_CACHE_DIR", str(tmp_path / "cache"))
    X, y = hp.load_data("cifar10", "test", root=data_dir)
    assert X.shape == (10000, 3, 32, 32) and X.dtype == torch.float32
    assert torch.equal(torch.bincount(y), torch.full((10,), 1000))
    # the mirror's order after the fixed shuffle (seed 0)
    assert y[:10].tolist() == [
        6,
        2,
        9,
        1,
        4,
        1,
        0,
        7,
        0,
        8,
    ]
    # per-channel means of the official test set (0.4942, 0.4851, 0.4504), within JPEG's
    # rounding
    assert torch.allclose(
        X.mean((0, 2, 3)), torch.tensor([0.4942, 0.4851, 0.4504]), atol=1e-3
    )
    # alignment and orientation: only airplanes and ships are bluer than red, with the
    # sky at the top
    blue_minus_red = torch.stack(
        [(X[y == c, 2] - X[y == c, 0]).mean() for c in range(10)]
    )
    assert set((blue_minus_red > 0.03).nonzero().flatten().tolist()) == {0, 8}
    sky = X[(y == 0) | (y == 8), 2]
    assert (
        sky[:, :8].mean() - sky[:, -8:].mean() > 0.15
        and abs(sky[:, :, :8].mean() - sky[:, :, -8:].mean()) < 0.02
    )
    cached = list((tmp_path / "cache" / "decoded").glob("*.pt"))
    assert [p.name for p in cached] == [
        f"cifar10-test-{(data_dir / 'CIFAR10-jpeg' / 'test.tar').stat().st_size}-"
        f"{(data_dir / 'CIFAR10-jpeg' / 'test.tar').stat().st_mtime_ns}.pt"
    ]

    def no_decoding(*args):
        raise AssertionError("decoded the tar again instead of reading the cache")

    monkeypatch.setattr(data_module, "_decode_cifar_tar", no_decoding)
    X2, y2 = hp.load_data("cifar10", "test", root=data_dir, n=500)  # from the cache
    assert torch.equal(X2, X[:500]) and torch.equal(y2, y[:500])


def test_loader_never_writes_into_the_given_root(data_dir, tmp_path, monkeypatch):
    root = tmp_path / "copy"
    (root / "MNIST" / "raw").mkdir(parents=True)
    for f in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        shutil.copy(data_dir / "MNIST" / "raw" / f, root / "MNIST" / "raw" / f)
    (root / "CIFAR10-jpeg").mkdir()
    shutil.copy(
        data_dir / "CIFAR10-jpeg" / "test.tar", root / "CIFAR10-jpeg" / "test.tar"
    )
    monkeypatch.setenv("BOOK_CACHE_DIR", str(tmp_path / "cache"))
    before = _snapshot(root)
    hp.load_data("mnist", "test", root=root, n=10)
    hp.load_data("cifar10", "test", root=root, n=10)
    with pytest.raises(
        hp.DatasetNotFoundError,
        match=r"MNIST was not found \(looked in the read-only folder",
    ):
        # missing: an error, not a download into root
        hp.load_data("mnist", "train", root=root)
    assert _snapshot(root) == before


def test_missing_data_gives_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("BOOK_CACHE_DIR", str(tmp_path / "cache"))
    with pytest.raises(
        hp.DatasetNotFoundError, match="Fashion-MNIST was not found"
    ) as info:
        hp.load_data("fashion_mnist", root=tmp_path)
    raw = tmp_path / "FashionMNIST" / "raw"
    assert str(info.value) == (
        "Fashion-MNIST was not found (looked in the read-only folder "
        f"{tmp_path}). Expected:\n"
        f"  {raw / 'train-images-idx3-ubyte'}\n  {raw / 'train-labels-idx1-ubyte'}\n"
        "Put the files there, point BOOK_DATA_DIR (or root=...) at a folder that "
        "has them, "
        f"or unset both to download into {tmp_path / 'cache' / 'data'} (needs "
        "internet)."
    )
    with pytest.raises(
        hp.DatasetNotFoundError, match=r"^CIFAR-10 was not found"
    ) as info:
        hp.load_data("cifar10", "test", root=tmp_path)
    assert str(info.value).startswith(
        f"CIFAR-10 was not found (looked in the read-only folder {tmp_path}). "
        "Expected:\n"
        f"  {tmp_path / 'cifar-10-batches-py'}\n  "
        f"{tmp_path / 'CIFAR10-jpeg' / 'test.tar'}\nPut the files there"
    )


def test_download_failure_is_one_line(tmp_path, monkeypatch):
    """Without BOOK_DATA_DIR the loader downloads; a failing download is one clear
    error."""
    monkeypatch.delenv("BOOK_DATA_DIR", raising=False)
    monkeypatch.setenv("BOOK_CACHE_DIR", str(tmp_path))
    import torchvision.datasets as tvd

    def offline(*args, **kwargs):
        raise RuntimeError(
            "Error downloading train-images-idx3-ubyte.gz:\nTried a mirror, "
            "got:\n<urlopen error>"
        )

    monkeypatch.setattr(tvd, "FashionMNIST", offline)
    with pytest.raises(
        hp.DatasetNotFoundError, match="could not download Fashion-MNIST"
    ) as info:
        hp.load_data("fashion_mnist")
    text = str(info.value)
    assert (
        text.startswith(
            f"could not download Fashion-MNIST into {tmp_path / 'data'} "
            "(RuntimeError: Error downloading train-images"
        )
        and "\n" not in text
        and "BOOK_DATA_DIR" in text
    )
    # raised `from None`: no chained torchvision traceback
    assert info.value.__suppress_context__


def test_default_root_is_the_writable_cache(monkeypatch, tmp_path):
    monkeypatch.delenv("BOOK_DATA_DIR", raising=False)
    monkeypatch.setenv("BOOK_CACHE_DIR", str(tmp_path))
    assert hp.data_root() == (tmp_path / "data", False)
    assert hp.data_root("/somewhere") == (Path("/somewhere"), True)


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"name": "imagenet"}, "unknown dataset"),
        ({"name": "mnist", "split": "val"}, "split"),
        ({"name": "mnist", "n": 0}, "n must be"),
        ({"name": "mnist", "n": 10**6}, "n must be"),
    ],
)
def test_bad_arguments(data_dir, kwargs, message):
    with pytest.raises(ValueError, match=message):
        hp.load_data(root=data_dir, split=kwargs.pop("split", "test"), **kwargs)


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
    X8, y8 = hp.load_data(
        "fashion_mnist", "test", n=200, root=data_dir, dtype=torch.uint8
    )
    X, y = hp.load_data("fashion_mnist", "test", n=200, root=data_dir)
    assert (
        X8.dtype == torch.uint8 and X8.shape == (200, 1, 28, 28) and torch.equal(y8, y)
    )
    assert torch.equal(hp.to_float(X8), X) and torch.equal(X8.float() / 255, X)
    assert hp.to_float(X) is X  # float images pass unchanged
    with pytest.raises(ValueError, match="uint8 or floating point"):
        hp.to_float(X8.long())


def test_per_batch_resize_equals_resizing_the_whole_set_first(data_dir):
    whole, _ = hp.load_data("fashion_mnist", "test", n=300, root=data_dir, resize=96)
    X8, _ = hp.load_data(
        "fashion_mnist", "test", n=300, root=data_dir, dtype=torch.uint8
    )
    per_batch = torch.cat(
        [
            xb
            for xb, _ in hp.batches(
                X8, torch.zeros(300), 128, transform=hp.resize_to(96)
            )
        ]
    )
    assert per_batch.dtype == torch.float32 and per_batch.shape == (300, 1, 96, 96)
    assert torch.allclose(per_batch, whole, atol=1e-6)
    rect = hp.resize_to((40, 24))(X8[:5])
    assert rect.shape == (5, 1, 40, 24) and rect.min() >= 0 and rect.max() <= 1
    assert (
        repr(hp.resize_to(224)) == "resize_to(224×224)"
        and repr(hp.resize_to((40, 24))) == "resize_to(40×24)"
    )


def test_cifar_per_batch_resize_keeps_colour_channels(data_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("BOOK_CACHE_DIR", str(tmp_path))
    X8, _ = hp.load_data("cifar10", "test", n=64, root=data_dir, dtype=torch.uint8)
    X, _ = hp.load_data("cifar10", "test", n=64, root=data_dir, resize=48)
    assert torch.allclose(hp.resize_to(48)(X8), X, atol=1e-6)


@pytest.mark.parametrize("kwargs,message", [
    ({"resize": 224}, r"would hold 12\.0 "
                      r"GB.*dtype=torch\.uint8.*transform=hp\.resize_to\(224\)"),
    ({"resize": 96, "dtype": torch.uint8},
     r"^resize needs float images; with dtype=torch\.uint8 resize each batch "
     r"instead: train\(\.\.\., transform=hp\.resize_to\(96\)\)$"),
    ({"dtype": torch.int64}, "dtype must be torch.uint8 or a floating-point dtype"),
    ({"resize": (0, 5)}, "size must be a positive int"),
])  # fmt: skip
def test_load_data_refuses_what_would_not_fit_and_says_what_to_do(
    data_dir, kwargs, message
):
    # on the meta device: a missing check costs no memory
    with pytest.raises(ValueError, match=message):
        hp.load_data("fashion_mnist", "train", root=data_dir, device="meta", **kwargs)


def test_the_memory_check_counts_bytes_per_pixel_and_colour_channels(
    data_dir, tmp_path, monkeypatch
):
    """60,000 × 48² pixels: 0.55 GB in float32 (allowed), 1.1 GB in float64 (8 bytes a
    pixel: refused). 10,000 CIFAR-10 images × 3 channels × 95² float32 = 1.08 GB, just
    over the limit (one channel would be 0.36 GB)."""
    X, _ = hp.load_data(
        "fashion_mnist", "train", root=data_dir, device="meta", resize=48
    )
    assert X.shape == (60_000, 1, 48, 48)
    with pytest.raises(
        ValueError,
        match=r"^resizing 60,000 images to 48×48 would hold 1\.1 GB in memory "
        r"\(limit 1\.1 GB\)",
    ):
        hp.load_data(
            "fashion_mnist",
            "train",
            root=data_dir,
            device="meta",
            resize=48,
            dtype=torch.float64,
        )
    monkeypatch.setenv("BOOK_CACHE_DIR", str(tmp_path))
    with pytest.raises(
        ValueError, match=r"^resizing 10,000 images to 95×95 would hold 1\.1 GB"
    ):
        hp.load_data("cifar10", "test", root=data_dir, device="meta", resize=95)
    assert hp.load_data(
        "cifar10", "test", n=8, root=data_dir, device="meta", resize=95
    )[0].shape == (8, 3, 95, 95)


def test_resize_arguments_are_checked():
    with pytest.raises(ValueError, match="batch N×C×H×W"):
        hp.resize_to(8)(torch.zeros(3, 8, 8))
    with pytest.raises(ValueError, match="positive int or a pair"):
        hp.resize_to((8, 8, 8))
    with pytest.raises(ValueError, match="float pixels"):
        hp.resize_images(torch.zeros(2, 1, 8, 8, dtype=torch.uint8), 4)


# ----------------------------------------------------------- the download path, offline


def _idx_bytes(array: np.ndarray) -> bytes:
    """The IDX format: zero, zero, type 0x08 (unsigned byte), ndim, big-endian sizes,
    the bytes."""
    return (
        bytes([0, 0, 8, array.ndim])
        + b"".join(d.to_bytes(4, "big") for d in array.shape)
        + array.tobytes()
    )


def _fake_images(n: int, offset: int) -> np.ndarray:
    """n 28×28 images: a white top row, the rest filled with offset + k (k = the image's
    index)."""
    images = np.empty((n, 28, 28), dtype=np.uint8)
    for k in range(n):
        images[k] = offset + k
        images[k, 0] = 255
    return images


def _python2_pickle(batch: dict) -> bytes:
    """A protocol-2 pickle with a Python 2 byte string in it, as in the official
    CIFAR-10 files (written by Python 2): Python 3 reads those only with
    encoding="latin1"."""
    placeholder = "PLACEHOLDER"
    data = pickle.dumps({"batch_label": placeholder, **batch}, protocol=2)
    unicode = b"X" + len(placeholder).to_bytes(4, "little") + placeholder.encode()
    assert data.count(unicode) == 1
    # SHORT_BINSTRING, not ASCII
    return data.replace(unicode, b"U" + bytes([11]) + b"batch \xe9 1/5")


class _FakeTorchvision:
    """Stand-ins for torchvision's dataset classes: on construction they write tiny
    files where the real ones would put the downloaded data, in the same formats."""

    def __init__(self):
        self.calls = []

    def mnist(self, folder: str):
        def make(root, train, download):
            self.calls.append((folder, root, train, download))
            raw = Path(root) / folder / "raw"
            raw.mkdir(parents=True, exist_ok=True)
            prefix, labels = ("train", [3, 1, 4]) if train else ("t10k", [1, 5])
            (raw / f"{prefix}-images-idx3-ubyte").write_bytes(
                _idx_bytes(_fake_images(len(labels), 10 if train else 50))
            )
            (raw / f"{prefix}-labels-idx1-ubyte").write_bytes(
                _idx_bytes(np.array(labels, dtype=np.uint8))
            )

        return make

    def cifar10(self, root, train, download):
        """torchvision's cifar-10-batches-py: pickled dicts, each row R, G, B planes of
        32×32, row by row."""
        self.calls.append(("CIFAR10", root, train, download))
        folder = Path(root) / "cifar-10-batches-py"
        folder.mkdir(parents=True, exist_ok=True)
        for b, name in enumerate(
            [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
        ):
            images = np.zeros((2, 3, 32, 32), dtype=np.uint8)
            images[:, 0, :16] = 255  # red sky at the top
            # green says which image
            images[:, 1] = np.array([10 * b, 10 * b + 1], dtype=np.uint8)[:, None, None]
            images[:, 2, :, :16] = 200  # blue on the left half
            (folder / name).write_bytes(
                _python2_pickle({"data": images.reshape(2, 3072), "labels": [b, 9 - b]})
            )


@pytest.fixture
def fake_download(monkeypatch, tmp_path):
    import torchvision.datasets as tvd

    monkeypatch.delenv("BOOK_DATA_DIR", raising=False)
    # not there yet: created on the first download
    monkeypatch.setenv("BOOK_CACHE_DIR", str(tmp_path / "new" / "cache"))
    fake = _FakeTorchvision()
    monkeypatch.setattr(tvd, "MNIST", fake.mnist("MNIST"))
    monkeypatch.setattr(tvd, "FashionMNIST", fake.mnist("FashionMNIST"))
    monkeypatch.setattr(tvd, "CIFAR10", fake.cifar10)
    return fake


@pytest.mark.parametrize(
    "name,folder", [("mnist", "MNIST"), ("fashion_mnist", "FashionMNIST")]
)
def test_download_then_read_mnist_like(fake_download, tmp_path, name, folder):
    X, y = hp.load_data(name)
    assert fake_download.calls == [
        (folder, str(tmp_path / "new" / "cache" / "data"), True, True)
    ]
    assert X.shape == (3, 1, 28, 28) and y.tolist() == [3, 1, 4]
    assert torch.equal(X[:, 0, 0], torch.ones(3, 28)) and (
        X[:, 0, 1:] * 255
    ).round().flatten(1).mean(1).tolist() == [10, 11, 12]
    X_test, y_test = hp.load_data(name, "test", dtype=torch.uint8)
    assert (
        y_test.tolist() == [1, 5]
        and X_test[:, 0, 5, 5].tolist() == [50, 51]
        and X_test.dtype == torch.uint8
    )
    assert fake_download.calls[1] == (
        folder,
        str(tmp_path / "new" / "cache" / "data"),
        False,
        True,
    )
    hp.load_data(name, n=2)
    # downloaded once per split, then read from the files
    assert len(fake_download.calls) == 2


def test_download_then_read_cifar10_pickles(fake_download, tmp_path):
    X, y = hp.load_data("cifar10", dtype=torch.uint8)
    assert fake_download.calls == [
        ("CIFAR10", str(tmp_path / "new" / "cache" / "data"), True, True)
    ]
    # data_batch_1 … 5, in order
    assert X.shape == (10, 3, 32, 32) and y.tolist() == [
        0,
        9,
        1,
        8,
        2,
        7,
        3,
        6,
        4,
        5,
    ]
    assert X[:, 1, 0, 0].tolist() == [0, 1, 10, 11, 20, 21, 30, 31, 40, 41]
    assert (X[:, 0, :16] == 255).all() and (
        X[:, 0, 16:] == 0
    ).all()  # red at the top: rows are rows
    assert (X[:, 2, :, :16] == 200).all() and (
        X[:, 2, :, 16:] == 0
    ).all()  # blue on the left: columns are columns
    X_test, y_test = hp.load_data("cifar10", "test")
    assert y_test.tolist() == [5, 4] and torch.equal(
        X_test[:, 1, 0, 0], torch.tensor([50, 51]) / 255
    )
    # the folder holds both splits: no second download
    assert len(fake_download.calls) == 1
    # the training split, read from the folder
    assert hp.load_data("cifar10", n=4)[1].tolist() == [
        0,
        9,
        1,
        8,
    ]


# ------------------------------------------------------------- readers and small pieces


def test_read_idx_reads_images_and_labels(tmp_path):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    (tmp_path / "images").write_bytes(_idx_bytes(images))
    (tmp_path / "labels").write_bytes(_idx_bytes(np.array([7, 2, 9], dtype=np.uint8)))
    assert torch.equal(hp.read_idx(tmp_path / "images"), torch.from_numpy(images))
    assert hp.read_idx(str(tmp_path / "labels")).tolist() == [7, 2, 9]


@pytest.mark.parametrize("data,message", [
    (b"\x00\x00\x08", "is not an IDX file of unsigned bytes"),
    # 4 bytes: a header, nothing else
    (b"\x00\x00\x08\x00", r"is truncated: header says \[\], body has 0 bytes"),
    (b"\x01\x00\x08\x01\x00\x00\x00\x01\x05", "is not an IDX file of unsigned bytes"),
    (b"\x00\x01\x08\x01\x00\x00\x00\x01\x05", "is not an IDX file of unsigned bytes"),
    (b"\x00\x00\x0d\x01\x00\x00\x00\x01\x05", "is not an IDX file of unsigned bytes"),
    (b"\x00\x00\x08\x02\x00\x00\x00\x02\x00\x00\x00\x03\x01\x02\x03\x04\x05",
     r"is truncated: header says \[2, 3\], body has 5 bytes"),
    (b"\x00\x00\x08\x01\x00\x00\x00\x02\x01\x02\x03",
     r"is truncated: header says \[2\], body has 3 bytes"),
    # sizes of 2**24 and more: every byte of each big-endian 4-byte size counts
    (b"\x00\x00\x08\x02\x01\x00\x00\x02\x01\x00\x00\x03\x01",
     r"is truncated: header says \[16777218, 16777219\], body has 1 bytes"),
])  # fmt: skip
def test_read_idx_rejects_other_files(tmp_path, data, message):
    bad = tmp_path / "bad"
    bad.write_bytes(data)
    with pytest.raises(ValueError, match=f"^{bad}.* {message}$"):
        hp.read_idx(bad)


def test_batches_keep_images_and_labels_together_and_follow_the_generator():
    X, y = torch.arange(10.0).reshape(10, 1) * 10, torch.arange(10)
    order = torch.randperm(10, generator=torch.Generator().manual_seed(3))
    got = list(
        hp.batches(X, y, 4, shuffle=True, generator=torch.Generator().manual_seed(3))
    )
    assert [yb.tolist() for _, yb in got] == [
        order[:4].tolist(),
        order[4:8].tolist(),
        order[8:].tolist(),
    ]
    assert all(torch.equal(xb[:, 0], yb * 10.0) for xb, yb in got)
    unshuffled = list(hp.batches(X, y, 4, transform=lambda xb: xb + 1))
    assert [yb.tolist() for _, yb in unshuffled] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert torch.equal(unshuffled[2][0], torch.tensor([[81.0], [91.0]]))
    # one batch holds everything: in order, not shuffled
    (whole,) = hp.batches(X, y, 10, shuffle=True)
    assert torch.equal(whole[1], y)


def test_the_shuffle_is_drawn_on_the_datas_device_or_the_generators(monkeypatch):
    """One randperm per epoch, made where the data lives (no host round trip), or where
    a given generator lives (a CPU generator cannot draw on another device)."""
    drawn, randperm = [], torch.randperm

    def recording(*args, **kwargs):
        out = randperm(*args, **kwargs)
        drawn.append((kwargs.get("device"), out.device))
        return out

    monkeypatch.setattr(torch, "randperm", recording)
    X, y = (
        torch.zeros(6, 2, device="meta"),
        torch.zeros(6, dtype=torch.long, device="meta"),
    )
    plain = list(hp.batches(X, y, 4, shuffle=True))
    seeded = list(
        hp.batches(X, y, 4, shuffle=True, generator=torch.Generator().manual_seed(0))
    )
    assert drawn == [
        (torch.device("meta"), torch.device("meta")),
        (torch.device("cpu"), torch.device("cpu")),
    ]
    assert [xb.device.type for xb, _ in plain + seeded] == ["meta"] * 4


def test_load_data_options(data_dir):
    X, y = hp.load_data(
        "mnist", "test", n=5, root=data_dir, dtype=torch.float64, device="meta"
    )
    assert (
        X.dtype == torch.float64 and X.device.type == "meta" and y.device.type == "meta"
    )
    X, y = hp.load_data("mnist", "test", n=5, root=data_dir, one_hot=True)
    assert y.tolist() == hp.to_one_hot(torch.tensor([7, 2, 1, 0, 4])).tolist()
    X, _ = hp.load_data("mnist", "test", n=5, root=data_dir, resize=(14, 7))
    X8, _ = hp.load_data("mnist", "test", n=5, root=data_dir, dtype=torch.uint8)
    assert X.shape == (5, 1, 14, 7) and torch.allclose(
        X, hp.resize_images(X8.float() / 255, (14, 7))
    )
    assert hp.to_one_hot(torch.tensor([2, 0]), 4).tolist() == [
        [0, 0, 1, 0],
        [1, 0, 0, 0],
    ]
    with pytest.raises(
        ValueError,
        match=r"^n must be an integer from 1 to 10000 for MNIST test, got 2\.5$",
    ):
        hp.load_data("mnist", "test", n=2.5, root=data_dir)


def test_folders_from_the_environment(monkeypatch):
    monkeypatch.delenv("BOOK_CACHE_DIR", raising=False)
    assert hp.cache_dir() == Path.home() / ".cache" / "cnn-book"
    monkeypatch.setenv("BOOK_CACHE_DIR", "~/elsewhere")
    assert hp.cache_dir() == Path.home() / "elsewhere"
    monkeypatch.setenv("BOOK_DATA_DIR", "")  # set but empty: as if unset
    assert hp.data_root() == (Path.home() / "elsewhere" / "data", False)
    monkeypatch.setenv("BOOK_DATA_DIR", "~/mirror")
    assert hp.data_root() == (Path.home() / "mirror", True) and hp.data_root("~/x") == (
        Path.home() / "x",
        True,
    )


def test_half_a_dataset_is_missing_not_half_read(data_dir, tmp_path):
    (tmp_path / "MNIST" / "raw").mkdir(parents=True)
    shutil.copy(
        data_dir / "MNIST" / "raw" / "t10k-images-idx3-ubyte",
        tmp_path / "MNIST" / "raw",
    )
    with pytest.raises(hp.DatasetNotFoundError, match=r"t10k-labels-idx1-ubyte"):
        hp.load_data("mnist", "test", root=tmp_path)


def test_a_tar_without_images_is_refused(tmp_path, monkeypatch):
    import tarfile

    monkeypatch.setenv("BOOK_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "CIFAR10-jpeg").mkdir()
    note = tmp_path / "README"
    note.write_text("no images here")
    with tarfile.open(tmp_path / "CIFAR10-jpeg" / "test.tar", "w") as tar:
        tar.add(note, arcname="test/cat/README")
        tar.add(note, arcname="test/lion/0001.jpg")  # not a CIFAR-10 class
    with pytest.raises(
        ValueError, match=r"test\.tar holds no <class>/<n>\.jpg images$"
    ):
        hp.load_data("cifar10", "test", root=tmp_path)


def test_the_resize_limit_is_one_gibibyte():
    check = data_module._check_resized_size
    # 16,384 · 128² · 4 B = 2³⁰ B exactly: allowed
    check(torch.Size([16384, 1, 28, 28]), 128, torch.float32)
    with pytest.raises(
        ValueError,
        match=r"^resizing 16,385 images to 128×128 would hold 1\.1 GB in memory "
        r"\(limit 1\.1 GB\)",
    ):
        check(torch.Size([16385, 1, 28, 28]), 128, torch.float32)
    # half the bytes per pixel
    check(torch.Size([16385, 1, 28, 28]), (128, 128), torch.float16)
    with pytest.raises(
        ValueError, match=r"^resizing 2 images to 65536×8193 would hold"
    ):
        check(torch.Size([2, 1, 28, 28]), (65536, 8193), torch.float32)


def test_resize_in_chunks_is_resizing_at_once():
    X = torch.rand(5, 3, 12, 10)
    whole = hp.resize_images(X, (7, 9))
    assert whole.shape == (5, 3, 7, 9) and torch.equal(
        hp.resize_images(X, (7, 9), chunk=2), whole
    )
    assert torch.allclose(
        whole,
        torch.nn.functional.interpolate(
            X, size=(7, 9), mode="bilinear", antialias=True
        ),
        atol=1e-6,
    )
    # already that size
    assert (
        torch.equal(hp.resize_to((7, 9))(X), whole) and hp.resize_to((12, 10))(X) is X
    )
    with pytest.raises(
        ValueError,
        match=r"^resize_images expects a batch N×C×H×W, got shape \(3, 12, 10\); "
        r"one image without its batch axis\? X\[None\] has shape \(1, 3, 12, 10\)$",
    ):
        hp.resize_images(X[0], 4)
    for bad in (0, (4,), (4, True), (4, 4.0), (4, 4, 4)):
        with pytest.raises(
            ValueError, match=r"^size must be a positive int or a pair of them, got"
        ):
            hp.resize_to(bad)


def test_resized_pixels_stay_in_the_unit_range():
    """Resizing an all-white image lands a few values at 1 + 2⁻²² in float32; both
    resizers clamp them."""
    white = torch.ones(2, 3, 32, 32)
    assert (
        hp.resize_images(white, (7, 9)).max() == 1.0
        and hp.resize_to((7, 9))(white).max() == 1.0
    )
    assert hp.resize_to((1, 3))(torch.zeros(1, 1, 4, 4, dtype=torch.uint8)).shape == (
        1,
        1,
        1,
        3,
    )


def test_load_data_checks_its_arguments_in_full(data_dir):
    # every example is a valid n
    assert len(hp.load_data("mnist", "test", n=10000, root=data_dir)[1]) == 10000
    with pytest.raises(
        ValueError,
        match=r"^dtype must be torch\.uint8 or a floating-point dtype, got 'float32'$",
    ):
        hp.load_data("mnist", "test", root=data_dir, dtype="float32")
    with pytest.raises(
        ValueError, match=r"^split must be 'train' or 'test', got 'TRAIN'$"
    ):
        hp.load_data("mnist", "TRAIN", root=data_dir)


def _jpeg(pixels: np.ndarray) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="JPEG", quality=95)
    return out.getvalue()


def test_decoding_a_jpeg_tar(tmp_path, monkeypatch):
    """The mirror's layout <split>/<class>/<n>.jpg (a shorter <class>/<n>.jpg too),
    sorted by class and name, then one fixed permutation; grey JPEGs become RGB; other
    members are skipped."""
    import tarfile

    monkeypatch.setenv("BOOK_CACHE_DIR", str(tmp_path / "cache"))
    sky = np.zeros((32, 32, 3), dtype=np.uint8)
    sky[:16] = (40, 90, 250)  # blue above, black below
    grey = np.full((32, 32), 128, dtype=np.uint8)
    members = {
        "test/ship/0002.jpg": _jpeg(sky),
        "test/ship/0001.jpg": _jpeg(sky[::-1].copy()),
        "cat/0007.jpg": _jpeg(grey),
        "test/cat/notes.txt": b"not an image",
        "test/truck/0001.JPG": _jpeg(sky),
    }
    (tmp_path / "CIFAR10-jpeg").mkdir()
    for split in ("train", "test"):
        with tarfile.open(tmp_path / "CIFAR10-jpeg" / f"{split}.tar", "w") as tar:
            info = tarfile.TarInfo("test/cat/0001.jpg")
            info.type = tarfile.DIRTYPE  # a folder with an image's name
            tar.addfile(info)
            for name, data in members.items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    X, y = hp.load_data("cifar10", "test", root=tmp_path, dtype=torch.uint8)
    order = torch.randperm(3, generator=torch.Generator().manual_seed(0))
    # cat/0007, ship/0001, ship/0002, then the permutation
    assert torch.equal(y, torch.tensor([3, 8, 8])[order])
    X = X[order.argsort()]  # back to the sorted order
    # grey in all three channels
    assert X.shape == (3, 3, 32, 32) and (X[0].float() - 128).abs().max() <= 2
    # ship/0001: blue below
    assert X[1, 2, 16:].float().mean() > 200 and X[1, 2, :16].float().mean() < 20
    # ship/0002: blue above, little red
    assert X[2, 2, :16].float().mean() > 200 and X[2, 0, :16].float().mean() < 60
    # a second tar, cached beside
    assert hp.load_data("cifar10", "train", root=tmp_path)[0].shape == (
        3,
        3,
        32,
        32,
    )
    assert len(list((tmp_path / "cache" / "decoded").glob("*.pt"))) == 2


# ------------------------------------------------------ a learner's mistakes (issue 19)


@pytest.mark.parametrize("y,num_classes,message", [
    (torch.tensor([[3], [1]]), 10, r"^y must be a 1-D tensor of class indices "
                                   r"\(N,\), got shape \(2, 1\); one column\? "
                                   r"y\.flatten\(\)$"),
    (torch.eye(3), 3, r"^y must be a 1-D tensor of class indices \(N,\), got "
                      r"shape \(3, 3\); one-hot rows\? y\.argmax\(dim=1\)$"),
    (torch.zeros(2, 1, 1, dtype=torch.long), 3, r"^y must be a 1-D tensor of "
                                                r"class indices \(N,\), got shape "
                                                r"\(2, 1, 1\)$"),
    (torch.tensor([1.0, 2.0]), 10, r"^y must hold integer class indices, got "
                                   r"torch\.float32; convert them: y\.long\(\)$"),
    (torch.tensor([0, 3]), 3, r"^y holds labels from 0 to 3, outside \[0, 3\); "
                              r"pass num_classes=4 or shift the labels to start "
                              r"at 0$"),
    (torch.tensor([-1, 2]), 3, r"^y holds labels from -1 to 2, outside \[0, 3\); "
                               r"pass num_classes=3 or shift the labels to start "
                               r"at 0$"),
    (torch.tensor([0, 1]), 0, r"^num_classes must be a positive int, got 0$"),
    (torch.tensor([0, 1]), 2.0, r"^num_classes must be a positive int, got 2\.0$"),
])  # fmt: skip
def test_to_one_hot_refuses_what_is_not_class_indices(y, num_classes, message):
    """(N, 1) used to give N×1×10, silently."""
    with pytest.raises(ValueError, match=message):
        hp.to_one_hot(y, num_classes)


def test_to_one_hot_takes_labels_up_to_the_last_class_and_none():
    assert hp.to_one_hot(torch.tensor([0, 2]), 3).tolist() == [[1, 0, 0], [0, 0, 1]]
    assert hp.to_one_hot(torch.zeros(0, dtype=torch.long), 3).shape == (0, 3)


@pytest.mark.parametrize("size", [32, 28])
def test_resize_to_refuses_0_to_255_floats_at_every_size(size):
    """It used to clamp them to [0, 1] when resizing (to 32) but leave them at 0–255
    when not (28)."""
    with pytest.raises(
        ValueError,
        match=r"^resize_to needs float pixels in \[0, 1\] \(it clamps to that "
        r"range\), got values from 0 to 255; "
        r"0–255 values\? divide by 255, or pass the uint8 images$",
    ):
        hp.resize_to(size)(torch.linspace(0, 255, 2 * 784).reshape(2, 1, 28, 28))


def test_resize_images_refuses_pixels_outside_the_unit_range():
    with pytest.raises(
        ValueError,
        match=r"^resize_images needs float pixels in \[0, 1\] \(it clamps to that "
        r"range\), got values from "
        r"-1 to 1$",
    ):
        hp.resize_images(torch.linspace(-1, 1, 2 * 784).reshape(2, 1, 28, 28), 32)


def test_resize_to_checks_the_values_of_the_first_float_batch_only(monkeypatch):
    """One host read for the whole run, not one per batch; uint8 batches need none."""
    import helpers.checks as checks

    reads, real = [], checks.pixel_range
    monkeypatch.setattr(
        checks, "pixel_range", lambda X: reads.append(len(X)) or real(X)
    )
    resize = hp.resize_to(16)
    resize(torch.zeros(3, 1, 8, 8, dtype=torch.uint8))
    for n in (4, 5, 6):
        resize(torch.rand(n, 1, 8, 8))
    assert reads == [4]


@pytest.mark.parametrize(
    "resize", [hp.resize_to(64), lambda X: hp.resize_images(X, 64)]
)
def test_resizers_refuse_channels_last_batches(resize):
    """An N×H×W×C batch would be resized along (W, C), the height taken as channels."""
    who = "resize_to" if isinstance(resize, hp.resize_to) else "resize_images"
    with pytest.raises(
        ValueError,
        match=rf"^{who} expects a batch N×C×H×W, got shape \(2, 32, 32, 3\); "
        r"channels last\? "
        rf"X\.permute\(0, 3, 1, 2\) has shape \(2, 3, 32, 32\)$",
    ):
        resize(torch.rand(2, 32, 32, 3))


@pytest.mark.parametrize("call,message", [
    (lambda: hp.resize_to(224 / 2), r"^size must be a positive int or a pair of "
                                    r"them, got 112\.0; pixels are whole: "
                                    r"size=112$"),
    (lambda: hp.resize_to(0.5), r"^size must be a positive int or a pair of them, "
                                r"got 0\.5$"),
    (lambda: hp.resize_to(torch.zeros(2, 1, 8, 8)), r"^size must be a positive "
                                                    r"int or a pair of them, got "
                                                    r"a tensor of shape \(2, 1, "
                                                    r"8, 8\)$"),
    (lambda: hp.resize_to(True), r"^size must be a positive int or a pair of "
                                 r"them, got True$"),
    (lambda: hp.resize_to("224"), r"^size must be a positive int or a pair of "
                                  r"them, got '224'$"),
])  # fmt: skip
def test_sizes_are_whole_pixels(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize("kwargs,message", [
    ({"resize": 224 / 2}, r"^resize must be a positive int or a pair of them, got "
                          r"112\.0; pixels are whole: resize=112$"),
    ({"n": True}, r"^n must be an integer from 1 to 10000 for MNIST test, got True$"),
    ({"device": "gpu"}, r"^device must be 'cuda', 'cuda:1', 'mps', 'cpu' or None "
                        r"\(the best available\), got 'gpu'$"),
])  # fmt: skip
def test_load_data_names_the_argument_that_is_wrong(data_dir, kwargs, message):
    with pytest.raises(ValueError, match=message):
        hp.load_data("mnist", "test", root=data_dir, **kwargs)


def test_load_data_checks_the_device_before_reading(monkeypatch, tmp_path):
    """A device that is not there fails at once, before a minute of decoding, with
    get_device's message."""

    def no_reading(*args):
        raise AssertionError("read the files before checking the device")

    def no_gpu(device):
        raise RuntimeError(f"no {device} here")

    monkeypatch.setattr(data_module, "_load_idx_dataset", no_reading)
    monkeypatch.setattr(data_module, "get_device", no_gpu)
    with pytest.raises(RuntimeError, match=r"^no cuda here$"):
        hp.load_data("mnist", "test", root=tmp_path, device="cuda")


def test_batches_refuse_a_float_batch_size_and_a_transform_class():
    X, y = torch.zeros(10, 1), torch.zeros(10)
    with pytest.raises(
        ValueError,
        match=r"^batch_size must be a positive int \(or None for one full "
        r"batch\), got 4\.0$",
    ):
        list(hp.batches(X, y, 4.0))
    with pytest.raises(
        ValueError,
        match=r"^transform must be a function of a batch, got the class "
        r"resize_to; build one with its size",
    ):
        list(hp.batches(X, y, 4, transform=hp.resize_to))


def test_to_float_says_how_to_get_uint8():
    with pytest.raises(
        ValueError,
        match=r"^images must be uint8 or floating point, got torch\.int64; pixels "
        r"0–255\? X\.to\(torch\.uint8\)$",
    ):
        hp.to_float(torch.zeros(2, 1, 4, 4, dtype=torch.int64))


def _one_image_tar(folder: Path) -> None:
    import tarfile

    (folder / "CIFAR10-jpeg").mkdir(parents=True)
    data = _jpeg(np.full((32, 32, 3), 90, dtype=np.uint8))
    with tarfile.open(folder / "CIFAR10-jpeg" / "test.tar", "w") as tar:
        info = tarfile.TarInfo("test/cat/0001.jpg")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))


def test_a_cache_that_cannot_be_written_is_found_before_decoding(tmp_path, monkeypatch):
    """The data still load (decoded now and at every load), with a warning that says so
    before the decoding starts."""
    _one_image_tar(tmp_path / "data")
    blocker = tmp_path / "a file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("BOOK_CACHE_DIR", str(blocker))
    decoded, real = [], data_module._decode_cifar_tar

    def decode(*args):
        decoded.append(len(warned))
        return real(*args)

    monkeypatch.setattr(data_module, "_decode_cifar_tar", decode)
    with pytest.warns(
        UserWarning,
        match=rf"^cannot write the decoded-image cache into {blocker / 'decoded'} "
        r"\(NotADirectoryError: Not a "
        r"directory\); decoding test\.tar now and again at every load: set "
        r"BOOK_CACHE_DIR to a writable "
        rf"folder$",
    ) as warned:
        X, y = hp.load_data(
            "cifar10", "test", root=tmp_path / "data", dtype=torch.uint8
        )
    assert decoded == [1] and X.shape == (1, 3, 32, 32) and y.tolist() == [3]
    assert blocker.read_text() == "not a folder"
