"""Scripted agents shared by the tests, replayed through the real agent loop and workspace (so their
trajectories are recorded exactly as a model's would be)."""

from __future__ import annotations

from agent.scripted import ExpertStep, replay_agent
from core.llm.scripted import ScriptedClient

# A faulty agent on the sample task: a wrong item name, then the same failing cell again, then a
# fix, then a computed answer returned without having been printed.
FAULTY_SAMPLE = [
    ExpertStep("I look up the price of apples.", "a = get_price('apples')\nprint(a)"),
    ExpertStep("Let me run it once more.", "a = get_price('apples')\nprint(a)"),
    ExpertStep("The error says the item is unknown: names are singular, so I use 'apple' and 'pear'.",
               "a, p = get_price('apple'), get_price('pear')\nprint(a, p)"),
    ExpertStep("Now I compute the total and return it.", "total = 3 * a + 2 * p\ncomplete_task('total', f'{total:.2f}')"),
]


def faulty_agent() -> ScriptedClient:
    """The :data:`FAULTY_SAMPLE` agent."""
    return replay_agent(FAULTY_SAMPLE, model="scripted-faulty")
