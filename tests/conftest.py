"""Test-wide settings: nothing reaches the network, wandb stays offline, and nothing is written into
the repository: data, runs and caches go to one temporary directory per test session. The real
models that ``make models`` built are read from where they are (``MNM_MODELS_DIR``)."""

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from core.settings import Settings, get_settings

os.environ.setdefault("WANDB_MODE", "disabled")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

_configured = Settings()
os.environ["MNM_MODELS_DIR"] = str((_configured.mnm_models_dir or _configured.mnm_data_dir / "models").resolve())
_session = tempfile.mkdtemp(prefix="mnm-tests-")
atexit.register(shutil.rmtree, _session, ignore_errors=True)
for _name in ("data", "runs", "cache"):
    os.environ[f"MNM_{_name.upper()}_DIR"] = os.path.join(_session, _name)

pytest_plugins = ["tests.real_models"]  # the session-wide real vLLM server fixture


@pytest.fixture(scope="session")
def quick_demo_run(tmp_path_factory) -> Path:
    """``mnm demo --quick`` run once per test session (its own data directory); its run directory."""
    from demo.config import load_demo_config
    from demo.pipeline import run_demo

    root = tmp_path_factory.mktemp("quick-demo")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MNM_DATA_DIR", str(root / "data"))
        get_settings.cache_clear()
        try:
            return run_demo(load_demo_config(quick=True), root / "run")
        finally:
            get_settings.cache_clear()
