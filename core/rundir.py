"""The run directory: the one place that names its files and reads or writes them.

A collection writes everything into one directory::

    <run_dir>/config.yaml            the resolved config, then its provenance as comments
    <run_dir>/trajectories.jsonl     one graded trajectory per episode, appended as each finishes
    <run_dir>/summary.json           per-group results (rewritten atomically at the end)
    <run_dir>/report.{md,csv,json,png}   tables and plot of ``mnm report`` (any output directory)
    <run_dir>/episodes/<task>#<trial>/   kept working directories (benchmarks that grade files)
"""

from __future__ import annotations

import time
from pathlib import Path

from pydantic import BaseModel

from core.config import dump_config
from core.provenance import git_revision
from core.store import JsonlStore, write_atomic
from core.trajectory import Trajectory

CONFIG = "config.yaml"
TRAJECTORIES = "trajectories.jsonl"
SUMMARY = "summary.json"
EPISODES = "episodes"
REPORT = "report"  # report.md, report.csv, report.json, report.png


def trajectories(run_dir: str | Path) -> JsonlStore[Trajectory]:
    """The run's append-only store of trajectories (every record, outages and retries included)."""
    return JsonlStore(Path(run_dir) / TRAJECTORIES, Trajectory)


def is_run(path: str | Path) -> bool:
    return (Path(path) / TRAJECTORIES).exists()


def load_run(run_dir: str | Path) -> list[Trajectory]:
    """The newest record of each episode of a run directory."""
    if not is_run(run_dir):
        raise FileNotFoundError(f"{Path(run_dir) / TRAJECTORIES}: no trajectories (is {run_dir} a run directory?)")
    return list(trajectories(run_dir).latest_by_key().values())


def write_config(run_dir: str | Path, config: BaseModel) -> None:
    """Write the run's resolved config (secrets redacted) followed by its provenance as comments."""
    meta = {"git_revision": git_revision(), "started": time.strftime("%Y-%m-%dT%H:%M:%S")}
    text = dump_config(config) + "\n# provenance\n" + "\n".join(f"# {k}: {v}" for k, v in meta.items()) + "\n"
    write_atomic(Path(run_dir) / CONFIG, text)


def episode_name(task_id: str, trial: int) -> str:
    """An episode's directory name: ``<task>#<trial>`` with ``/`` in the task id made ``_``."""
    return f"{task_id.replace('/', '_')}#{trial}"


def episode_dir(run_dir: str | Path, task_id: str, trial: int) -> Path:
    """Where an episode's working directory is kept (benchmarks that grade files)."""
    return Path(run_dir) / EPISODES / episode_name(task_id, trial)


def report_path(out_dir: str | Path, suffix: str) -> Path:
    """``report.<suffix>`` under ``out_dir`` (``md``, ``csv``, ``json`` or ``png``)."""
    return Path(out_dir) / f"{REPORT}.{suffix}"
