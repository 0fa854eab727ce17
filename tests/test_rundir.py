"""The run directory's one owner (core.rundir) and Example files (core.examples): round trips and
the errors a wrong path gets."""

from __future__ import annotations

import pytest

from core.config import load_config
from core.errors import DataError
from core.examples import read_examples, write_examples
from core.rundir import CONFIG, TRAJECTORIES, episode_dir, load_run, trajectories, write_config
from core.trajectory import Outcome, Trajectory
from tasks.collection.config import CollectConfig
from tests.fakes.tiny_model import tiny_examples


def test_the_recorded_config_reads_back_and_names_its_code(tmp_path):
    config = load_config(CollectConfig, updates={"run_dir": str(tmp_path), "preset": "p", "trials": 3,
                                                 "tasks": {"benchmark": "sample", "groups": ["a"]}})
    write_config(tmp_path, config)
    assert load_config(CollectConfig, tmp_path / CONFIG) == config
    assert "# git_revision: " in (tmp_path / CONFIG).read_text()


def test_load_run_keeps_the_newest_record_of_each_episode(tmp_path):
    store = trajectories(tmp_path)
    for task, termination in (("a", "llm_error"), ("b", "completed"), ("a", "completed")):
        store.append(Trajectory(task_id=task, outcome=Outcome(termination=termination)))
    assert sorted((t.task_id, t.outcome.termination) for t in load_run(tmp_path)) == [
        ("a", "completed"), ("b", "completed")]


def test_load_run_of_a_directory_without_trajectories_names_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=rf"{TRAJECTORIES}: no trajectories"):
        load_run(tmp_path)


def test_episode_directories_are_flat_under_the_run(tmp_path):
    assert episode_dir(tmp_path, "officebench/1-3/7", 2) == tmp_path / "episodes" / "officebench_1-3_7#2"


def test_examples_round_trip_and_a_missing_file_is_a_data_error(tmp_path):
    examples = tiny_examples(3)
    assert read_examples(write_examples(tmp_path / "ex.jsonl", examples)) == examples
    with pytest.raises(DataError, match=r"missing\.jsonl"):
        read_examples(tmp_path / "missing.jsonl")
