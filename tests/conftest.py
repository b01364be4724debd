"""Shared test set-up: a non-interactive matplotlib backend and the dataset mirror."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import pytest
from hypothesis import settings

matplotlib.use("Agg")


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The read-only dataset folder named by BOOK_DATA_DIR (CI points it at the offline
    mirror)."""
    value = os.environ.get("BOOK_DATA_DIR")
    if not value:
        pytest.skip(
            "BOOK_DATA_DIR is not set: these tests need a local copy of the datasets"
        )
    path = Path(value)
    if not path.is_dir():
        pytest.fail(f"BOOK_DATA_DIR={value} is not a folder")
    return path


# Property tests (hypothesis): the same examples on every run, so a failure in CI
# repeats locally; HYPOTHESIS_PROFILE=thorough draws many more.
settings.register_profile(
    "default", derandomize=True, deadline=None, max_examples=60, print_blob=True
)
settings.register_profile("thorough", deadline=None, max_examples=2000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
