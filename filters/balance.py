"""Automated data balancing for rounds ≥ 2 (the paper's Appendix F, done by hand there).

Corrections cover the states where the agent erred, which leaves templates and groups the agent
already solves almost absent. Candidates are *successful* trajectories of the newest agent run
with the task-specific hints (Option I); whole trajectories (every step) are added, in three passes:

1. **Too few mistakes**: a template with corrected states, but fewer than
   ``min_states_per_template``, gets random candidate trajectories of the same template until it
   has that many states.
2. **Under-represented groups**: every group gets candidate trajectories until its number of
   states reaches ``group_floor`` × that of the largest group, tasks with more failures first
   (flagged states of this and earlier rounds).
3. **Preserving skills**: each template still without any example gets ``preserve_per_template``
   random candidate trajectories.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Sequence

from pydantic import Field

from core.config import Config
from core.examples import Example
from core.trajectory import Trajectory
from filters.examples import trajectory_examples


class BalanceConfig(Config):
    min_states_per_template: int = Field(3, ge=0, description="states a template with mistakes should reach")
    group_floor: float = Field(0.5, ge=0, le=1, description="fraction of the largest group's states each group reaches")
    preserve_per_template: int = Field(1, ge=0, description="trajectories for each template not covered otherwise")
    seed: int = 0


Candidate = tuple[str, Trajectory]  # (run, trajectory)


def _states(examples: Sequence[Example], key: str, value: str) -> int:
    return len({e.state_id for e in examples if getattr(e, key) == value})


class _Balancer:
    def __init__(self, examples: list[Example], candidates: Sequence[Candidate], config: BalanceConfig,
                 failures: Counter[str]) -> None:
        self.examples = list(examples)
        self.added: list[Example] = []
        self.rng = random.Random(config.seed)
        self.config, self.failures = config, failures
        self.pool = sorted((c for c in candidates if c[1].outcome.success and c[1].steps),
                           key=lambda c: (c[0], c[1].key))

    def _take(self, cand: Candidate, reason: str) -> None:
        self.pool.remove(cand)
        new = trajectory_examples(cand[1], cand[0], source="balance", meta={"balance": reason})
        self.examples += new
        self.added += new

    def _fill(self, key: str, value: str, target: int, reason: str, by_failures: bool = False) -> None:
        options = [c for c in self.pool if getattr(c[1], key) == value]
        self.rng.shuffle(options)
        if by_failures:
            options.sort(key=lambda c: -self.failures[c[1].task_id])  # stable: random among ties
        for cand in options:
            if _states(self.examples, key, value) >= target:
                return
            self._take(cand, reason)

    def run(self) -> list[Example]:
        c = self.config
        mistakes = Counter({t: _states(self.examples, "template", t) for t in {e.template for e in self.examples}})
        for template, n in sorted(mistakes.items()):
            if 0 < n < c.min_states_per_template:
                self._fill("template", template, c.min_states_per_template, "template")
        groups = sorted({e.group for e in self.examples} | {cand[1].group for cand in self.pool})
        largest = max((_states(self.examples, "group", g) for g in groups), default=0)
        target = math.ceil(c.group_floor * largest)
        for g in groups:
            self._fill("group", g, target, "group", by_failures=True)
        covered = {e.template for e in self.examples}
        for template in sorted({cand[1].template for cand in self.pool} - covered):
            options = [cand for cand in self.pool if cand[1].template == template]
            for cand in self.rng.sample(options, min(c.preserve_per_template, len(options))):
                self._take(cand, "preserve")
        return self.added


def balance(corrections: Sequence[Example], candidates: Sequence[Candidate], config: BalanceConfig | None = None,
            failures: Counter[str] | None = None) -> list[Example]:
    """The examples to add to ``corrections`` (whole candidate trajectories, ``source='balance'``)."""
    failures = failures if failures is not None else Counter()
    return _Balancer(list(corrections), candidates, config or BalanceConfig(), failures).run()


def failure_counts(examples: Sequence[Example]) -> Counter[str]:
    """Corrected states per task: how often the agent erred on it (priority for group top-ups)."""
    return Counter(task for task, _ in {(e.task_id, e.state_id) for e in examples if e.provenance.source == "correction"})
