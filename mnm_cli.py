"""The `mnm` command line: one thin layer mapping subcommands to library functions.

Imports happen inside each command so that `mnm --help` is instant.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Optional

import typer

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Memento No More: coach LLM agents by internalising hints into their weights.")

Overrides = Annotated[Optional[list[str]], typer.Option("--set", help="config override key=value (repeatable)")]


@app.command("run-task")
def run_task(
    client: Annotated[str, typer.Option(help="scripted | hf-local | openai | vllm-chat | vllm-completions | anthropic | deepseek")] = "scripted",
    model: Annotated[str, typer.Option(help="model name, or a local path for hf-local")] = "",
    hints: Annotated[bool, typer.Option(help="show the task-specific hints and tool docs")] = True,
    max_steps: int = 4,
    set_: Overrides = None,
) -> None:
    """Run the built-in sample task once and print the trajectory."""
    from agent.loop import AgentConfig, run_episode
    from agent.render import print_trajectory
    from core.config import load_config
    from core.llm.scripted import ScriptedClient
    from tasks import sample

    if client == "scripted":
        llm = ScriptedClient(sample.expert_responses(), model="scripted-expert")
    else:
        from core.llm.factory import ClientConfig, make_client
        llm = make_client(load_config(ClientConfig, overrides=set_ or [], base={"backend": client, "model": model}))
    traj = asyncio.run(run_episode(sample.episode(hints=hints, max_steps=max_steps), llm,
                                   AgentConfig(temperature=0.0)))
    traj.outcome.score = sample.grade(traj.outcome.answer)
    print_trajectory(traj)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
