"""ToolQA hints as data: ``common.yaml`` plus one ``<group>.yaml`` per group, in this folder.

A file holds ``sections: [{name, text, templates?}]``. ``templates`` restricts a section to some
templates (names of the file's group, or ``group/name`` ids in ``common.yaml``). Hint sets:

* ``none``: no hints.
* ``task`` (task-specific, the paper's teacher): common sections, then the task group's sections
  that apply to its template.
* ``combined`` (the paper's prompting baseline): common sections, then every group's sections
  (a text that two sections share, for seen and held-out templates, once).
* ``combined-seen`` (the held-out-template experiment's baseline): ``combined`` without the
  sections written for held-out templates (``<name>-heldout``, restricted to templates marked
  ``unseen``). No section serves both seen and held-out templates, so the teacher of seen
  templates never reads a rule meant for a held-out one.

Group sections are named ``<group>/<name>`` so that names stay unique in a combined prompt.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from core.errors import DataError
from core.messages import HintSection, HintSet
from tasks.toolqa.questions import GROUPS, check_group, find_template

HINTS_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Hint:
    name: str  # unique within a prompt: "response-format" or "coffee/filtering"
    text: str
    templates: frozenset[str] | None  # template ids this hint is restricted to, None = all

    def applies(self, template_id: str) -> bool:
        return self.templates is None or template_id in self.templates

    @property
    def heldout(self) -> bool:
        """Written for held-out templates only (all of its templates are marked unseen)."""
        return self.templates is not None and all(is_heldout(t) for t in self.templates)


def is_heldout(template_id: str) -> bool:
    group, name = template_id.split("/", 1)
    return find_template(group, name).unseen


def read_hint_file(path: Path, group: str | None) -> list[Hint]:
    """Validated hints of one file; ``group`` is None for ``common.yaml``."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise DataError(f"invalid YAML: {e}", path=str(path)) from None
    sections = data.get("sections") if isinstance(data, dict) else None
    if not isinstance(sections, list):
        raise DataError("expected a mapping with a 'sections' list", path=str(path), field="sections")
    hints, seen = [], set()
    for i, entry in enumerate(sections):
        where = f"sections[{i}]"
        if not isinstance(entry, dict):
            raise DataError(f"{where}: expected a mapping", path=str(path))
        for key in ("name", "text"):
            if not isinstance(entry.get(key), str) or not entry[key].strip():
                raise DataError(f"{where}: missing or empty", path=str(path), field=key)
        unknown = set(entry) - {"name", "text", "templates"}
        if unknown:
            raise DataError(f"{where}: unknown keys {sorted(unknown)}", path=str(path))
        name = entry["name"] if group is None else f"{group}/{entry['name']}"
        if name in seen:
            raise DataError(f"{where}: duplicate hint name {name!r}", path=str(path), field="name")
        seen.add(name)
        hints.append(Hint(name, entry["text"].strip(), _templates(entry.get("templates"), group, path, where)))
    return hints


def _templates(value: object, group: str | None, path: Path, where: str) -> frozenset[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise DataError(f"{where}: expected a list of template names", path=str(path), field="templates")
    ids = set()
    for v in value:
        owner, _, name = v.rpartition("/") if "/" in v else (group or "", "", v)
        if not owner:
            raise DataError(f"{where}: template {v!r} must be written group/name here", path=str(path),
                            field="templates")
        try:
            ids.add(find_template(check_group(owner), name).id)
        except DataError as e:
            raise DataError(f"{where}: {e}", path=str(path), field="templates") from None
    return frozenset(ids)


@cache
def common_hints() -> tuple[Hint, ...]:
    return tuple(read_hint_file(HINTS_DIR / "common.yaml", None))


@cache
def group_hints(group: str) -> tuple[Hint, ...]:
    path = HINTS_DIR / f"{check_group(group)}.yaml"
    return tuple(read_hint_file(path, group)) if path.exists() else ()


def hint_set(mode: str, group: str, template_id: str) -> HintSet:
    """The hint sections of a ``group`` task of template ``template_id`` under ``mode``."""
    if mode == "none":
        return HintSet(name="none")
    if mode == "task":
        chosen = [h for h in common_hints() + group_hints(group) if h.applies(template_id)]
        return HintSet(name=f"toolqa/{group}", sections=[HintSection(name=h.name, text=h.text) for h in chosen])
    if mode in ("combined", "combined-seen"):
        chosen, texts = [], set()
        for h in list(common_hints()) + [h for g in GROUPS for h in group_hints(g)]:
            if (mode == "combined" or not h.heldout) and h.text not in texts:  # a shared rule once
                chosen.append(h)
                texts.add(h.text)
        return HintSet(name=f"toolqa/{mode}", sections=[HintSection(name=h.name, text=h.text) for h in chosen])
    raise DataError(f"unknown hints mode {mode!r}; expected none, task, combined or combined-seen")
