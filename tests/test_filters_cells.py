"""The review-and-correct cells run as a plain script on their small default."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.examples import read_examples

SCRIPT = Path(__file__).resolve().parents[1] / "filters" / "review_and_correct.py"


@pytest.mark.timeout(180)
def test_review_and_correct_runs_as_a_script(tmp_path):
    env = {**os.environ, "MNM_RUNS_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, str(SCRIPT)], env=env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=170)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "unprinted-answer" in done.stdout and "dropped (exception)" in done.stdout
    examples = read_examples(tmp_path / "demo-review" / "dataset" / "examples.jsonl")
    assert {e.provenance.source for e in examples} == {"correction", "balance"}
