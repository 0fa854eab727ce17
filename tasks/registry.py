"""Benchmarks by name: ``make_benchmark("toolqa", "tiny")``."""

from __future__ import annotations

from tasks.task import Benchmark

BENCHMARKS = ("toolqa", "officebench", "sample")


def benchmark_class(name: str) -> type[Benchmark]:
    if name == "toolqa":
        from tasks.toolqa.benchmark import ToolQABenchmark

        return ToolQABenchmark
    if name == "officebench":
        from tasks.officebench.benchmark import OfficeBenchmark

        return OfficeBenchmark
    if name == "sample":
        from tasks.sample import SampleBenchmark

        return SampleBenchmark
    raise ValueError(f"unknown benchmark {name!r}; choose from {', '.join(BENCHMARKS)}")


def evaluation_splits() -> frozenset[str]:
    """Every split that some benchmark declares evaluation-only (role ``test``)."""
    return frozenset(split for name in BENCHMARKS
                     for split, role in benchmark_class(name).split_roles.items() if role == "test")


def make_benchmark(name: str, data: str | None = None, groups: list[str] | None = None) -> Benchmark:
    """``data``: for ToolQA a corpus root, or ``tiny``/``standard`` for ToolQA-mini (built on first
    use); for OfficeBench the grading errata, ``corrected`` (default) or ``original``."""
    cls = benchmark_class(name)
    if name == "toolqa":
        return cls.from_data(data, groups)  # type: ignore[attr-defined]
    if name == "officebench":
        return cls(errata=data or "corrected")  # type: ignore[call-arg]
    return cls()
