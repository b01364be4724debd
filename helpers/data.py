"""Datasets as plain tensors: Fashion-MNIST, MNIST and CIFAR-10.

Every loader returns ``(X, y)``: ``X`` is float32 in [0, 1] with shape N×C×H×W,
``y`` holds int64 class indices with shape (N,) (or a float one-hot N×10).

Big inputs stay small in memory: ``load_data(..., dtype=torch.uint8)`` keeps the
stored bytes (a quarter of float32's size, at the native resolution), and a
per-batch transform such as ``resize_to(224)`` scales and resizes each mini-batch
on the device right before the forward pass (``train``, ``evaluate`` and ``batches``
take it as ``transform=``). Resizing the whole of Fashion-MNIST to 224×224 up front
would take 60,000 × 224² × 4 B ≈ 12 GB; ``load_data(..., resize=...)`` refuses a
result over ``MAX_RESIZED_BYTES`` and names this alternative.

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
takes a while, so the decoded tensors are cached under ``~/.cache/cnn-book``; a cache
folder that cannot be written is found before decoding and reported with a warning
(the data still load, decoded again next time).

Mistakes are refused with one line that names the argument and the fix
(``helpers.checks`` lists them all): a float or bool ``n``/``resize``/``batch_size``,
labels that are not class indices (N,), an N×H×W×C batch given to a resizer, float
pixels outside [0, 1] given to one (it clamps them: 0–255 floats would all turn white).
"""

from __future__ import annotations

import io
import os
import pickle
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from .checks import (
    check_batch_of_images,
    check_class_indices,
    check_transform,
    check_unit_range,
    is_int,
    warn,
)
from .device import get_device

__all__ = [
    "DatasetNotFoundError",
    "batches",
    "cache_dir",
    "class_names",
    "data_root",
    "load_data",
    "read_idx",
    "resize_images",
    "resize_to",
    "to_float",
    "to_one_hot",
]

_DEFAULT_CACHE = Path.home() / ".cache" / "cnn-book"
# load_data(resize=...) refuses a resized float32 set larger than 1 GiB
MAX_RESIZED_BYTES = 1 << 30


class DatasetNotFoundError(FileNotFoundError):
    """The dataset files are not where they were looked for, and no download worked."""


@dataclass(frozen=True)
class _Info:
    title: str
    folder: str  # torchvision's folder name under the root
    classes: tuple[str, ...]


_DATASETS: dict[str, _Info] = {
    "fashionmnist": _Info(
        "Fashion-MNIST",
        "FashionMNIST",
        (
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
        ),
    ),
    "mnist": _Info("MNIST", "MNIST", tuple(str(d) for d in range(10))),
    "cifar10": _Info(
        "CIFAR-10",
        "CIFAR10-jpeg",
        (
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
        ),
    ),
}


def _info(name: str) -> tuple[str, _Info]:
    key = name.lower().replace("-", "").replace("_", "").replace(" ", "")
    if key not in _DATASETS:
        known = ", ".join(repr(i.title) for i in _DATASETS.values())
        raise ValueError(f"unknown dataset {name!r}; choose one of {known}")
    return key, _DATASETS[key]


def class_names(name: str) -> tuple[str, ...]:
    """The 10 class names of dataset ``name``, in label order (label i ↦
    ``class_names(name)[i]``)."""
    return _info(name)[1].classes


def cache_dir() -> Path:
    """Where this package may write: ``$BOOK_CACHE_DIR`` or ``~/.cache/cnn-book``."""
    return Path(os.environ.get("BOOK_CACHE_DIR") or _DEFAULT_CACHE).expanduser()


def data_root(root: str | os.PathLike[str] | None = None) -> tuple[Path, bool]:
    """Resolve the data folder; return ``(path, read_only)``.

    ``root`` wins over ``$BOOK_DATA_DIR``; both are read-only sources. With neither,
    the writable download folder ``cache_dir() / "data"`` is used.
    """
    given = root if root is not None else os.environ.get("BOOK_DATA_DIR") or None
    if given is not None:
        return Path(given).expanduser(), True
    return cache_dir() / "data", False


# --------------------------------------------------------------------------- readers


def read_idx(path: str | os.PathLike[str]) -> torch.Tensor:
    """Read an uncompressed IDX file of unsigned bytes (the MNIST format) into a uint8
    tensor.

    Images come back as (N, 28, 28), labels as (N,).
    """
    data = Path(path).read_bytes()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise ValueError(f"{path} is not an IDX file of unsigned bytes")
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    body = data[4 + 4 * ndim :]
    if len(body) != int(np.prod(dims)):
        raise ValueError(
            f"{path} is truncated: header says {dims}, body has {len(body)} bytes"
        )
    return torch.frombuffer(bytearray(body), dtype=torch.uint8).reshape(dims)


def _missing(info: _Info, expected: list[Path], why: str) -> DatasetNotFoundError:
    listing = "\n".join(f"  {p}" for p in expected)
    return DatasetNotFoundError(
        f"{info.title} was not found ({why}). Expected:\n{listing}\n"
        f"Put the files there, point BOOK_DATA_DIR (or root=...) at a folder that "
        f"has them, "
        f"or unset both to download into {cache_dir() / 'data'} (needs internet)."
    )


def _download(info: _Info, root: Path, train: bool) -> None:
    """Let torchvision fetch the official files into the (writable) default root."""
    import torchvision.datasets as tvd

    cls = {
        "FashionMNIST": tvd.FashionMNIST,
        "MNIST": tvd.MNIST,
        "CIFAR10-jpeg": tvd.CIFAR10,
    }[info.folder]
    root.mkdir(parents=True, exist_ok=True)
    try:
        cls(root=str(root), train=train, download=True)
    except Exception as err:  # torchvision raises several kinds; report one clear line
        raise DatasetNotFoundError(
            f"could not download {info.title} into {root} ({type(err).__name__}: "
            f"{' '.join(str(err).split())}). "
            f"Without internet, copy the files into a folder and set "
            f"BOOK_DATA_DIR to it."
        ) from None


def _load_idx_dataset(
    info: _Info, root: Path, read_only: bool, train: bool
) -> tuple[torch.Tensor, torch.Tensor]:
    prefix = "train" if train else "t10k"
    raw = root / info.folder / "raw"
    files = [raw / f"{prefix}-images-idx3-ubyte", raw / f"{prefix}-labels-idx1-ubyte"]
    if not all(f.exists() for f in files):
        if read_only:
            raise _missing(info, files, f"looked in the read-only folder {root}")
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


def _decode_cifar_tar(
    tar_path: Path, classes: tuple[str, ...]
) -> tuple[torch.Tensor, torch.Tensor]:
    """Decode ``split/<class>/NNNN.jpg`` members into (N, 3, 32, 32) uint8 and (N,)
    labels.

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
            if (
                member.isfile()
                and len(parts) >= 2
                and parts[-2] in index
                and parts[-1].endswith(".jpg")
            ):
                items.append(
                    (index[parts[-2]], parts[-1], tar.extractfile(member).read())  # type: ignore[union-attr]
                )
    if not items:
        raise ValueError(f"{tar_path} holds no <class>/<n>.jpg images")
    items.sort(key=lambda t: (t[0], t[1]))
    images = np.stack(
        [np.asarray(Image.open(io.BytesIO(b)).convert("RGB")) for _, _, b in items]
    )
    labels = torch.tensor([label for label, _, _ in items], dtype=torch.long)
    perm = torch.randperm(len(items), generator=torch.Generator().manual_seed(0))
    return torch.from_numpy(images).permute(0, 3, 1, 2).contiguous()[perm], labels[perm]


def _load_cifar_jpeg(
    tar_path: Path, classes: tuple[str, ...]
) -> tuple[torch.Tensor, torch.Tensor]:
    """Decode the JPEG tar once, then reuse a cache in ``cache_dir()`` (never in the
    data root)."""
    stat = tar_path.stat()
    cache = (
        cache_dir()
        / "decoded"
        / f"cifar10-{tar_path.stem}-{stat.st_size}-{stat.st_mtime_ns}.pt"
    )
    if cache.exists():
        saved = torch.load(cache)
        return saved["images"], saved["labels"]
    tmp = cache.with_suffix(".tmp")
    # find out now, not after a minute of decoding, whether the cache can be written
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp.touch()
    except OSError as err:
        warn(
            f"cannot write the decoded-image cache into {cache.parent} "
            f"({type(err).__name__}: {err.strerror or err}); "
            f"decoding {tar_path.name} now and again at every load: set "
            f"BOOK_CACHE_DIR to a writable folder"
        )
        tmp = None  # type: ignore[assignment]  # None: no cache this time
    images, labels = _decode_cifar_tar(tar_path, classes)
    if tmp is not None:
        torch.save({"images": images, "labels": labels}, tmp)
        tmp.replace(cache)
    return images, labels


def _load_cifar10(
    info: _Info, root: Path, read_only: bool, train: bool
) -> tuple[torch.Tensor, torch.Tensor]:
    pickles = root / "cifar-10-batches-py"
    tar = root / info.folder / ("train.tar" if train else "test.tar")
    if pickles.is_dir():
        return _load_cifar_pickles(pickles, train)
    if tar.exists():
        return _load_cifar_jpeg(tar, info.classes)
    if read_only:
        raise _missing(info, [pickles, tar], f"looked in the read-only folder {root}")
    _download(info, root, train)
    return _load_cifar_pickles(pickles, train)


# --------------------------------------------------------------------------- public API


def load_data(
    name: str,
    split: str = "train",
    *,
    n: int | None = None,
    root: str | os.PathLike[str] | None = None,
    device: torch.device | str = "cpu",
    resize: int | tuple[int, int] | None = None,
    one_hot: bool = False,
    dtype: torch.dtype = torch.float32,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Load a dataset split as tensors on ``device``.

    Args: name: "fashion_mnist", "mnist" or "cifar10" (case, '-' and '_' are ignored).
    split: "train" or "test". n: keep only the first ``n`` examples, like
    ``Subset(dataset, range(n))``. root: folder holding the files (read-only); default
    ``$BOOK_DATA_DIR``, else download. device: where the tensors go; the uint8 images
    are moved first, then converted. As in ``get_device``: a device not available here
    is a ``RuntimeError``, a name that is no device ("gpu") a ``ValueError``, both
    before any file is read. resize: resize once, on ``device``, to ``resize`` (int for
    square) pixels. Refused when the result would exceed ``MAX_RESIZED_BYTES`` (1 GiB):
    use ``dtype=torch.uint8`` and ``train(..., transform=resize_to(size))`` instead.
    one_hot: return labels as a float N×10 one-hot matrix instead of int64 (N,). dtype:
    ``torch.float32`` (default; or another float type) scales pixels to [0, 1];
    ``torch.uint8`` returns the stored bytes 0–255 unchanged (4× smaller).

    Returns:
        ``X`` N×C×H×W (C=1 for the MNISTs, 3 for CIFAR-10) of ``dtype`` and ``y``.
    """
    key, info = _info(name)
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    if dtype != torch.uint8 and not (
        isinstance(dtype, torch.dtype) and dtype.is_floating_point
    ):
        raise ValueError(
            f"dtype must be torch.uint8 or a floating-point dtype, got {dtype!r}"
        )
    if dtype == torch.uint8 and resize is not None:
        raise ValueError(
            "resize needs float images; with dtype=torch.uint8 resize each batch "
            "instead: "
            f"train(..., transform=hp.resize_to({resize!r}))"
        )
    if resize is not None:
        _size(resize, "resize")
    if device is not None:
        # "cuda" without a GPU, or "gpu": one clear error before any reading
        device = get_device(device)
    path, read_only = data_root(root)
    loader = _load_cifar10 if key == "cifar10" else _load_idx_dataset
    images, labels = loader(info, path, read_only, split == "train")
    if n is not None:
        if not is_int(n) or not 1 <= n <= len(labels):
            raise ValueError(
                f"n must be an integer from 1 to {len(labels)} for {info.title} "
                f"{split}, got {n!r}"
            )
        images, labels = images[:n], labels[:n]
    if resize is not None:
        _check_resized_size(images.shape, resize, dtype)
    X = images.to(device)
    if dtype != torch.uint8:
        X = X.to(dtype).div_(255)
    y = labels.to(device)
    if resize is not None:
        # pixels just scaled to [0, 1]: no check needed
        X = _resize(X, _size(resize, "resize"))
    if one_hot:
        y = to_one_hot(y, len(info.classes))
    return X, y


def to_one_hot(y: torch.Tensor, num_classes: int = 10) -> torch.Tensor:
    """Int64 labels (N,) → float32 one-hot (N, num_classes), on the same device.

    Labels must be integer class indices in [0, num_classes); anything else is a
    ``ValueError`` (checking the range reads the labels once on the host).
    """
    check_class_indices(y, "y")
    if not is_int(num_classes) or num_classes < 1:
        raise ValueError(f"num_classes must be a positive int, got {num_classes!r}")
    if len(y):
        low, high = torch.stack(list(y.aminmax())).tolist()
        if low < 0 or high >= num_classes:
            raise ValueError(
                f"y holds labels from {low} to {high}, outside [0, {num_classes}); "
                f"pass num_classes={max(high + 1, 1)} or shift the labels to start at 0"
            )
    return F.one_hot(y, num_classes).float()


def _size(size: int | tuple[int, int], name: str = "size") -> tuple[int, int]:
    """An int or an (h, w) pair of positive ints as (h, w); ``name`` is the argument the
    reader passed."""
    pair: tuple[Any, ...] | None = (
        (size, size)
        if is_int(size)
        else tuple(size)
        if isinstance(size, (tuple, list))
        else None
    )
    if pair is None or len(pair) != 2 or not all(is_int(v) and v >= 1 for v in pair):
        got = (
            f"a tensor of shape {tuple(size.shape)}"
            if isinstance(size, torch.Tensor)
            else repr(size)
        )
        fix = (
            f"; pixels are whole: {name}={int(size)}"
            if isinstance(size, float) and size >= 1
            else ""
        )
        raise ValueError(
            f"{name} must be a positive int or a pair of them, got {got}{fix}"
        )
    return pair


def _check_resized_size(
    shape: torch.Size, size: int | tuple[int, int], dtype: torch.dtype
) -> None:
    """Refuse a whole-set resize whose result would exceed ``MAX_RESIZED_BYTES``."""
    h, w = _size(size, "resize")
    n, c = shape[0], shape[1]
    nbytes = n * c * h * w * torch.empty((), dtype=dtype).element_size()
    if nbytes > MAX_RESIZED_BYTES:
        raise ValueError(
            f"resizing {n:,} images to {h}×{w} would hold {nbytes / 1e9:.1f} GB "
            f"in memory "
            f"(limit {MAX_RESIZED_BYTES / 1e9:.1f} GB). Keep the images small and "
            f"resize each batch: "
            f"load_data(..., dtype=torch.uint8) and train(..., "
            f"transform=hp.resize_to({size!r}))"
        )


def resize_images(
    X: torch.Tensor, size: int | tuple[int, int], chunk: int = 4096
) -> torch.Tensor:
    """Resize a float batch N×C×H×W to N×C×size×size (bilinear, antialiased), on X's
    device.

    Done in chunks of ``chunk`` images to bound the temporary memory; the result takes
    N·C·size²·4 bytes (60,000 Fashion-MNIST images at 96×96 ≈ 2.2 GB), so for whole
    datasets prefer the per-batch ``resize_to``. Pixels outside [0, 1] are refused (the
    result is clamped to [0, 1]; 0–255 values would all become 1).
    """
    check_batch_of_images(X, "resize_images")
    if not X.is_floating_point():
        raise ValueError(
            f"resize_images needs float pixels in [0, 1], got {X.dtype}; convert "
            f"with hp.to_float first"
        )
    size = _size(size)
    check_unit_range(X, "resize_images")
    return _resize(X, size, chunk)


def _resize(X: torch.Tensor, size: tuple[int, int], chunk: int = 4096) -> torch.Tensor:
    """``resize_images`` without its checks, for pixels known to be in [0, 1]
    (``load_data``'s own)."""
    parts = [
        F.interpolate(
            X[i : i + chunk],
            size=size,
            mode="bilinear",
            antialias=True,
            align_corners=False,
        )
        for i in range(0, len(X), chunk)
    ]
    return torch.cat(parts).clamp_(0, 1)


def to_float(X: torch.Tensor) -> torch.Tensor:
    """uint8 pixels 0–255 → float32 in [0, 1]; float tensors are returned unchanged
    (same shape)."""
    if X.dtype == torch.uint8:
        return X.float().div_(255)
    if not X.is_floating_point():
        raise ValueError(
            f"images must be uint8 or floating point, got {X.dtype}; pixels "
            f"0–255? X.to(torch.uint8)"
        )
    return X


class resize_to:  # noqa: N801 (used like a function: transform=hp.resize_to(224))
    """A per-batch transform: ``resize_to(224)(xb)`` scales a uint8 batch to [0, 1] and
    resizes N×C×H×W → N×C×224×224 on xb's device, exactly as ``resize_images`` would.

    Pass it as ``transform=`` to ``train``, ``evaluate`` or ``batches``: the dataset
    stays at its native size (ideally uint8) and only one batch is ever resized at a
    time.

    Float batches must already be in [0, 1]: the first float batch is checked (one host
    read), and 0–255 floats are refused, as is an N×H×W×C batch (whatever its dtype,
    every batch: a shape check).
    """

    def __init__(self, size: int | tuple[int, int]):
        self.size = _size(size)
        self.checked = False  # whether a float batch has had its values checked

    def __call__(self, X: torch.Tensor) -> torch.Tensor:
        check_batch_of_images(X, "resize_to")
        if X.is_floating_point() and not self.checked:
            check_unit_range(X, "resize_to")
            self.checked = True
        X = to_float(X)
        if tuple(X.shape[-2:]) == self.size:
            return X
        return F.interpolate(
            X, size=self.size, mode="bilinear", antialias=True, align_corners=False
        ).clamp_(0, 1)

    def __repr__(self) -> str:
        return f"resize_to({self.size[0]}×{self.size[1]})"


def batches(
    X: torch.Tensor,
    y: torch.Tensor,
    batch_size: int | None = None,
    *,
    shuffle: bool = False,
    generator: torch.Generator | None = None,
    transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Yield mini-batches ``(X[i], y[i])`` from tensors that already live on the device.

    No DataLoader, no per-sample Python: one ``randperm`` per epoch (when
    ``shuffle``) and tensor indexing. ``batch_size=None`` yields the full batch once.
    ``transform`` (e.g. ``resize_to(96)``) is applied to each X batch as it is yielded.
    """
    if len(X) != len(y):
        raise ValueError(
            f"X and y disagree on the number of examples: {len(X)} vs {len(y)}"
        )
    if batch_size is not None and (not is_int(batch_size) or batch_size < 1):
        raise ValueError(
            f"batch_size must be a positive int (or None for one full batch), got "
            f"{batch_size!r}"
        )
    check_transform(transform)
    n = len(X)
    if batch_size is None or batch_size >= n:
        slices: Iterator[slice | torch.Tensor] = iter([slice(None)])
    elif shuffle:
        gen_device = generator.device if generator is not None else X.device
        order = torch.randperm(n, generator=generator, device=gen_device).to(X.device)
        slices = (
            order[start : start + batch_size] for start in range(0, n, batch_size)
        )
    else:
        slices = (slice(start, start + batch_size) for start in range(0, n, batch_size))
    for idx in slices:
        xb = X[idx]
        yield (transform(xb) if transform is not None else xb), y[idx]
