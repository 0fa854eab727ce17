"""The SLURM batch scripts: valid bash, and what they run on each node (SLURM's own commands are
stand-ins here: CI has no cluster; the accelerate and mnm command lines are parsed by the real CLIs)."""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

import pytest
from accelerate.commands.launch import launch_command_parser
from typer.testing import CliRunner

from mnm_cli import app

ROOT = Path(__file__).resolve().parents[1]
SLURM = ROOT / "training" / "slurm"

SRUN = """#!/bin/bash
while [[ $1 == --* ]]; do shift; done
for ((node = 0; node < SLURM_NNODES; node++)); do SLURM_NODEID=$node "$@"; done
"""
SCONTROL = """#!/bin/bash
printf 'gpu-a17\\ngpu-a18\\n'
"""
RECORD = """#!/bin/bash
echo "$(basename "$0") $*" >> "$RECORD"
"""
MNM = RECORD + """echo "ready: 1 replica(s); Ctrl-C to stop"
for _ in $(seq 200); do [[ -s $MNM_RUNS_DIR/serve-77.url ]] && break; sleep 0.05; done
echo "url file: $(cat "$MNM_RUNS_DIR/serve-77.url")"
"""


def fake_bin(tmp_path: Path, **scripts: str) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in scripts.items():
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    return bin_dir


@pytest.mark.parametrize("script", ["serve.sbatch", "train.sbatch"])
def test_scripts_are_valid_bash(script):
    subprocess.run(["bash", "-n", str(SLURM / script)], check=True)


def test_train_script_starts_one_accelerate_launcher_per_node(tmp_path):
    bin_dir = fake_bin(tmp_path, srun=SRUN, scontrol=SCONTROL, accelerate=RECORD)
    record = tmp_path / "calls"
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "RECORD": str(record), "SLURM_NNODES": "2",
           "SLURM_GPUS_ON_NODE": "4", "SLURM_JOB_NODELIST": "gpu-a[17-18]"}
    subprocess.run(["bash", str(SLURM / "train.sbatch"), "training/configs/round-1.yaml", "epochs=3"], cwd=ROOT,
                   env=env, check=True)
    calls = [shlex.split(line) for line in record.read_text().splitlines()]
    assert len(calls) == 2
    for node, call in enumerate(calls):
        assert call[:2] == ["accelerate", "launch"]
        args = launch_command_parser().parse_args(call[2:])  # the real accelerate CLI accepts them
        assert (args.num_machines, args.num_processes, args.machine_rank) == (2, 8, node)
        assert (args.main_process_ip, args.main_process_port) == ("gpu-a17", 29500)
        assert args.config_file == "training/configs/fsdp.yaml" and args.module
        assert [args.training_script, *args.training_script_args] == ["training.launch",
                                                                      "training/configs/round-1.yaml", "epochs=3"]


def test_serve_script_publishes_the_url_once_vllm_answers(tmp_path):
    bin_dir = fake_bin(tmp_path, mnm=MNM)
    record, runs = tmp_path / "calls", tmp_path / "runs"
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "RECORD": str(record), "SLURM_JOB_ID": "77",
           "MNM_RUNS_DIR": str(runs), "VLLM_API_KEY": "k"}
    out = subprocess.run(["bash", str(SLURM / "serve.sbatch"), "runs/exp/round-1/merged", "4", "8123"], env=env,
                         capture_output=True, text=True, check=True).stdout
    host = subprocess.run(["hostname", "-f"], capture_output=True, text=True).stdout.strip()
    assert f"url file: http://{host}:8123/v1" in out
    assert not (runs / "serve-77.url").exists()  # removed when the server is gone
    call = shlex.split(record.read_text())
    assert call[:2] == ["mnm", "serve"]
    printed = CliRunner().invoke(app, [a for a in call[1:] if a != "--run"])  # the real CLI, without starting
    assert printed.exit_code == 0, printed.output
    assert "--host 0.0.0.0 --port 8123 --tensor-parallel-size 4" in printed.output

    missing_key = {k: v for k, v in env.items() if k != "VLLM_API_KEY"}
    failed = subprocess.run(["bash", str(SLURM / "serve.sbatch"), "m"], env=missing_key, capture_output=True,
                            text=True)
    assert failed.returncode != 0 and "VLLM_API_KEY" in failed.stderr
