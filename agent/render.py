"""Human-readable rendering of trajectories for the terminal (rich) and for plain text logs."""

from __future__ import annotations

from rich.console import Console
from rich.panel import Panel
from rich.text import Text

from core.messages import visible_text
from core.trajectory import Trajectory

_STYLE = {"assistant": "green", "user": "cyan", "system": "magenta"}


def print_trajectory(traj: Trajectory, console: Console | None = None, max_chars: int = 2000) -> None:
    """Print every message of ``traj`` as the agent last saw it, then the outcome."""
    console = console or Console()
    last = max((m.step for m in traj.messages if m.step is not None), default=None)
    for m in traj.messages:
        text = visible_text(m, last)
        if len(text) > max_chars:
            text = text[:max_chars] + f"\n... [{len(text) - max_chars} more characters]"
        title = f"{m.role} · {m.kind}" + (f" · step {m.step + 1}" if m.step is not None else "")
        console.print(Panel(Text(text), title=title, title_align="left", border_style=_STYLE[m.role]))
    o = traj.outcome
    console.print(
        f"[bold]{traj.task_id}[/bold] trial {traj.trial}: termination={o.termination} "
        f"score={o.score:g} answer={o.answer!r} steps={len(traj.steps)} "
        f"tokens in/out={traj.usage.input_tokens}/{traj.usage.output_tokens} "
        f"calls={traj.usage.calls} wall={traj.wall_seconds:.2f}s"
        + (f"\n{o.detail}" if o.detail else "")
    )
