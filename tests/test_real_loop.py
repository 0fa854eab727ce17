"""The whole loop on the real model and vLLM (`mnm real-loop`): the plumbing, not the success rate."""

import json

import pytest
from transformers import AutoTokenizer

from core.examples import read_examples
from core.rundir import CONFIG, SUMMARY
from core.store import JsonlStore
from core.trajectory import Trajectory
from demo.real_loop import LoopConfig, run_real_loop
from filters.examples import trajectory_id
from tests.real_models import free_port
from training.sequences import encode

pytestmark = [pytest.mark.slow, pytest.mark.real, pytest.mark.timeout(1800)]  # a server start is minutes


def target_starts(mask: list[bool]) -> list[int]:
    """Token positions where each target run begins (= the length of the prompt that generated it)."""
    return [i for i, m in enumerate(mask) if m and (i == 0 or not mask[i - 1])]


def test_collect_review_correct_train_merge_serve_collect(smollm2_server, tmp_path):
    record = run_real_loop(tmp_path, LoopConfig(base_url=smollm2_server, served_name="smollm2", port=free_port()))
    assert json.loads((tmp_path / "loop.json").read_text())["merged"] == record["merged"]
    for run, episodes in (("teacher", 3), ("student", 1), ("after", 1)):  # complete run directories
        trajs = list(JsonlStore(f"{record[run]}/trajectories.jsonl", Trajectory).read())
        assert len(trajs) == episodes and all(t.steps and t.outcome.termination for t in trajs)
        assert all((tmp_path / record[run] / f).exists() for f in (CONFIG, SUMMARY))
    after = list(JsonlStore(f"{record['after']}/trajectories.jsonl", Trajectory).read())
    assert all(t.model == "merged" and t.outcome.termination != "llm_error" for t in after)  # vLLM served it
    assert (tmp_path / "review" / "verdicts.jsonl").exists() and (tmp_path / "review" / "corrections.jsonl").exists()
    assert json.loads((tmp_path / "merged" / "provenance.json").read_text())["kind"] == "merged"

    # The tokens trained are the tokens the server was sent: each target of each example starts
    # right after the prompt that generated it, so the prompt lengths add up to the usage recorded.
    tokenizer = AutoTokenizer.from_pretrained(record["base"])
    teacher = {trajectory_id(record["teacher"], t): t
               for t in JsonlStore(f"{record['teacher']}/trajectories.jsonl", Trajectory).read()}
    examples = read_examples(tmp_path / "dataset" / "examples.jsonl")
    assert examples
    for example in examples:
        step = teacher[example.provenance.trajectory].steps[example.provenance.step]
        assert sum(target_starts(encode(example, tokenizer).target_mask)) == step.usage.input_tokens
