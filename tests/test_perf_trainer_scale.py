"""The GPU trainer benchmark's CPU path on a tiny model: it trains on two processes, kills and
resumes, and prints its headline lines (the numbers themselves are the maintainer's, on GPUs)."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarking" / "perf" / "trainer_scale.py"


@pytest.mark.slow
def test_trainer_benchmark_cpu_path(tmp_path):
    out = subprocess.run([sys.executable, str(SCRIPT), "--device", "cpu", "--tiny", "--steps", "4",
                          "--work", str(tmp_path)], capture_output=True, text=True, timeout=1200)
    assert out.returncode == 0, out.stderr[-4000:]
    resume = re.search(r"resume: killed after step (\d+), .* max relative loss difference (\S+)", out.stdout)
    assert resume and int(resume[1]) == 2 and float(resume[2]) < 1e-5
    losses = [float(x) for x in re.search(r"losses: (.*)", out.stdout)[1].split()]
    assert len(losses) == 4 and all(v > 0 for v in losses)
    assert re.search(r"trainer headline: peak \d+\.\d+ GiB .* \d+ training tokens/s", out.stdout)
    assert "chunked/naive: loss-step peak memory" in out.stdout
