"""Where tensors live: pick the best available device, move things there, seed
everything."""

from __future__ import annotations

import os
import random
from typing import Any

import numpy as np
import torch

__all__ = ["device_name", "get_device", "seed_everything", "to_device"]


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def get_device(prefer: str | torch.device | None = None) -> torch.device:
    """Return the device to compute on.

    With ``prefer=None`` the order is CUDA, then Apple MPS, then CPU. With an explicit
    ``prefer`` ("cuda", "cuda:1", "mps", "cpu") that device is returned, or a
    ``RuntimeError`` is raised when it is not available: asking for a GPU never silently
    gives you the CPU. A name that is no device ("gpu") is a ``ValueError``.
    """
    if prefer is None:
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(prefer)
    except (RuntimeError, TypeError):
        raise ValueError(
            f"device must be 'cuda', 'cuda:1', 'mps', 'cpu' or None (the best "
            f"available), got {prefer!r}"
        ) from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise RuntimeError(
                f"device {str(device)!r} was requested, but CUDA is not available "
                f"on this machine."
            )
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise RuntimeError(
                f"device {str(device)!r} was requested, but only "
                f"{torch.cuda.device_count()} CUDA device(s) exist."
            )
    elif device.type == "mps" and not _mps_available():
        raise RuntimeError(
            "device 'mps' was requested, but Apple MPS is not available on this "
            "machine."
        )
    return device


def device_name(device: torch.device | str | None = None) -> str:
    """A human-readable name for ``device`` (e.g. 'NVIDIA H100 80GB HBM3' or 'cpu')."""
    device = get_device(device)
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return device.type


def to_device(obj: Any, device: torch.device | str) -> Any:
    """Move a tensor, a module, or a (nested) list/tuple/dict of them to ``device``.

    Modules are moved in place (their parameters keep their identity, so an
    optimiser built earlier still points at them); other objects are returned as is.
    """
    if isinstance(obj, (torch.Tensor, torch.nn.Module)):
        return obj.to(device)
    if isinstance(obj, dict):
        return {k: to_device(v, device) for k, v in obj.items()}
    # a namedtuple takes its fields as arguments
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return type(obj)(*(to_device(v, device) for v in obj))
    if isinstance(obj, (list, tuple)):
        return type(obj)(to_device(v, device) for v in obj)
    return obj


def seed_everything(seed: int = 0) -> None:
    """Seed Python's ``random``, NumPy, and torch (CPU and every CUDA device) with
    ``seed``."""
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device
    # affects subprocesses started from here on
    os.environ["PYTHONHASHSEED"] = str(seed)
