import pytest
from pydantic import BaseModel

from core.config import apply_overrides, dump_config, load_config
from core.errors import ConfigError


class Inner(BaseModel):
    rank: int = 8
    targets: list[str] = ["q"]


class Cfg(BaseModel):
    name: str
    lr: float = 1e-5
    lora: Inner = Inner()


def test_yaml_then_overrides(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("name: a\nlora:\n  rank: 16\n")
    cfg = load_config(Cfg, path, ["lr=0.001", "lora.targets=[q, v]"])
    assert cfg == Cfg(name="a", lr=0.001, lora=Inner(rank=16, targets=["q", "v"]))
    assert load_config(Cfg, overrides=[f"{k}={v}" for k, v in [("name", "a")]]).lr == 1e-5
    assert "rank: 16" in dump_config(cfg)


def test_updates_are_python_values_merged_over_the_file_and_under_the_overrides(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("name: a\nlora:\n  rank: 16\n")
    cfg = load_config(Cfg, path, ["lr=0.5"], updates={"name": "no", "lr": 0.1, "lora": {"targets": ["null"]}})
    assert cfg == Cfg(name="no", lr=0.5, lora=Inner(rank=16, targets=["null"]))  # "no", "null" stay strings
    with pytest.raises(ConfigError, match=r"^updates: field 'lora.rank'"):
        load_config(Cfg, path, updates={"lora": {"rank": "many"}})


def test_errors_name_file_and_field(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("name: a\nlora:\n  rank: many\n")
    with pytest.raises(ConfigError, match=r"c.yaml: field 'lora.rank'"):
        load_config(Cfg, path)
    with pytest.raises(ConfigError, match="not of the form"):
        apply_overrides({}, ["lr"])
    with pytest.raises(ConfigError, match="not found"):
        load_config(Cfg, tmp_path / "missing.yaml")
