"""What the prompts of a preset contain: its tasks' hint sections, grouped into distinct prompts."""

from __future__ import annotations

from collections import defaultdict

from tasks.collection.config import load_collect_config, select_tasks
from tasks.registry import make_benchmark


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


def describe_sections(preset: str, data: str | None = None) -> str:
    """The preset's hint sections as text: per group, the sections of every prompt, then per
    template the sections only some prompts have."""
    prompts = preset_hint_sections(preset, data)
    if len(prompts) == 1:
        (sections,) = prompts
        return "  every prompt: " + (", ".join(sections) or "(no hint sections)")
    by_group: dict[str, list[tuple[str, tuple[str, ...]]]] = defaultdict(list)
    for sections, templates in prompts.items():
        for t in templates:
            by_group[t.split("/")[0]].append((t, sections))
    lines = []
    for group, items in by_group.items():
        shared = set.intersection(*(set(s) for _, s in items))
        lines.append(f"  {group}: every prompt: " + ", ".join(s for s in items[0][1] if s in shared))
        lines += [f"    {t.split('/', 1)[-1]}: + " + ", ".join(s for s in sections if s not in shared)
                  for t, sections in sorted(items) if set(sections) - shared]
    return "\n".join(lines)
