"""Test-wide settings: nothing reaches the network, wandb stays offline, and nothing is written into
the repository: data, runs and caches go to one temporary directory per test session. The real
models that ``make models`` built are read from where they are (``MNM_MODELS_DIR``)."""

import atexit
import os
import shutil
import tempfile

from core.settings import Settings

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
