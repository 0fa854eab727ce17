"""An empty toolset: GSM8K and HumanEval episodes need only Python itself.

A module of its own with no imports, because the workspace server imports it before forking
each episode's worker."""

from __future__ import annotations


def bind(shared: object = None) -> dict[str, object]:
    """No tools: the workspace offers plain Python (and ``complete_task``)."""
    return {}
