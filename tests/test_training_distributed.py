"""Two real CPU processes in one gloo group (torchrun): short last steps, kill -9 and resume, and the
refusal of processes that did not form a group."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import torch
import yaml
from safetensors.torch import load_file

from core.examples import write_examples
from tests.fakes.tiny_model import build_tiny_llama, tiny_examples
from tests.test_training_loop import config_for, losses
from training.metrics import MetricsLog
from training.trainer import micro_batches, train

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 600


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("dist")
    examples = tiny_examples(5)
    return {"root": root, "base": build_tiny_llama(root / "base"),
            "train": write_examples(root / "train5.jsonl", examples),
            "train3": write_examples(root / "train3.jsonl", examples[:3]), "val": None}


def torchrun(config_file: Path, *, group: bool = True, **popen) -> subprocess.Popen:
    """``[ACCELERATE_USE_CPU=true] torchrun --nproc_per_node 2 -m training.launch CONFIG``."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "WANDB_MODE": "disabled"}
    env.pop("ACCELERATE_USE_CPU", None)
    if group:
        env["ACCELERATE_USE_CPU"] = "true"
    return subprocess.Popen([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                             "-m", "training.launch", str(config_file)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **popen)


def run_two(setup, out: Path, **overrides) -> Path:
    config_file = write_config(setup, out, **overrides)
    proc = torchrun(config_file)
    output, _ = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == 0, output[-4000:]
    return out


def write_config(setup, out: Path, **overrides) -> Path:
    data = config_for(setup, out, val_data=[], **overrides).model_dump(mode="json")
    path = out.parent / f"{out.name}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def records(out: Path) -> dict[int, dict]:
    return {step: r.model_dump() for step, r in MetricsLog(out, "read", {}).records("train").items()}


def test_every_process_gets_the_same_number_of_micro_batches():
    assert micro_batches([7, 8, 9], 0, 2, 1) == [[7], [9]]
    assert micro_batches([7, 8, 9], 1, 2, 1) == [[8], []]
    assert micro_batches([7], 1, 2, 2) == [[]]
    assert micro_batches([1, 2, 3, 4, 5], 1, 2, 2) == [[2, 4], []]  # process 0 has [1, 3], [5]


@pytest.mark.parametrize("train_key, steps", [("train3", 4), ("train", 6)])
def test_two_processes_match_one_process_with_accumulation(setup, train_key, steps):
    """3 and 5 examples, global batch 2: the last step of each epoch has one example for two processes."""
    common = {"train_data": [str(setup[train_key])], "epochs": 2, "micro_batch_size": 1, "global_batch": 2,
              "lora": {"rank": 4, "dropout": 0.0}, "save_every": 100}
    one = setup["root"] / f"one-{train_key}"
    train(config_for(setup, one, val_data=[], **common), progress=False)  # accumulation 2 on one process
    two = run_two(setup, setup["root"] / f"two-{train_key}", **common)  # accumulation 1 on two processes
    expected, got = records(one), records(two)
    assert sorted(got) == sorted(expected) == list(range(1, steps + 1))
    for step in expected:
        assert got[step]["loss"] == pytest.approx(expected[step]["loss"], rel=1e-5), step
        assert got[step]["grad_norm"] == pytest.approx(expected[step]["grad_norm"], rel=1e-4), step
    a, b = (load_file(d / "adapter" / "adapter_model.safetensors") for d in (one, two))
    for key in a:
        torch.testing.assert_close(b[key], a[key], rtol=1e-4, atol=1e-6)


@pytest.mark.slow  # two torchrun trainings, one SIGKILLed mid-way
def test_kill_minus_nine_then_resume_reproduces_the_uninterrupted_losses(setup):
    """LoRA dropout on (per-process RNG streams), AdamW moments, scheduler: all must come back."""
    common = {"epochs": 4, "micro_batch_size": 1, "global_batch": 2, "lora": {"rank": 4, "dropout": 0.1},
              "save_every": 3}  # 5 examples -> 3 steps per epoch, 12 steps
    straight = run_two(setup, setup["root"] / "straight", **common)
    killed = setup["root"] / "killed"
    proc = torchrun(write_config(setup, killed, **common))
    launcher = psutil.Process(proc.pid)
    try:
        deadline = time.monotonic() + TIMEOUT
        while not (killed / "checkpoints" / "step-000003").exists():
            assert proc.poll() is None, proc.stdout.read()[-4000:]
            assert time.monotonic() < deadline, "no checkpoint in time"
            time.sleep(0.02)
    finally:
        for p in [launcher, *launcher.children(recursive=True)]:  # workers run in their own sessions
            with contextlib.suppress(psutil.NoSuchProcess):
                p.send_signal(signal.SIGKILL)  # as a cancelled job: no handler, no cleanup
        proc.communicate(timeout=60)
    assert not (killed / "adapter").exists(), "the run finished before the kill; nothing was tested"
    interrupted_at = max(int(p.name.split("-")[1]) for p in (killed / "checkpoints").glob("step-*"))
    assert interrupted_at < 12
    run_two(setup, killed, **common)
    expected, got = losses(straight), losses(killed)
    assert sorted(got) == sorted(expected) == list(range(1, 13))
    for step in range(interrupted_at + 1, 13):
        assert got[step] == pytest.approx(expected[step], rel=1e-6, abs=1e-9), step


def test_processes_without_a_process_group_are_refused(setup):
    out = setup["root"] / "lonely"
    proc = torchrun(write_config(setup, out, max_steps=1), group=False)
    output, _ = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode != 0
    assert "2 processes were launched (WORLD_SIZE) but accelerate sees 1" in output
    assert not out.exists()
