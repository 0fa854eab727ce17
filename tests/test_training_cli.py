"""`mnm train` then `mnm merge` end to end on a tiny model and a dataset in the filters' format;
the merged checkpoint then serves the agent through the in-process transformers client."""

import os
import subprocess
import sys

import yaml

from agent.loop import AgentConfig, run_episode
from core.asyncio_compat import run_sync
from core.examples import write_examples
from core.llm.factory import ClientConfig, make_client
from tasks import sample
from tests.fakes.tiny_model import build_tiny_llama, tiny_examples


def _mnm(*args: str) -> str:
    out = subprocess.run([sys.executable, "-m", "mnm_cli", *args], capture_output=True, text=True, timeout=600,
                         env={**os.environ, "WANDB_MODE": "disabled"})
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


def test_train_then_merge_then_serve(tmp_path):
    base = build_tiny_llama(tmp_path / "base")
    train = write_examples(tmp_path / "train.jsonl", tiny_examples(6))
    val = write_examples(tmp_path / "val.jsonl", tiny_examples(2))
    config = tmp_path / "round.yaml"
    config.write_text(yaml.safe_dump({
        "base_model": str(base), "train_data": [str(train)], "val_data": [str(val)],
        "output_dir": str(tmp_path / "train"), "lora": {"rank": 4}, "optim": {"lr": 1e-3, "warmup_steps": 1},
        "epochs": 1, "dtype": "float32", "eval_every": 3, "save_every": 3}))
    assert "adapter:" in _mnm("train", str(config), "--set", "seed=1")
    assert (tmp_path / "train" / "adapter" / "adapter_config.json").exists()
    assert (tmp_path / "train" / "metrics.jsonl").stat().st_size > 0

    merged = tmp_path / "merged"
    _mnm("merge", "--base", str(base), "--adapter", str(tmp_path / "train" / "adapter"), "--out", str(merged),
         "--dataset", str(train))
    provenance = (merged / "provenance.json").read_text()
    assert str(base) in provenance and "adapter" in provenance and str(train) in provenance
    assert (merged / "tokenizer_config.json").exists()

    client = make_client(ClientConfig(backend="hf-local", model=str(merged)))
    traj = run_sync(run_episode(sample.episode(max_steps=1), client, AgentConfig(max_tokens=8)))
    assert traj.outcome.termination in ("budget_exhausted", "completed")
    assert traj.steps and traj.steps[0].usage.calls == 2
