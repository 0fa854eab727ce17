"""Benchmarks by name: ``make_benchmark("toolqa", "tiny")``."""

from __future__ import annotations

from tasks.task import Benchmark

BENCHMARKS = ("toolqa", "officebench", "sample")


def make_benchmark(name: str, data: str | None = None, groups: list[str] | None = None) -> Benchmark:
    """``data``: for ToolQA a corpus root, or ``tiny``/``standard`` for ToolQA-mini (built on first
    use); for OfficeBench the grading errata, ``corrected`` (default) or ``original``."""
    if name == "toolqa":
        from tasks.toolqa.benchmark import ToolQABenchmark

        return ToolQABenchmark.from_data(data, groups)
    if name == "officebench":
        from tasks.officebench.benchmark import OfficeBenchmark

        return OfficeBenchmark(errata=data or "corrected")  # type: ignore[arg-type]
    if name == "sample":
        from tasks.sample import SampleBenchmark

        return SampleBenchmark()
    raise ValueError(f"unknown benchmark {name!r}; choose from {', '.join(BENCHMARKS)}")
