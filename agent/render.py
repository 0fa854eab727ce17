"""Human-readable rendering of trajectories for the terminal (rich) and for plain text logs.

:func:`print_trajectory` prints a finished episode; :class:`LivePrinter` prints each step as it
completes (an ``on_step`` callback) and :class:`PromptPrinter` wraps a client to print every prompt
exactly as the model receives it (:meth:`core.llm.base.LLMClient.exact_prompt`).
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.panel import Panel
from rich.text import Text

from core.llm.base import Completion, LLMClient, Request
from core.messages import Message, visible_text
from core.trajectory import Step, Trajectory

_STYLE = {"assistant": "green", "user": "cyan", "system": "magenta"}


def print_messages(messages: Sequence[Message], last_step: int | None, console: Console,
                   max_chars: int = 2000) -> None:
    """One panel per message, as the agent saw it when ``last_step`` was the latest step."""
    for m in messages:
        text = visible_text(m, last_step)
        if len(text) > max_chars:
            text = text[:max_chars] + f"\n... [{len(text) - max_chars} more characters]"
        title = f"{m.role} · {m.kind}" + (f" · step {m.step + 1}" if m.step is not None else "")
        console.print(Panel(Text(text), title=title, title_align="left", border_style=_STYLE[m.role]))


def print_outcome(traj: Trajectory, console: Console) -> None:
    o = traj.outcome
    console.print(
        f"[bold]{traj.task_id}[/bold] trial {traj.trial}: termination={o.termination} "
        f"score={o.score:g} answer={o.answer!r} steps={len(traj.steps)} "
        f"tokens in/out={traj.usage.input_tokens}/{traj.usage.output_tokens} "
        f"calls={traj.usage.calls} wall={traj.wall_seconds:.2f}s"
        + (f"\n{o.detail}" if o.detail else "")
    )


def print_trajectory(traj: Trajectory, console: Console | None = None, max_chars: int = 2000) -> None:
    """Print every message of ``traj`` as the agent last saw it, then the outcome."""
    console = console or Console()
    last = max((m.step for m in traj.messages if m.step is not None), default=None)
    print_messages(traj.messages, last, console, max_chars)
    print_outcome(traj, console)


class LivePrinter:
    """An ``on_step`` callback: the messages added since the last call, then a one-line step summary."""

    def __init__(self, console: Console | None = None, max_chars: int = 2000) -> None:
        self.console = console or Console()
        self.max_chars = max_chars
        self.printed = 0

    def __call__(self, traj: Trajectory, step: Step) -> None:
        print_messages(traj.messages[self.printed:], step.index, self.console, self.max_chars)
        self.printed = len(traj.messages)
        self.console.print(
            f"[bold]step {step.index + 1}[/bold]: {step.status}, tokens in/out "
            f"{step.usage.input_tokens}/{step.usage.output_tokens}, model {step.llm_seconds:.1f} s, "
            f"cell {step.exec_seconds:.1f} s")

    def finish(self, traj: Trajectory) -> None:
        """The messages no step printed (an episode that ended inside a step), then the outcome."""
        last = max((m.step for m in traj.messages if m.step is not None), default=None)
        print_messages(traj.messages[self.printed:], last, self.console, self.max_chars)
        print_outcome(traj, self.console)


class PromptPrinter(LLMClient):
    """``client``, printing each request's prompt exactly as the model receives it before sending it."""

    def __init__(self, client: LLMClient, console: Console | None = None) -> None:
        self.client = client
        self.model = client.model
        self.console = console or Console()

    def exact_prompt(self, request: Request) -> str:
        return self.client.exact_prompt(request)

    async def complete(self, request: Request) -> Completion:
        self.console.rule(f"prompt sent to {self.model}")
        self.console.print(Text(self.exact_prompt(request)), soft_wrap=True)
        self.console.rule("end of prompt")
        return await self.client.complete(request)

    async def aclose(self) -> None:
        await self.client.aclose()
