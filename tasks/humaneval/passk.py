"""pass@k: the unbiased estimator of Chen et al. (2021), per problem and over a run.

For a problem with ``n`` samples of which ``c`` pass, pass@k = 1 - C(n-c, k) / C(n, k): the chance
that at least one of ``k`` samples drawn without replacement passes. (The reference computed
1 - (1 - c/n)^k, which is biased for k > 1.) A run's trials are the samples.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from core.rundir import load_run


def pass_at_k(n: int, c: int, k: int) -> float:
    """The unbiased pass@k of one problem with ``c`` passing samples out of ``n``."""
    if not 0 <= c <= n or not 1 <= k <= n:
        raise ValueError(f"pass@k needs 0 <= c <= n and 1 <= k <= n, got n={n}, c={c}, k={k}")
    if n - c < k:
        return 1.0
    return 1.0 - math.prod(1.0 - k / i for i in range(n - c + 1, n + 1))


def run_pass_at_k(run_dir: str | Path, ks: Sequence[int] = (1,)) -> dict[int, dict[str, float]]:
    """pass@k of a run (its trials are the samples) for each ``k`` up to the smallest sample count:
    ``{k: {"mean", "se" (across problems), "problems"}}``."""
    samples: dict[str, list[bool]] = defaultdict(list)
    for t in load_run(run_dir):
        samples[t.task_id].append(t.outcome.success)
    if not samples:
        raise ValueError(f"{run_dir}: no episodes")
    n_min = min(len(v) for v in samples.values())
    out = {}
    for k in ks:
        if k > n_min:
            raise ValueError(f"{run_dir}: pass@{k} needs at least {k} trials of every problem (fewest: {n_min})")
        values = [pass_at_k(len(v), sum(v), k) for v in samples.values()]
        se = statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else 0.0
        out[k] = {"mean": statistics.fmean(values), "se": se, "problems": len(values)}
    return out
