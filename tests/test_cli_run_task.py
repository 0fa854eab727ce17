"""`mnm run-task` with the scripted client and with an in-process transformers model."""

import os
import subprocess
import sys

from tests.tiny_model import build_tiny_llama


def _run_task(*args: str) -> str:
    out = subprocess.run([sys.executable, "-m", "mnm_cli", "run-task", *args], capture_output=True, text=True,
                         timeout=300, env={**os.environ, "COLUMNS": "200"})
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


def test_scripted_expert_solves_the_sample_task():
    out = _run_task()
    assert "termination=completed score=1 answer='3.00'" in out
    assert "get_price('apple')" in out and "<ipython_output>" in out


def test_in_process_transformers_model_runs_the_loop(tmp_path):
    model = build_tiny_llama(tmp_path / "model")
    out = _run_task("--client", "hf-local", "--model", str(model), "--max-steps", "2", "--max-tokens", "12")
    assert "sample/prices trial 0: termination=" in out
    assert "calls=4" in out  # two steps, a monologue and a code request each
