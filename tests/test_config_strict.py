"""Config models refuse unknown keys with one line naming the file or --set, the key, and the nearest valid key."""

from __future__ import annotations

import pytest

from core.config import load_config
from core.errors import ConfigError
from tasks.collection.config import CollectConfig, load_collect_config
from training.config import TrainConfig


def test_unknown_override_names_set_and_the_nearest_key(tmp_path) -> None:
    with pytest.raises(ConfigError) as e:
        load_collect_config("teacher-test", overrides=[f"run_dir={tmp_path}", "concurency=16"])
    assert str(e.value) == "--set: unknown key 'concurency' (did you mean 'concurrency'?)"


def test_unknown_nested_key_in_a_collect_file(tmp_path) -> None:
    path = tmp_path / "collect.yaml"
    path.write_text(f"run_dir: {tmp_path}\nagent:\n  max_step: 3\n")
    with pytest.raises(ConfigError) as e:
        load_config(CollectConfig, path)
    assert str(e.value) == f"{path}: unknown key 'agent.max_step' (did you mean 'agent.max_steps'?)"


@pytest.mark.parametrize(("text", "key", "nearest"), [
    ("lora:\n  alpah: 16\n", "lora.alpah", "lora.alpha"),
    ("max_step: 3\n", "max_step", "max_steps"),
    ("zzz: 1\n", "zzz", None),
])
def test_unknown_keys_in_a_train_config(tmp_path, text, key, nearest) -> None:
    path = tmp_path / "train.yaml"
    path.write_text("base_model: tiny\noutput_dir: out\ntrain_data: [ex.jsonl]\n" + text)
    with pytest.raises(ConfigError) as e:
        load_config(TrainConfig, path)
    message = str(e.value)
    assert message.startswith(f"{path}: unknown key") and "\n" not in message
    assert f"'{key}'" in message
    assert (f"did you mean '{nearest}'" in message) if nearest else "did you mean" not in message


def test_unknown_workspace_key_from_set(tmp_path) -> None:
    with pytest.raises(ConfigError) as e:
        load_collect_config("teacher-test", overrides=[f"run_dir={tmp_path}", "agent.workspace.cell_timeout=3"])
    assert str(e.value) == "--set: unknown key 'agent.workspace.cell_timeout' (did you mean 'agent.workspace.cell_timeout_s'?)"
