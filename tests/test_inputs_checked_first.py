"""Bad inputs fail before anything is written or paid for (issue 15): a bad training example, a partial ToolQA corpus."""

from __future__ import annotations

import pytest

from core.config import load_config
from core.errors import DataError
from core.examples import write_examples
from core.llm.scripted import ScriptedClient
from tasks.collection.config import load_collect_config
from tasks.collection.runner import collect
from tests.fakes.tiny_model import tiny_examples
from training.config import TrainConfig
from training.trainer import train


def test_a_bad_example_line_fails_before_the_output_dir_is_written(tmp_path) -> None:
    data = write_examples(tmp_path / "train.jsonl", tiny_examples(2))
    with data.open("a") as f:
        f.write('{"id": "broken"\n')
    config = load_config(TrainConfig, overrides=[f"base_model={tmp_path / 'no-model'}", f"train_data=[{data}]",
                                                 f"output_dir={tmp_path / 'out'}"])
    with pytest.raises(DataError, match=f"{data}:3"):
        train(config, progress=False)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("layout", ["empty", "partial"])
def test_a_partial_toolqa_corpus_fails_before_any_llm_call(tmp_path, layout) -> None:
    root = tmp_path / "corpus"
    (root / "data" / "external_corpus" / "coffee").mkdir(parents=True)
    (root / "data" / "external_corpus" / "coffee" / "coffee_price.csv").write_text("Date,Open\n")
    if layout == "empty":
        root = tmp_path / "empty"
        root.mkdir()
    calls = []
    client = ScriptedClient(lambda request: calls.append(request) or "")
    config = load_collect_config(None, None, [f"run_dir={tmp_path / 'run'}", "tasks.benchmark=toolqa",
                                              f"tasks.data={root}", "tasks.limit=4"])
    with pytest.raises(DataError) as e:
        collect(config, client=client, show_progress=False)
    assert str(root) in str(e.value) and "\n" not in str(e.value)
    missing = "flights/Combined_Flights_2022.csv" if layout == "partial" else "external_corpus"
    assert missing in str(e.value)
    assert calls == [] and not (tmp_path / "run").exists()
