"""Tests' access to the real small models: the checkpoint `mnm models` built, or a skip (a failure in CI)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from core.models import model_dir


def real_model(name: str) -> Path:
    """The built checkpoint of ``name``; CI (``CI`` set) must have built it with ``make models``."""
    path = model_dir(name)
    if not path.exists():
        message = f"{path} not built: run `make models` (or `mnm models {name}`)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path
