"""HumanEval test execution: problems/s checking the canonical solutions in sandboxed workspaces,
``--concurrency`` at once, against one at a time (the same checks, measured in the same run).

    python benchmarking/perf/humaneval_checks.py
    python benchmarking/perf/humaneval_checks.py --samples 5 --concurrency 16

Every check forks a fresh workspace and runs prompt + solution + tests as one cell. The last line
is the headline ratio.
"""

from __future__ import annotations

import argparse
import time

from tasks.humaneval.data import load_problems
from tasks.humaneval.execution import check_all


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=1, help="solutions checked per problem (n of pass@k)")
    parser.add_argument("--concurrency", type=int, default=8, help="workspaces running tests at once")
    parser.add_argument("--problems", type=int, default=164, help="the first N problems")
    return parser


def rate(pairs: list, concurrency: int) -> float:
    """Checks per second; every check must pass (the canonical solutions)."""
    start = time.perf_counter()
    results = check_all(pairs, concurrency=concurrency)
    seconds = time.perf_counter() - start
    failed = [r.reason for r in results if not r.passed]
    if failed:
        raise SystemExit(f"{len(failed)} canonical solutions failed, e.g. {failed[0]}")
    return len(pairs) / seconds


def main(args: argparse.Namespace) -> None:
    pairs = [(p, p.reference) for p in load_problems()[:args.problems] for _ in range(args.samples)]
    check_all(pairs[:1])  # warm the page cache and imports
    serial = rate(pairs, 1)
    parallel = rate(pairs, args.concurrency)
    print(f"{len(pairs)} checks ({args.problems} problems x {args.samples} samples)")
    print(f"one at a time:      {serial:6.1f} problems/s")
    print(f"{args.concurrency:2d} workspaces:      {parallel:6.1f} problems/s")
    print(f"parallel / serial: {parallel / serial:.2f}x")


if __name__ == "__main__":
    main(make_parser().parse_args())
