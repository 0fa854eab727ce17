"""Result tables for one or several runs, laid out like the paper's.

Success per group is the mean over trials of each trial's success rate, with the standard error
across trials (0 with one trial). ``avg`` is the paper's "Avg.": the mean of the group rates
(a macro average, each group weighing the same), with its standard error across trials' macro
means; ``pooled`` is the success rate over all episodes, whatever their group. Episodes that ended on an endpoint or workspace failure are
counted separately (``failed``) from wrong answers; they still count as unsolved in the success
rate, as in the paper. Outputs: Markdown, CSV, JSON and a PNG bar plot.
"""

from __future__ import annotations

import csv
import io
import json
import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from core.rundir import load_run, report_path
from core.store import write_atomic
from core.trajectory import Trajectory

FAILURES = ("llm_error", "workspace_error", "context_overflow", "cancelled")


def _mean_se(trajs: list[Trajectory]) -> dict[str, float]:
    by_trial: dict[int, list[float]] = defaultdict(list)
    for t in trajs:
        by_trial[t.trial].append(float(t.outcome.success))
    rates = [statistics.fmean(v) for v in by_trial.values()]
    se = statistics.stdev(rates) / math.sqrt(len(rates)) if len(rates) > 1 else 0.0
    return {"mean": statistics.fmean(rates), "se": se, "n": len(trajs), "trials": len(rates)}


def _macro_se(trajs: list[Trajectory]) -> dict[str, float]:
    """The paper's average: per trial, the mean of the group success rates; then mean and s.e. over trials."""
    by_trial: dict[int, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for t in trajs:
        by_trial[t.trial][t.group].append(float(t.outcome.success))
    macros = [statistics.fmean(statistics.fmean(v) for v in groups.values()) for groups in by_trial.values()]
    if not macros:
        return {"mean": 0.0, "se": 0.0, "n": 0, "trials": 0}
    se = statistics.stdev(macros) / math.sqrt(len(macros)) if len(macros) > 1 else 0.0
    return {"mean": statistics.fmean(macros), "se": se, "n": len(trajs), "trials": len(macros)}


def summarize_trajectories(name: str, trajs: list[Trajectory]) -> dict[str, Any]:
    groups = sorted({t.group for t in trajs})
    n = max(len(trajs), 1)
    terminations = Counter(t.outcome.termination for t in trajs)
    return {
        "run": name,
        "episodes": len(trajs),
        "groups": {g: _mean_se([t for t in trajs if t.group == g]) for g in groups},
        "avg": _macro_se(trajs),
        "pooled": _mean_se(trajs) if trajs else {"mean": 0.0, "se": 0.0, "n": 0, "trials": 0},
        "input_tokens_per_episode": sum(t.usage.input_tokens for t in trajs) / n,
        "output_tokens_per_episode": sum(t.usage.output_tokens for t in trajs) / n,
        "llm_calls_per_episode": sum(t.usage.calls for t in trajs) / n,
        "steps_per_episode": sum(len(t.steps) for t in trajs) / n,
        "wall_seconds_per_episode": sum(t.wall_seconds for t in trajs) / n,
        "cost_usd": sum(t.usage.cost_usd for t in trajs),
        "terminations": dict(terminations),
        "failed": sum(terminations[f] for f in FAILURES),
        "wrong": sum(1 for t in trajs if not t.outcome.success and t.outcome.termination not in FAILURES),
    }


def summarize(run_dirs: Sequence[str | Path], names: Sequence[str] | None = None) -> dict[str, Any]:
    names = list(names) if names else [Path(d).name for d in run_dirs]
    return {"runs": [summarize_trajectories(n, load_run(d)) for n, d in zip(names, run_dirs, strict=True)]}


def _cell(stats: dict[str, float] | None) -> str:
    if not stats:
        return "–"
    pct = f"{100 * stats['mean']:.1f}"
    return f"{pct}±{100 * stats['se']:.1f}" if stats["trials"] > 1 else pct


def _groups(summary: dict[str, Any]) -> list[str]:
    return sorted({g for r in summary["runs"] for g in r["groups"]})


def rows(summary: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """Header and rows: one row per run, one column per group, then efficiency columns."""
    groups = _groups(summary)
    header = ["run", *groups, "avg", "pooled", "in tok/ep", "out tok/ep", "calls/ep", "wall s/ep", "failed", "wrong"]
    body = []
    for r in summary["runs"]:
        body.append([r["run"], *[_cell(r["groups"].get(g)) for g in groups], _cell(r["avg"]), _cell(r["pooled"]),
                     f"{r['input_tokens_per_episode']:.0f}", f"{r['output_tokens_per_episode']:.0f}",
                     f"{r['llm_calls_per_episode']:.1f}", f"{r['wall_seconds_per_episode']:.2f}",
                     str(r["failed"]), str(r["wrong"])])
    return header, body


def to_markdown(summary: dict[str, Any]) -> str:
    header, body = rows(summary)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in body]
    terms = ["", "Terminations: " + "; ".join(
        f"{r['run']}: " + ", ".join(f"{k} {v}" for k, v in sorted(r["terminations"].items()))
        for r in summary["runs"])]
    return "\n".join(lines + terms) + "\n"


def to_csv(summary: dict[str, Any]) -> str:
    header, body = rows(summary)
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(header)
    writer.writerows(body)
    return buf.getvalue()


def plot(summary: dict[str, Any], path: str | Path) -> None:
    """Grouped bars: success by group (and the paper's average) for each run, with standard-error bars."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = [*_groups(summary), "avg"]
    runs = summary["runs"]
    width = 0.8 / max(len(runs), 1)
    fig, ax = plt.subplots(figsize=(max(6, 1.2 * len(groups) * max(1, len(runs) / 2)), 4))
    for i, r in enumerate(runs):
        stats = [r["groups"].get(g) if g != "avg" else r["avg"] for g in groups]
        means = [100 * (s["mean"] if s else 0) for s in stats]
        errs = [100 * (s["se"] if s else 0) for s in stats]
        xs = [j + (i - (len(runs) - 1) / 2) * width for j in range(len(groups))]
        ax.bar(xs, means, width, yerr=errs, capsize=3, label=r["run"])
    ax.set_xticks(range(len(groups)), groups)
    ax.set_ylabel("success (%)")
    ax.set_ylim(0, 105)
    ax.legend(fontsize=8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=120)
    plt.close(fig)
    write_atomic(path, buf.getvalue())


def write_report(run_dirs: Sequence[str | Path], out_dir: str | Path,
                 names: Sequence[str] | None = None) -> dict[str, Any]:
    """Write report.md, report.csv, report.json and report.png under ``out_dir``."""
    summary = summarize(run_dirs, names)
    write_atomic(report_path(out_dir, "md"), to_markdown(summary))
    write_atomic(report_path(out_dir, "csv"), to_csv(summary))
    write_atomic(report_path(out_dir, "json"), json.dumps(summary, indent=2))
    plot(summary, report_path(out_dir, "png"))
    return summary
