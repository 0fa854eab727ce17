"""ToolQA yelp, dblp and agenda: generators, format fidelity, templates and expert solutions."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import pickle
import random
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tasks.toolqa.build import sample_questions, template_sizes
from tasks.toolqa.corpus import Corpus
from tasks.toolqa.graders import grade
from tasks.toolqa.groups import agenda, dblp, yelp
from tasks.toolqa.hints import read_hint_file
from tasks.toolqa.questions import RANDOM_SPLITS, SPLITS, load_questions
from tasks.toolqa.template import Template
from tasks.toolqa.tools import ToolQAData, make_tools

MODULES = {"yelp": yelp, "dblp": dblp, "agenda": agenda}
HINTS_DIR = Path(__file__).resolve().parents[1] / "tasks" / "toolqa" / "hints"


def _generate(root: Path, profile: str, seed: int = 0) -> None:
    for group, module in MODULES.items():
        module.generate(root, profile, random.Random(f"{seed}-{group}"))


def _digests(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> ToolQAData:
    """The tiny corpus of the three groups with one agenda index for the whole module."""
    root = tmp_path_factory.mktemp("graph-tiny")
    _generate(root, "tiny")
    return ToolQAData(Corpus(root))


# -- generators ---------------------------------------------------------------------------------
def test_generators_are_deterministic_and_small(tmp_path: Path) -> None:
    _generate(tmp_path / "a", "tiny")
    code = ("import random, sys; from pathlib import Path; from tasks.toolqa.groups import agenda, dblp, yelp\n"
            "for g, m in [('yelp', yelp), ('dblp', dblp), ('agenda', agenda)]:\n"
            "    m.generate(Path(sys.argv[1]), 'tiny', random.Random(f'0-{g}'))")
    env = {**os.environ, "PYTHONHASHSEED": "123"}  # another process, another string-hash seed
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "b")], check=True, env=env)
    _generate(tmp_path / "c", "tiny", seed=1)
    a, b, c = (_digests(tmp_path / x) for x in "abc")
    assert a == b
    assert a.keys() == c.keys() and all(a[k] != c[k] for k in a)
    assert sum(p.stat().st_size for p in (tmp_path / "a").rglob("*") if p.is_file()) < 1_000_000


def test_yelp_format(tiny: ToolQAData) -> None:
    path = tiny.corpus.path(yelp.FILE)
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert all(list(r) == ["business_id", "name", "address", "city", "state", "postal_code", "latitude",
                           "longitude", "stars", "review_count", "is_open", "attributes", "categories", "hours"]
               for r in rows)
    codes = [r["postal_code"] for r in rows]
    assert any(c.startswith("0") for c in codes) and any(re.fullmatch(r"[A-Z]\d[A-Z] \d[A-Z]\d", c) for c in codes)
    spans = [s for r in rows if r["hours"] for s in r["hours"].values()]
    assert all(re.fullmatch(r"([1-9]?\d):(0|30)-([1-9]?\d):(0|30)", s) for s in spans)
    assert "0:0-0:0" in spans
    assert any(r["attributes"] is None for r in rows) and any(r["hours"] is None for r in rows)
    assert any(v.startswith("{'") or v.startswith("u'") for r in rows if r["attributes"] for v in r["attributes"].values())
    cats = {c for r in rows if r["categories"] for c in r["categories"].split(", ")}
    assert {"Bars", "Wine Bars"} <= cats
    assert {r["stars"] for r in rows} <= {x / 2 for x in range(2, 11)}
    table = tiny.corpus.table("yelp")
    assert table["stars"].str.fullmatch(r"\d\.\d").all() and "None" in set(table["attributes"])
    chains = table.groupby("name")["city"].nunique()
    assert (chains > 2).sum() >= 3


def test_dblp_format(tiny: ToolQAData) -> None:
    paper_net, author_net, title2id, author2id, id2author, id2title = tiny.corpus.dblp()
    assert id2title == {i: t for t, i in title2id.items()} and id2author == {i: n for n, i in author2id.items()}
    assert any(not attrs for _, attrs in paper_net.nodes(data=True))  # bare references
    assert any(a["id"] == "" for t in title2id for a in paper_net.nodes[title2id[t]]["authors"])
    assert set(author_net) - set(id2author)  # homonyms: an earlier id of a name is dropped
    papers = {i: paper_net.nodes[i] for i in id2title}
    for _, _, edge in author_net.edges(data=True):
        shared = list(dict.fromkeys(edge["papers"]))
        assert edge["papers"] == [shared[0]] + [p for p in shared[1:] for _ in range(2)]
        assert edge["weight"] == 2 * len(shared) - 1 == len(edge["n_citation"])
        citations = [papers[p]["n_citation"] for p in shared]
        assert citations == sorted(citations)  # built in ascending n_citation order
    assert max(e["weight"] for _, _, e in author_net.edges(data=True)) >= 3
    node = papers[next(iter(id2title))]
    assert set(node) == {"title", "authors", "year", "venue", "n_citation", "keywords", "doc_type", "page_start",
                         "page_end"}
    blob = tiny.corpus.path("dblp/author_net.pkl").read_bytes()
    assert pickle.loads(blob).number_of_edges() == author_net.number_of_edges()


def test_agenda_format(tiny: ToolQAData) -> None:
    events, documents = tiny.corpus.agenda_events(), tiny.corpus.agenda_documents()
    assert len(documents) < len(events) == 500
    assert [e["id"] for e in events] == [f"agenda-{i:04d}" for i in range(len(events))]
    for e in events:
        assert e["date"].startswith("2022/")
        assert all(re.fullmatch(r"\d{1,2}:(00|30) [AP]M", e[k]) for k in ("start_time", "end_time"))
    pattern = re.compile(agenda.EVENT_RE)
    parsed = sorted(tuple(sorted(m.groupdict().items())) for d in documents for m in pattern.finditer(d))
    truth = sorted(tuple(sorted({"date": agenda.date_in_words(e["date"]), "person": e["person"], "event": e["event"],
                                 "location": e["location"], "start": e["start_time"], "end": e["end_time"]}.items()))
                   for e in events)
    assert parsed == truth
    assert agenda.date_in_words("2022/02/07") == "February 7, 2022"
    assert agenda.free_slots([(600, 660), (780, 900)]) == "9:00 AM-10:00 AM, 11:00 AM-1:00 PM, 3:00 PM-6:00 PM"
    assert agenda.free_slots([(420, 1200)]) == ""


# -- templates against the real question files --------------------------------------------------
@pytest.mark.parametrize("group", list(MODULES))
def test_templates_cover_real_questions(group: str) -> None:
    templates = MODULES[group].TEMPLATES
    assert len({t.name for t in templates}) == len(templates) == {"yelp": 20, "dblp": 15, "agenda": 7}[group]
    seen_types = set()
    for split in SPLITS:
        for q in load_questions(split, groups=[group]):  # raises unless exactly one template matches
            seen_types.add(q.type)
            template = next(t for t in templates if t.name == q.template)
            assert template.unseen == (q.type in _unseen_types(group)), q.where
            if template.name not in ("what", "who"):  # real free-form / spacing variants
                assert template.question(q.slots) == q.question.strip(), q.where
    assert seen_types == {t.type for t in templates}


def _unseen_types(group: str) -> set[str]:
    return {q.type for q in load_questions("test-unseen-questions", groups=[group], match=False)}


@pytest.mark.parametrize("group", list(MODULES))
def test_hint_files(group: str) -> None:
    hints = read_hint_file(HINTS_DIR / f"{group}.yaml", group)
    assert len(hints) >= 5 and all(h.text for h in hints)


# -- answers and expert solutions ----------------------------------------------------------------
def run_expert(template: Template, slots: dict[str, str], tools: dict[str, Any]) -> tuple[str | None, str]:
    """Execute the expert's steps in one namespace, as the workspace would; returns (answer, output)."""
    finished: list[str] = []
    namespace: dict[str, Any] = {**tools, "complete_task": lambda report, value: finished.append(value)}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for step in template.solution(slots):
            assert step.monologue and not finished
            exec(step.code, namespace)
    steps = template.solution(slots)
    assert 1 <= len(steps) <= 4 and "complete_task(" in steps[-1].code
    return (finished[0] if finished else None), out.getvalue()


def check_template(template: Template, data: ToolQAData, profile: str, seed: int) -> None:
    """Sample the build's questions of ``template``; the expert, run on the slots parsed back from
    each question (as the benchmark does), must return exactly the gold answer."""
    n = sum(template_sizes(template, profile)[s] for s in RANDOM_SPLITS)
    tools = make_tools(data, template.group)
    for slots, question, gold in sample_questions(template, data.corpus, n, random.Random(f"{seed}-{template.id}")):
        parsed = template.parse(question)
        assert parsed == slots
        assert gold.strip() and gold != "nan"
        answer, output = run_expert(template, parsed, tools)
        assert answer == gold, (question, output[-2000:])
        assert grade(template.group, template.type, answer, gold) == 1.0


@pytest.mark.parametrize("template", [t for m in MODULES.values() for t in m.TEMPLATES], ids=lambda t: t.id)
def test_expert_solves_tiny(template: Template, tiny: ToolQAData) -> None:
    check_template(template, tiny, "tiny", seed=0)


@pytest.mark.slow
@pytest.mark.timeout(3600)  # standard agenda: embedding ~9.7k documents on CPU (cached on disk afterwards)
@pytest.mark.parametrize("group", list(MODULES))
def test_expert_solves_standard(group: str, tmp_path: Path) -> None:
    MODULES[group].generate(tmp_path, "standard", random.Random(f"0-{group}"))
    data = ToolQAData(Corpus(tmp_path))
    for template in MODULES[group].TEMPLATES:
        check_template(template, data, "standard", seed=1)
