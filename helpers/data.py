"""Datasets as plain tensors: Fashion-MNIST, MNIST and CIFAR-10.

Every loader returns ``(X, y)``: ``X`` is float32 in [0, 1] with shape N×C×H×W,
``y`` holds int64 class indices with shape (N,) (or a float one-hot N×10).

Where the files come from:

* ``root`` argument, else the ``BOOK_DATA_DIR`` environment variable: a folder you
  already have. It is only read, never written; a missing file is an error that
  says what is expected where.
* Otherwise the default folder ``~/.cache/cnn-book/data`` (or ``$BOOK_CACHE_DIR/data``),
  where torchvision downloads the official files the first time.

Fashion-MNIST and MNIST are read from torchvision's raw layout
``<root>/<FashionMNIST|MNIST>/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte``.
CIFAR-10 is read from torchvision's ``<root>/cifar-10-batches-py``, or, as a
fallback, from a tar of JPEGs ``<root>/CIFAR10-jpeg/{train,test}.tar`` laid out as
``split/<class name>/NNNN.jpg`` (the offline mirror's format). Decoding that tar
takes a while, so the decoded tensors are cached under ``~/.cache/cnn-book``.
"""
from __future__ import annotations

import io
import os
import pickle
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
import torch
import torch.nn.functional as F

__all__ = [
    "DatasetNotFoundError",
    "load_data",
    "class_names",
    "data_root",
    "cache_dir",
    "to_one_hot",
    "resize_images",
    "batches",
    "read_idx",
]

_DEFAULT_CACHE = Path.home() / ".cache" / "cnn-book"


class DatasetNotFoundError(FileNotFoundError):
    """The dataset files are not where they were looked for and could not be downloaded."""


@dataclass(frozen=True)
class _Info:
    title: str
    folder: str  # torchvision's folder name under the root
    classes: tuple[str, ...]


_DATASETS: dict[str, _Info] = {
    "fashionmnist": _Info(
        "Fashion-MNIST",
        "FashionMNIST",
        ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
    ),
    "mnist": _Info("MNIST", "MNIST", tuple(str(d) for d in range(10))),
    "cifar10": _Info(
        "CIFAR-10",
        "CIFAR10-jpeg",
        ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"),
    ),
}


def _info(name: str) -> tuple[str, _Info]:
    key = name.lower().replace("-", "").replace("_", "").replace(" ", "")
    if key not in _DATASETS:
        known = ", ".join(repr(i.title) for i in _DATASETS.values())
        raise ValueError(f"unknown dataset {name!r}; choose one of {known}")
    return key, _DATASETS[key]


def class_names(name: str) -> tuple[str, ...]:
    """The 10 class names of dataset ``name``, in label order (label i ↦ ``class_names(name)[i]``)."""
    return _info(name)[1].classes


def cache_dir() -> Path:
    """Where this package may write: ``$BOOK_CACHE_DIR`` or ``~/.cache/cnn-book``."""
    return Path(os.environ.get("BOOK_CACHE_DIR") or _DEFAULT_CACHE).expanduser()


def data_root(root: str | os.PathLike | None = None) -> tuple[Path, bool]:
    """Resolve the data folder; return ``(path, read_only)``.

    ``root`` wins over ``$BOOK_DATA_DIR``; both are read-only sources. With neither,
    the writable download folder ``cache_dir() / "data"`` is used.
    """
    given = root if root is not None else os.environ.get("BOOK_DATA_DIR") or None
    if given is not None:
        return Path(given).expanduser(), True
    return cache_dir() / "data", False


# --------------------------------------------------------------------------- readers


def read_idx(path: str | os.PathLike) -> torch.Tensor:
    """Read an uncompressed IDX file of unsigned bytes (the MNIST format) into a uint8 tensor.

    Images come back as (N, 28, 28), labels as (N,).
    """
    data = Path(path).read_bytes()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise ValueError(f"{path} is not an IDX file of unsigned bytes")
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    body = data[4 + 4 * ndim :]
    if len(body) != int(np.prod(dims)):
        raise ValueError(f"{path} is truncated: header says {dims}, body has {len(body)} bytes")
    return torch.frombuffer(bytearray(body), dtype=torch.uint8).reshape(dims)


def _missing(info: _Info, root: Path, expected: list[Path], why: str) -> DatasetNotFoundError:
    listing = "\n".join(f"  {p}" for p in expected)
    return DatasetNotFoundError(
        f"{info.title} was not found ({why}). Expected:\n{listing}\n"
        f"Put the files there, point BOOK_DATA_DIR (or root=...) at a folder that has them, "
        f"or unset both to download into {cache_dir() / 'data'} (needs internet)."
    )


def _download(info: _Info, root: Path, train: bool) -> None:
    """Let torchvision fetch the official files into the (writable) default root."""
    import torchvision.datasets as tvd

    cls = {"FashionMNIST": tvd.FashionMNIST, "MNIST": tvd.MNIST, "CIFAR10-jpeg": tvd.CIFAR10}[info.folder]
    root.mkdir(parents=True, exist_ok=True)
    try:
        cls(root=str(root), train=train, download=True)
    except Exception as err:  # torchvision raises several kinds; report one clear line
        raise DatasetNotFoundError(
            f"could not download {info.title} into {root} ({type(err).__name__}: {' '.join(str(err).split())}). "
            f"Without internet, copy the files into a folder and set BOOK_DATA_DIR to it."
        ) from None


def _load_idx_dataset(info: _Info, root: Path, read_only: bool, train: bool) -> tuple[torch.Tensor, torch.Tensor]:
    prefix = "train" if train else "t10k"
    raw = root / info.folder / "raw"
    files = [raw / f"{prefix}-images-idx3-ubyte", raw / f"{prefix}-labels-idx1-ubyte"]
    if not all(f.exists() for f in files):
        if read_only:
            raise _missing(info, root, files, f"looked in the read-only folder {root}")
        _download(info, root, train)
    images, labels = (read_idx(f) for f in files)
    return images.unsqueeze(1), labels.long()  # (N, 1, 28, 28) uint8, (N,)


def _load_cifar_pickles(folder: Path, train: bool) -> tuple[torch.Tensor, torch.Tensor]:
    names = [f"data_batch_{i}" for i in range(1, 6)] if train else ["test_batch"]
    xs, ys = [], []
    for name in names:
        with open(folder / name, "rb") as f:
            batch = pickle.load(f, encoding="latin1")
        xs.append(np.asarray(batch["data"], dtype=np.uint8).reshape(-1, 3, 32, 32))
        ys.extend(batch["labels"])
    return torch.from_numpy(np.concatenate(xs)), torch.tensor(ys, dtype=torch.long)


def _decode_cifar_tar(tar_path: Path, classes: tuple[str, ...]) -> tuple[torch.Tensor, torch.Tensor]:
    """Decode ``split/<class>/NNNN.jpg`` members into (N, 3, 32, 32) uint8 and (N,) labels.

    The tar's order within a class is not the official one, so after sorting by
    (class, file name) we apply one fixed permutation (seed 0): a first-N subset
    then mixes all classes, as it does with the official files.
    """
    from PIL import Image

    index = {c: i for i, c in enumerate(classes)}
    items: list[tuple[int, str, bytes]] = []
    with tarfile.open(tar_path) as tar:
        for member in tar:
            parts = member.name.split("/")
            if member.isfile() and len(parts) >= 2 and parts[-2] in index and parts[-1].endswith(".jpg"):
                items.append((index[parts[-2]], parts[-1], tar.extractfile(member).read()))
    if not items:
        raise ValueError(f"{tar_path} holds no <class>/<n>.jpg images")
    items.sort(key=lambda t: (t[0], t[1]))
    images = np.stack([np.asarray(Image.open(io.BytesIO(b)).convert("RGB")) for _, _, b in items])
    labels = torch.tensor([label for label, _, _ in items], dtype=torch.long)
    perm = torch.randperm(len(items), generator=torch.Generator().manual_seed(0))
    return torch.from_numpy(images).permute(0, 3, 1, 2).contiguous()[perm], labels[perm]


def _load_cifar_jpeg(tar_path: Path, classes: tuple[str, ...]) -> tuple[torch.Tensor, torch.Tensor]:
    """Decode the JPEG tar once, then reuse a cache in ``cache_dir()`` (never in the data root)."""
    stat = tar_path.stat()
    cache = cache_dir() / "decoded" / f"cifar10-{tar_path.stem}-{stat.st_size}-{stat.st_mtime_ns}.pt"
    if cache.exists():
        saved = torch.load(cache)
        return saved["images"], saved["labels"]
    images, labels = _decode_cifar_tar(tar_path, classes)
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(".tmp")
    torch.save({"images": images, "labels": labels}, tmp)
    tmp.replace(cache)
    return images, labels


def _load_cifar10(info: _Info, root: Path, read_only: bool, train: bool) -> tuple[torch.Tensor, torch.Tensor]:
    pickles = root / "cifar-10-batches-py"
    tar = root / info.folder / ("train.tar" if train else "test.tar")
    if pickles.is_dir():
        return _load_cifar_pickles(pickles, train)
    if tar.exists():
        return _load_cifar_jpeg(tar, info.classes)
    if read_only:
        raise _missing(info, root, [pickles, tar], f"looked in the read-only folder {root}")
    _download(info, root, train)
    return _load_cifar_pickles(pickles, train)


# --------------------------------------------------------------------------- public API


def load_data(
    name: str,
    split: str = "train",
    *,
    n: int | None = None,
    root: str | os.PathLike | None = None,
    device: torch.device | str = "cpu",
    resize: int | tuple[int, int] | None = None,
    one_hot: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Load a dataset split as tensors on ``device``.

    Args:
        name: "fashion_mnist", "mnist" or "cifar10" (case, '-' and '_' are ignored).
        split: "train" or "test".
        n: keep only the first ``n`` examples, like ``Subset(dataset, range(n))``.
        root: folder holding the files (read-only); default ``$BOOK_DATA_DIR``, else download.
        device: where the tensors go; the uint8 images are moved first, then converted.
        resize: resize once, on ``device``, to ``resize`` (int for square) pixels.
        one_hot: return labels as a float N×10 one-hot matrix instead of int64 (N,).

    Returns:
        ``X`` float32 N×C×H×W in [0, 1] (C=1 for the MNISTs, 3 for CIFAR-10) and ``y``.
    """
    key, info = _info(name)
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    path, read_only = data_root(root)
    loader = _load_cifar10 if key == "cifar10" else _load_idx_dataset
    images, labels = loader(info, path, read_only, split == "train")
    if n is not None:
        if not isinstance(n, int) or not 1 <= n <= len(labels):
            raise ValueError(f"n must be an integer from 1 to {len(labels)} for {info.title} {split}, got {n!r}")
        images, labels = images[:n], labels[:n]
    X = images.to(device).float().div_(255)
    y = labels.to(device)
    if resize is not None:
        X = resize_images(X, resize)
    if one_hot:
        y = to_one_hot(y, len(info.classes))
    return X, y


def to_one_hot(y: torch.Tensor, num_classes: int = 10) -> torch.Tensor:
    """Int64 labels (N,) → float32 one-hot (N, num_classes), on the same device."""
    return F.one_hot(y, num_classes).float()


def resize_images(X: torch.Tensor, size: int | tuple[int, int], chunk: int = 4096) -> torch.Tensor:
    """Resize a batch N×C×H×W to N×C×size×size (bilinear, antialiased), on X's device.

    Done once, in chunks of ``chunk`` images to bound the temporary memory; the
    result takes N·C·size²·4 bytes (60,000 Fashion-MNIST images at 96×96 ≈ 2.2 GB).
    """
    if X.ndim != 4:
        raise ValueError(f"resize_images expects N×C×H×W, got shape {tuple(X.shape)}")
    size = (size, size) if isinstance(size, int) else tuple(size)
    if min(size) < 1:
        raise ValueError(f"size must be positive, got {size}")
    parts = [F.interpolate(X[i : i + chunk], size=size, mode="bilinear", antialias=True, align_corners=False) for i in range(0, len(X), chunk)]
    return torch.cat(parts).clamp_(0, 1)


def batches(
    X: torch.Tensor,
    y: torch.Tensor,
    batch_size: int | None = None,
    *,
    shuffle: bool = False,
    generator: torch.Generator | None = None,
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Yield mini-batches ``(X[i], y[i])`` from tensors that already live on the device.

    No DataLoader, no per-sample Python: one ``randperm`` per epoch (when
    ``shuffle``) and tensor indexing. ``batch_size=None`` yields the full batch once.
    """
    if len(X) != len(y):
        raise ValueError(f"X and y disagree on the number of examples: {len(X)} vs {len(y)}")
    n = len(X)
    if batch_size is None or batch_size >= n:
        yield X, y
        return
    if batch_size < 1:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    if shuffle:
        gen_device = generator.device if generator is not None else X.device
        order = torch.randperm(n, generator=generator, device=gen_device).to(X.device)
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size]
            yield X[idx], y[idx]
    else:
        for start in range(0, n, batch_size):
            yield X[start : start + batch_size], y[start : start + batch_size]
