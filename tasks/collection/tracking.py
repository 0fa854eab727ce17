"""Following a collection: the progress bar (success rate, steps) and optional wandb logging."""

from __future__ import annotations

from types import TracebackType
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from core.trajectory import Step, Trajectory

COLUMNS = ["task", "trial", "group", "template", "score", "termination", "steps", "input_tokens", "output_tokens"]


def episode_row(t: Trajectory) -> list[Any]:
    """One episode's row of the tracked table (columns: :data:`COLUMNS`)."""
    return [t.task_id, t.trial, t.group, t.template, t.outcome.score, t.outcome.termination, len(t.steps),
            t.usage.input_tokens, t.usage.output_tokens]


class Tracking:
    """A progress bar over ``total`` episodes (and a wandb run with ``wandb``), used as a context manager.

    ``episode_done`` counts an episode of any collector process; ``step_done`` a step of this one.
    """

    def __init__(self, name: str, total: int, show_progress: bool = True,
                 wandb_run: dict[str, Any] | None = None) -> None:
        self.progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("success {task.fields[rate]}"), TextColumn("steps {task.fields[steps]}"),
                                 TimeElapsedColumn(), disable=not show_progress)
        self.bar = self.progress.add_task(name, total=total, rate="-", steps="-")
        self.solved = self.finished = self.steps = 0
        self.wandb = _Wandb(**wandb_run) if wandb_run is not None else None

    def __enter__(self) -> Tracking:
        self.progress.__enter__()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.progress.__exit__(kind, error, tb)

    def step_done(self, traj: Trajectory, step: Step) -> None:
        self.steps += 1
        self.progress.update(self.bar, steps=self.steps)

    def episode_done(self, success: bool, row: list[Any]) -> None:
        self.finished += 1
        self.solved += success
        self.progress.update(self.bar, advance=1, rate=f"{self.solved / self.finished:.1%}")
        if self.wandb:
            self.wandb.add(row)

    def finish(self, summary: dict[str, Any]) -> None:
        if self.wandb:
            self.wandb.finish(summary)


class _Wandb:
    """Optional wandb logging: run config, one row per episode, per-group metrics at the end."""

    def __init__(self, name: str, config: dict[str, Any], directory: str) -> None:
        import wandb

        from core.settings import get_settings

        s = get_settings()
        self.run = wandb.init(project=s.wandb_project, mode=s.wandb_mode, name=name, config=config, dir=directory)
        self.table = wandb.Table(columns=COLUMNS)

    def add(self, row: list[Any]) -> None:
        self.table.add_data(*row)

    def finish(self, summary: dict[str, Any]) -> None:
        for run in summary["runs"]:
            self.run.log({f"success/{g}": v["mean"] for g, v in run["groups"].items()})
        self.run.log({"episodes": self.table})
        self.run.finish()
