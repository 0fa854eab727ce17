"""Benchmark audits: what an agent that does nothing scores, and which subtasks cannot be solved."""

from __future__ import annotations

import tempfile
from pathlib import Path

from pydantic import BaseModel
from tqdm import tqdm

from tasks.officebench.benchmark import OfficeBenchmark
from tasks.officebench.evaluator import Errata, unsolvable_under_original
from tasks.officebench.tools import bind


class NoActionSummary(BaseModel):
    errata: Errata
    subtasks: int
    subtasks_passed: list[str]
    checks: int
    checks_passed: int


def no_action(errata: tuple[Errata, ...] = ("original", "corrected")) -> dict[str, NoActionSummary]:
    """Grade every subtask after an episode that binds its tools and does nothing (answer None).

    Doing nothing leaves the testbed as bound, so one fresh testbed per task folder serves all of
    its subtasks and every errata setting."""
    benches = {e: OfficeBenchmark(errata=e) for e in errata}
    tasks = next(iter(benches.values())).tasks()
    results = {e: NoActionSummary(errata=e, subtasks=len(tasks), subtasks_passed=[], checks=0, checks_passed=0)
               for e in errata}
    with tempfile.TemporaryDirectory(prefix="mnm-ob-noaction-") as tmp:
        for folder in tqdm(list(dict.fromkeys(t.template for t in tasks)), desc="no-action"):
            episode_dir = Path(tmp) / folder
            bind(None, folder=folder, episode_dir=str(episode_dir))
            for task in (t for t in tasks if t.template == folder):
                for e, bench in benches.items():
                    report = bench.report(task, None, episode_dir)
                    summary = results[e]
                    summary.checks += len(report.checks)
                    summary.checks_passed += sum(c.passed for c in report.checks)
                    if report.passed:
                        summary.subtasks_passed.append(task.id)
    return results


def audit_report() -> str:
    """Markdown lines: no-action scores under both errata settings and the unsolvable subtasks."""
    lines = []
    for errata, s in no_action().items():
        lines.append(f"- no action, {errata}: {len(s.subtasks_passed)}/{s.subtasks} subtasks "
                     f"({', '.join(s.subtasks_passed)}), {s.checks_passed}/{s.checks} checks")
    blocked = unsolvable_under_original()
    lines.append(f"- unsolvable under original ({len(blocked)}): {', '.join(blocked)}")
    return "\n".join(lines)
