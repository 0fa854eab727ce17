"""The one filter interface: ``check(trajectory, step) -> Check(flagged, reason)``.

Rule filters answer at once; LLM judges (:mod:`filters.judge`) call a model, so the interface is
async (:meth:`Filter.acheck`) with a synchronous :meth:`Filter.check` for scripts and cells.
"""

from __future__ import annotations

import abc
from typing import NamedTuple

from core.asyncio_compat import run_sync
from core.trajectory import Trajectory
from filters.rules import RULES
from filters.spec import FilterSpec


class Check(NamedTuple):
    flagged: bool
    reason: str = ""


class Filter(abc.ABC):
    def __init__(self, spec: FilterSpec) -> None:
        self.spec = spec

    @property
    def name(self) -> str:
        return self.spec.name

    def applies(self, traj: Trajectory) -> bool:
        return self.spec.applies_to.matches(traj.group, traj.template)

    @abc.abstractmethod
    async def acheck(self, traj: Trajectory, step: int) -> Check:
        """Whether step ``step`` of ``traj`` makes this filter's mistake, and why."""

    def check(self, traj: Trajectory, step: int) -> Check:
        return run_sync(self.acheck(traj, step))


class RuleFilter(Filter):
    def check(self, traj: Trajectory, step: int) -> Check:
        reason = RULES[self.spec.rule](traj, step, **self.spec.args)  # type: ignore[index]
        return Check(reason is not None, reason or "")

    async def acheck(self, traj: Trajectory, step: int) -> Check:
        return self.check(traj, step)
