"""`mnm view` at scale: file size, build time and load time in headless Chromium for a large run.

A real run of the scripted expert on ToolQA-mini (tiny) is collected once; its trajectories are
repeated, each copy under a new task id, into runs of ``--small`` and ``--large`` episodes. For each,
the page is built (``filters.view``) and opened in the distribution's Chromium: the time to the
page being ready, to filter the episodes by group, and to open one episode. The small run is the
baseline measured in the same process; the last line is the headline ratio.

    python benchmarking/perf/view_scale.py                    # 100 vs 10,000 episodes
    python benchmarking/perf/view_scale.py --large 2000
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarking.browser import chromium, wait_for
from core.rundir import TRAJECTORIES, trajectories
from core.trajectory import Trajectory
from filters.view import view

ROOT = Path(__file__).resolve().parents[2]


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", type=int, default=100, help="episodes of the baseline run")
    parser.add_argument("--large", type=int, default=10_000, help="episodes of the large run")
    return parser


def expert_run(root: Path) -> list[Trajectory]:
    out = subprocess.run([sys.executable, "-m", "mnm_cli", "collect", "teacher-train", "--set", "tasks.data=tiny",
                          "--set", "trials=1", "--set", f"run_dir={root / 'expert'}", "--quiet"],
                         cwd=ROOT, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    if out.returncode:
        raise SystemExit(out.stderr[-2000:])
    return list(trajectories(root / "expert"))


def repeated_run(path: Path, seed: list[Trajectory], n: int) -> Path:
    with open(path / TRAJECTORIES, "w") as f:
        for i in range(n):
            t = seed[i % len(seed)]
            f.write(t.model_copy(update={"task_id": f"{t.task_id}~{i // len(seed)}"}).model_dump_json() + "\n")
    return path


def measure(browser, run: Path) -> dict[str, float]:
    start = time.perf_counter()
    page = view([run], run / "view.html")
    built = time.perf_counter() - start
    start = time.perf_counter()
    browser.get(page.as_uri())
    wait_for(browser, "return document.body.dataset.ready")
    loaded = time.perf_counter() - start
    browser.find_element("id", "tab-Episodes").click()
    start = time.perf_counter()
    browser.execute_script("const s = document.querySelector('select[name=group]');"
                           "s.value = s.options[s.options.length - 1].value; s.dispatchEvent(new Event('change'));")
    filtered = time.perf_counter() - start
    start = time.perf_counter()
    browser.execute_script("document.querySelector('tr.row').click()")
    wait_for(browser, "return document.querySelector('#episode-detail .outcome')")
    opened = time.perf_counter() - start
    return {"mb": page.stat().st_size / 2**20, "build_s": built, "load_s": loaded, "filter_s": filtered,
            "open_s": opened}


def main(args: argparse.Namespace) -> None:
    browser = chromium()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            seed = expert_run(root)
            print(f"seed run: {len(seed)} expert trajectories on ToolQA-mini tiny")
            results = {}
            for n in (args.small, args.large):
                (root / str(n)).mkdir()
                results[n] = r = measure(browser, repeated_run(root / str(n), seed, n))
                print(f"{n:6d} episodes: {r['mb']:7.1f} MB, build {r['build_s']:6.2f} s, load {r['load_s']:6.2f} s, "
                      f"filter by group {1000 * r['filter_s']:6.0f} ms, open an episode {1000 * r['open_s']:5.0f} ms")
    finally:
        browser.quit()
    small, large = results[args.small], results[args.large]
    print(f"{args.large} vs {args.small} episodes ({args.large / args.small:.0f}x): file {large['mb'] / small['mb']:.0f}x, "
          f"load {large['load_s'] / small['load_s']:.1f}x, open an episode {large['open_s'] / small['open_s']:.1f}x")


if __name__ == "__main__":
    main(make_parser().parse_args())
