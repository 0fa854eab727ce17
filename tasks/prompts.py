"""What the prompts of a preset contain: its tasks' hint sections, grouped into distinct prompts."""

from __future__ import annotations

from collections import defaultdict

from tasks.registry import make_benchmark
from tasks.runner import load_collect_config, select_tasks


def preset_hint_sections(preset: str, data: str | None = None) -> dict[tuple[str, ...], list[str]]:
    """Each distinct list of hint sections among the preset's tasks, with the templates whose
    prompts carry it. ``data`` replaces the preset's benchmark data (e.g. ``tiny``)."""
    overrides = ["run_dir=."] + ([f"tasks.data={data}"] if data else [])
    config = load_collect_config(preset, overrides=overrides)
    benchmark = make_benchmark(config.tasks.benchmark, config.tasks.data, config.tasks.groups)
    prompts: dict[tuple[str, ...], set[str]] = defaultdict(set)
    for task in select_tasks(benchmark, config.tasks):
        prompts[tuple(s.name for s in benchmark.hints(task, config.prompt).sections)].add(task.template)
    return {sections: sorted(templates) for sections, templates in prompts.items()}
