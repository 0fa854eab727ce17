"""A tiny tool kind for the workspace tests: a shared pre-loaded table and functions bound to it."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from typing import Any


def preload(counter: str | None = None, size: int = 1_000_000, helper: bool = False) -> dict[str, Any]:
    """Build the shared table; appends a line to ``counter`` each time it runs; may start a helper process."""
    if counter:
        with open(counter, "a") as f:
            f.write(f"{os.getpid()}\n")
    helper_pid = subprocess.Popen(["sleep", "30"]).pid if helper else None
    return {"pid": os.getpid(), "table": list(range(size)), "helper": helper_pid}


def bind(shared: dict[str, Any] | None, offset: int = 0) -> dict[str, Any]:
    """Tools of one episode; ``offset`` is the episode's own argument."""
    table = shared["table"] if shared else []

    def lookup(i: int) -> int:
        """The table's entry ``i`` plus the episode's offset."""
        return table[i] + offset

    def preload_pid() -> int | None:
        return shared["pid"] if shared else None

    def helper_pid() -> int | None:
        return shared["helper"] if shared else None

    def table_address() -> int:
        return id(table)

    def workdir() -> Path:
        return Path.cwd()

    return {"lookup": lookup, "preload_pid": preload_pid, "table_address": table_address, "workdir": workdir,
            "helper_pid": helper_pid}


def bind_broken(shared: Any) -> dict[str, Any]:
    raise ValueError("this tool kind cannot be bound")


def preload_torch() -> dict[str, Any]:
    """Use torch's thread pool in the server before it forks (as a retriever's preload would)."""
    import torch

    a = torch.randn(300, 300)
    for _ in range(3):
        a = a @ a / 300
    return {"pid": os.getpid(), "table": a.tolist()[0]}


def bind_when(shared: dict[str, Any] | None, marker: str) -> dict[str, Any]:
    """``bind``, once the file ``marker`` exists (up to 20 s): a worker that is slow to start."""
    for _ in range(400):
        if os.path.exists(marker):
            break
        time.sleep(0.05)
    return bind(shared)
