"""Tests' access to the real small models and a real vLLM server on them (a skip when absent, a
failure in CI: ``make models`` and ``make vllm`` build them)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from core.models import model_dir
from core.serving import ServeConfig, free_port, has_vllm, served
from core.settings import get_settings


def real_model(name: str) -> Path:
    """The built checkpoint of ``name``; CI (``CI`` set) must have built it with ``make models``."""
    path = model_dir(name)
    if not path.exists():
        message = f"{path} not built: run `make models` (or `mnm models {name}`)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


@contextmanager
def vllm_server(model: Path, name: str, log_dir: Path) -> Iterator[str]:
    """A real vLLM server (CPU) on ``model`` for the duration of the block; yields its base URL.

    Skipped (a failure in CI) when ``MNM_VLLM_PYTHON`` has no vLLM: ``make vllm`` builds one.
    """
    python = get_settings().mnm_vllm_python
    if not has_vllm(python):
        message = f"no vLLM for MNM_VLLM_PYTHON={python}: run `make vllm` and set it to that venv's python (`make test-real` does)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    cfg = ServeConfig(model=str(model), served_name=name, port=free_port(), cpu=True, dtype="float32",
                      max_model_len=4096, kv_cache_gib=1)
    with served(cfg, log_dir, timeout_s=1200) as url:
        yield url


@pytest.fixture(scope="session")
def smollm2_server(tmp_path_factory) -> Iterator[str]:
    """One vLLM server on SmolLM2-135M-Instruct (served as ``smollm2``) for the whole test session;
    ``MNM_TEST_VLLM_URL``: one already running (e.g. `mnm serve ... --served-name smollm2 --run`)."""
    if os.environ.get("MNM_TEST_VLLM_URL"):
        yield os.environ["MNM_TEST_VLLM_URL"]
        return
    with vllm_server(real_model("smollm2-135m-instruct"), "smollm2", tmp_path_factory.mktemp("vllm-logs")) as url:
        yield url
