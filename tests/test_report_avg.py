"""The report's "avg" is the paper's: the mean of the group rates, with its s.e. across trials."""

import math
import statistics

from core.rundir import trajectories
from core.trajectory import Outcome, Trajectory
from tasks.collection.report import summarize, to_markdown


def _traj(group: str, i: int, trial: int, solved: bool) -> Trajectory:
    return Trajectory(task_id=f"{group}/{i}", trial=trial, group=group,
                      outcome=Outcome(score=float(solved), termination="completed"))


def _run(tmp_path, name, results):
    """``results[trial][group]`` = list of solved flags."""
    store = trajectories(tmp_path / name)
    for trial, groups in enumerate(results):
        for group, flags in groups.items():
            for i, ok in enumerate(flags):
                store.append(_traj(group, i, trial, ok))
    return tmp_path / name


def test_avg_is_the_mean_of_group_rates_not_the_pooled_rate(tmp_path):
    # 8 "big" tasks, 2 "small" ones: pooled and macro averages differ.
    trials = [{"big": [1] * 8, "small": [0, 0]}, {"big": [1] * 6 + [0] * 2, "small": [1, 0]}]
    run = _run(tmp_path, "r", trials)
    r = summarize([run])["runs"][0]
    macros = [(1.0 + 0.0) / 2, (0.75 + 0.5) / 2]
    assert math.isclose(r["avg"]["mean"], statistics.fmean(macros))
    assert math.isclose(r["avg"]["se"], statistics.stdev(macros) / math.sqrt(2))
    assert math.isclose(r["pooled"]["mean"], statistics.fmean([8 / 10, 7 / 10]))
    assert r["avg"]["mean"] != r["pooled"]["mean"]


def test_report_of_two_runs_prints_the_macro_avg(tmp_path):
    a = _run(tmp_path, "a", [{"big": [1, 1, 1], "small": [0]}])
    b = _run(tmp_path, "b", [{"big": [0, 0, 0], "small": [1]}])
    text = to_markdown(summarize([a, b]))
    header, _, row_a, row_b = text.splitlines()[:4]
    cols = [c.strip() for c in header.strip("|").split("|")]
    avg = cols.index("avg")
    assert [c.strip() for c in row_a.strip("|").split("|")][avg] == "50.0"
    assert [c.strip() for c in row_b.strip("|").split("|")][avg] == "50.0"
    assert [c.strip() for c in row_a.strip("|").split("|")][cols.index("pooled")] == "75.0"
