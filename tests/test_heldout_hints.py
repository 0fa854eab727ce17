"""The held-out-template experiment (options V-VII) is sealed: no prompt carries a hint section
written for a held-out template, and no section serves seen and held-out templates at once."""

import pytest

from tasks.prompts import preset_hint_sections
from tasks.toolqa.hints import common_hints, group_hints, is_heldout
from tasks.toolqa.questions import GROUPS

HINTS = {h.name: h for h in common_hints() + tuple(h for g in GROUPS for h in group_hints(g))}


def heldout_templates(section: str) -> set[str]:
    templates = HINTS[section].templates or frozenset()
    return {t for t in templates if is_heldout(t)}


@pytest.mark.parametrize("preset", ["heldout-teacher", "heldout-nohints", "heldout-combined"])
def test_no_section_of_options_v_to_vii_is_written_for_a_heldout_template(preset):
    prompts = preset_hint_sections(preset)
    assert prompts, preset
    visible = sorted({s for sections in prompts for s in sections})
    leaks = {s: sorted(heldout_templates(s)) for s in visible if heldout_templates(s)}
    assert not leaks, f"{preset} shows sections written for held-out templates: {leaks}"


def test_option_v_covers_seen_templates_only_and_vii_evaluates_heldout_ones():
    seen = {t for templates in preset_hint_sections("heldout-teacher").values() for t in templates}
    unseen = {t for templates in preset_hint_sections("heldout-combined").values() for t in templates}
    assert seen and unseen and not any(map(is_heldout, seen)) and all(map(is_heldout, unseen))


def test_no_section_mixes_seen_and_heldout_templates():
    mixed = [n for n, h in HINTS.items() if h.templates and heldout_templates(n)
             and heldout_templates(n) != set(h.templates)]
    assert not mixed


def test_the_full_combined_baseline_has_every_hint_text_once():
    (sections,) = preset_hint_sections("combined-test")
    texts = [HINTS[s].text for s in sections]
    assert len(texts) == len(set(texts)) and set(texts) == {h.text for h in HINTS.values()}
