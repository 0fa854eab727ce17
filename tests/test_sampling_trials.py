"""Presets sample: the trials of one task differ, and a run with the same seeds repeats itself."""

import pytest

from agent.loop import AgentConfig
from core.config import load_yaml
from core.llm.sampling import SAMPLING
from core.rundir import CONFIG, load_run
from tasks.collection.config import PRESETS_DIR, load_collect_config, preset_names
from tasks.collection.runner import collect
from tasks.sample import SampleBenchmark
from tests.fakes.tiny_model import build_tiny_llama


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return build_tiny_llama(tmp_path_factory.mktemp("tiny-llama"), style="double-bos", init_std=0.02)


def _monologues(model_dir, run_dir, preset="teacher-train", trials=3):
    cfg = load_collect_config(preset, None, [
        f"run_dir={run_dir}", "tasks.benchmark=sample", "tasks.splits=[test]", f"trials={trials}",
        "client.backend=hf-local", f"client.model={model_dir}", "agent.max_steps=1", "agent.max_tokens=12",
        "concurrency=1"])
    collect(cfg, benchmark=SampleBenchmark(), show_progress=False)
    return {t.trial: t.steps[0].monologue for t in load_run(run_dir)}


def test_preset_trials_differ_and_repeat_with_their_seeds(model_dir, tmp_path):
    first = _monologues(model_dir, tmp_path / "a")
    assert len(set(first.values())) > 1, first  # greedy decoding would give three identical trials
    assert _monologues(model_dir, tmp_path / "b") == first
    recorded = (tmp_path / "a" / CONFIG).read_text()
    assert "sampling: sampled" in recorded and "min_p: 0.1" in recorded and "temperature: 1.0" in recorded
    seeds = {t.meta["seed"] for t in load_run(tmp_path / "a")}
    assert len(seeds) == 3


@pytest.mark.parametrize("preset", preset_names())
def test_every_preset_samples_with_a_seed(preset):
    agent = AgentConfig.model_validate(load_yaml(PRESETS_DIR / f"{preset}.yaml")["agent"])
    assert agent.temperature != 0 and agent.seed is not None


def test_reference_sampling_is_a_named_choice_and_explicit_fields_win():
    ref = AgentConfig(sampling="reference")
    assert (ref.temperature, ref.min_p) == (None, 0.7) == (SAMPLING["reference"]["temperature"], 0.7)
    assert AgentConfig(sampling="sampled", temperature=0.5).temperature == 0.5
    with pytest.raises(ValueError, match="sampling"):
        AgentConfig(sampling="hot")


def test_mnm_presets_shows_sampling_and_hint_sections():
    import subprocess
    import sys

    from tasks.prompts import describe_sections

    out = subprocess.run([sys.executable, "-m", "mnm_cli", "presets"], capture_output=True, text=True,
                         timeout=300, check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("teacher-train "))
    assert "trials=3" in line and "T=1.0" in line and "min_p=0.1" in line and "seed=0" in line
    assert "officebench-teacher-test" in out and "officebench-nohints-train" in out
    seen = describe_sections("heldout-teacher")
    assert "coffee: every prompt: response-format" in seen and "lowest-in-range: + coffee/extremes" in seen
    assert "-heldout" not in seen
