"""Every ``# %%`` cell script runs top to bottom in a real Jupyter kernel (as VSCode's interactive
window runs it) and as ``python FILE.py``, sized small by an injected parameters cell."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from core.examples import write_examples
from tests.cells import cell_scripts, run_as_script, run_in_kernel, text_outputs
from tests.fakes.tiny_model import build_tiny_llama, tiny_examples

# script -> (parameters, what its output must contain: "{tmp_path}" is where it runs, with its runs/ inside)
CASES: dict[str, tuple[dict[str, Any], list[str]]] = {
    "agent/interactive/run_agent.py": ({}, ["termination=completed score=1"]),
    "tasks/run_concurrent_ToolQA.py": ({"LIMIT": 2}, ["| teacher-test | 100.0 |", "run_dir: {tmp_path}/runs/teacher-test\n"]),
    "tasks/run_concurrent_OfficeBench.py": ({"LIMIT": 2}, ["| officebench-nohints-test |"]),
    "tasks/run_no_forgetting.py": ({"LIMIT": 2}, ["| base | 100.0±0.0 | 100.0±0.0 |", "| round-1 | 0.0±0.0 | 0.0±0.0 |",
                                                  "base pass@1 100.0±0.0, pass@2 100.0±0.0"]),
    "filters/review_and_correct.py": ({}, ["unprinted-answer", "dropped (exception)", "examples.jsonl"]),
    "training/train_round.py": ({"OVERRIDES": {"epochs": 2}}, ["epochs: 2", "merged model:"]),
    "benchmarking/perf/hf_local_throughput.py": ({"PROMPTS": 3, "CONCURRENCY": 3, "MAX_TOKENS": 4, "START_VLLM": False},
                                                 ["x HF generate)", "vLLM: skipped"]),
    "benchmarking/perf/sparse_kl.py": ({"EXAMPLES": 2, "KS": (5, 400), "TEMPERATURES": (2.0,), "REPEATS": 1},
                                       ["k =   400, cache at T = 2.0: loss", "k =     5, old way (T = 1 cache): loss",
                                        "cached k = 5", "x today)"]),
    "benchmarking/perf/toolqa_episode_start.py": ({"EPISODES": 2, "BASELINE_EPISODES": 1, "PROFILE": "tiny"},
                                                  ["speed-up of preloading:"]),
}
PROGRESS_WIDGETS = ["tasks/run_concurrent_ToolQA.py", "training/train_round.py"]  # bars that render in a kernel


def _expect(path: str, out: str, tmp_path: Path) -> None:
    for expected in CASES[path][1]:
        assert expected.format(tmp_path=tmp_path) in out, out[-3000:]


def test_every_cell_script_has_a_case():
    assert sorted(CASES) == cell_scripts()


@pytest.fixture(scope="module")
def train_yaml(tmp_path_factory) -> str:
    """A round config on a tiny model (train.yaml in round-1/, as in the run-directory layout)."""
    root = tmp_path_factory.mktemp("tiny-round")
    examples = tiny_examples(6)
    config = {"base_model": str(build_tiny_llama(root / "base")), "output_dir": str(root / "round-1" / "train"),
              "train_data": [str(write_examples(root / "train.jsonl", examples[:4]))],
              "val_data": [str(write_examples(root / "val.jsonl", examples[4:]))],
              "lora": {"rank": 4}, "dtype": "float32", "epochs": 1, "micro_batch_size": 2,
              "eval_every": 2, "save_every": 2}
    path = root / "round-1" / "train.yaml"
    path.parent.mkdir()
    path.write_text(yaml.safe_dump(config))
    return str(path)


def _params(path: str, train_yaml_path: str, tmp_path: Path) -> dict[str, Any]:
    params = dict(CASES[path][0])
    if path == "training/train_round.py":  # a fresh round per run: the merged model is kept if it exists
        config = yaml.safe_load(Path(train_yaml_path).read_text())
        config["output_dir"] = str(tmp_path / "round-1" / "train")
        (tmp_path / "train.yaml").write_text(yaml.safe_dump(config))
        params["CONFIG"] = str(tmp_path / "train.yaml")
    if path in ("benchmarking/perf/hf_local_throughput.py", "benchmarking/perf/sparse_kl.py"):  # the tiny model stands in for a real one
        params["MODEL"] = yaml.safe_load(Path(train_yaml_path).read_text())["base_model"]
    return params


@pytest.fixture
def tiny_round(request, tmp_path) -> str:
    needs = ("train_round", "hf_local_throughput", "sparse_kl")
    return request.getfixturevalue("train_yaml") if any(n in request.node.name for n in needs) else ""


@pytest.mark.timeout(900)
@pytest.mark.parametrize("path", sorted(CASES))
def test_cells_run_in_a_jupyter_kernel(path, tmp_path, tiny_round):
    nb = run_in_kernel(path, tmp_path, _params(path, tiny_round, tmp_path))
    _expect(path, text_outputs(nb), tmp_path)
    if path in PROGRESS_WIDGETS:
        outputs = [o for cell in nb.cells for o in cell.get("outputs", [])]
        assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outputs)


@pytest.mark.timeout(900)
@pytest.mark.parametrize("path", sorted(CASES))
def test_cells_run_as_a_script(path, tmp_path, tiny_round):
    _expect(path, run_as_script(path, tmp_path, _params(path, tiny_round, tmp_path)), tmp_path)
