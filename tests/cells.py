"""Run a ``# %%`` cell script the two ways researchers do: in a Jupyter kernel (jupytext builds the
notebook, nbclient runs it on a real ipykernel, as VSCode's interactive window does) and as
``python FILE.py``. ``params`` (Python values) go into a cell injected after the cell tagged
``parameters``, as papermill does, so a test sizes the run without editing the file."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jupytext
import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("agent", "core", "tasks", "filters", "training", "benchmarking", "demo")


def cell_scripts() -> list[str]:
    """Every ``# %%`` cell script in the packages, relative to the repository root."""
    return sorted(str(p.relative_to(ROOT)) for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")
                  if any(line.startswith("# %%") for line in p.read_text().splitlines()))


def notebook(path: str, params: dict[str, Any]) -> nbformat.NotebookNode:
    """The script as a notebook, with ``params`` assigned in a cell after the ``parameters`` cell."""
    nb = jupytext.read(ROOT / path)
    tagged = [i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])]
    if len(tagged) != 1:
        raise ValueError(f"{path}: expected one cell tagged parameters, found {len(tagged)}")
    if params:
        source = "\n".join(f"{k} = {v!r}" for k, v in params.items())
        nb.cells.insert(tagged[0] + 1, nbformat.v4.new_code_cell(source, metadata={"tags": ["injected-parameters"]}))
    return nb


def _env(cwd: Path, env: dict[str, str] | None) -> dict[str, str]:
    return {**os.environ, "MNM_RUNS_DIR": str(cwd / "runs"), **(env or {}), "PYTHONPATH": str(ROOT)}


def run_in_kernel(path: str, cwd: Path, params: dict[str, Any] | None = None, env: dict[str, str] | None = None,
                  timeout: int = 600) -> nbformat.NotebookNode:
    """Execute every cell in a fresh ipykernel started in ``cwd``; the executed notebook (raises on a failing cell)."""
    nb = notebook(path, params or {})
    NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}).execute(
        env=_env(cwd, env))
    return nb


def text_outputs(nb: nbformat.NotebookNode) -> str:
    """Everything the cells printed (stdout, stderr, text results), without terminal colours."""
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            parts.append(out.get("text", "") or out.get("data", {}).get("text/plain", ""))
    return re.sub(r"\x1b\[[0-9;]*m", "", "".join(parts))


def run_as_script(path: str, cwd: Path, params: dict[str, Any] | None = None, env: dict[str, str] | None = None,
                  timeout: int = 600) -> str:
    """``python FILE.py`` in ``cwd`` (with ``params``: the file with the injected cell); its stdout."""
    script = ROOT / path
    if params:
        script = cwd / f"cells_{script.name}"
        jupytext.write(notebook(path, params), script, fmt="py:percent")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=timeout, cwd=cwd,
                          env=_env(cwd, env))
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout
