"""ToolQA table groups (flights, coffee, airbnb): generators, string forms, templates, expert solutions."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import random
import re
from pathlib import Path

import pandas as pd
import pytest

from tasks.toolqa.corpus import Corpus
from tasks.toolqa.graders import grade
from tasks.toolqa.groups import airbnb, coffee, flights, flights_corpus
from tasks.toolqa.questions import SPLITS, load_questions
from tasks.toolqa.template import Template
from tasks.toolqa.tools import make_tools

MODULES = {"flights": flights, "coffee": coffee, "airbnb": airbnb}
TEMPLATE_COUNTS = {"flights": 20, "coffee": 21, "airbnb": 17}


def build(root: Path, profile: str, seed: int = 0) -> Corpus:
    for group, module in MODULES.items():
        module.generate(root, profile, random.Random(f"{seed}-{group}"))
    return Corpus(root)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    return build(tmp_path_factory.mktemp("tables-tiny"), "tiny")


def digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*.csv"))}


def run_expert(template: Template, corpus: Corpus, slots: dict[str, str]) -> object:
    """Execute the expert steps with the in-process tools; return what complete_task received."""
    done: dict[str, object] = {}

    def complete_task(final_report: str, return_value: str) -> None:
        done["answer"] = return_value

    namespace = {**make_tools(corpus, template.group), "complete_task": complete_task}
    with contextlib.redirect_stdout(io.StringIO()):
        for step in template.solution(slots):
            exec(step.code, namespace)  # noqa: S102 - the expert's cell, as the workspace would run it
            if "answer" in done:
                break
    return done.get("answer")


def check_templates(corpus: Corpus, per_template: int) -> list[str]:
    """Sample questions for every template; their expert solutions must return exactly the gold."""
    problems = []
    for group, module in MODULES.items():
        for template in module.TEMPLATES:
            rng = random.Random(template.id)
            for _ in range(per_template):
                slots = template.sample_slots(corpus, rng)
                if slots is None:
                    problems.append(f"{template.id}: no slots")
                    continue
                question = template.question(slots)
                gold = template.answer(corpus, slots)
                got = run_expert(template, corpus, slots)
                if template.parse(question) != slots:
                    problems.append(f"{template.id}: {question!r} does not parse back to {slots}")
                if got != gold or grade(group, template.type, got, gold) != 1.0:
                    problems.append(f"{template.id}: {question!r} gold {gold!r}, expert {got!r}")
    return problems


# -- generators -------------------------------------------------------------------------------

def test_generators_are_deterministic(tmp_path: Path) -> None:
    build(tmp_path / "a", "tiny", seed=3)
    build(tmp_path / "b", "tiny", seed=3)
    build(tmp_path / "c", "tiny", seed=4)
    a, b, c = (digest(tmp_path / x) for x in "abc")
    assert a == b
    assert len(a) == 3 and all(a[k] != c[k] for k in a)


def test_tiny_files_are_small(tiny: Corpus) -> None:
    sizes = {p.name: p.stat().st_size for p in tiny.base.rglob("*.csv")}
    assert set(sizes) == {"Combined_Flights_2022.csv", "coffee_price.csv", "Airbnb_Open_Data.csv"}
    assert sum(sizes.values()) < 1_000_000


def test_flights_string_forms(tiny: Corpus) -> None:
    t = tiny.table("flights")
    assert list(t.columns) == flights_corpus.COLUMNS and len(flights_corpus.COLUMNS) == 61
    assert sorted(set(t["FlightDate"])) == [f"2022-01-0{d}" for d in range(3, 10)]
    assert set(t["Cancelled"]) == {"True", "False"} and "True" in set(t["Diverted"])
    for column in ("DepTime", "ArrTime", "WheelsOn", "AirTime", "Distance", "DepDelayMinutes"):
        assert t[column].str.fullmatch(r"-?\d+\.0|nan").all(), column
    assert t["Distance"].str.fullmatch(r"\d+\.0").all()
    for column in ("CRSDepTime", "CRSArrTime", "Flight_Number_Marketing_Airline", "DayOfWeek", "OriginAirportID"):
        assert t[column].str.fullmatch(r"\d+").all(), column
    for column in ("DepTime", "ArrTime", "CRSDepTime", "CRSArrTime", "WheelsOff", "WheelsOn"):
        times = [int(float(v)) for v in t[column] if v != "nan"]
        assert all(0 <= v < 2400 and v % 100 < 60 for v in times), column
    cancelled = t[t["Cancelled"] == "True"]
    assert len(cancelled) and (cancelled[["DepTime", "ArrTime", "AirTime", "TaxiIn"]] == "nan").all().all()
    diverted = t[t["Diverted"] == "True"]
    assert (diverted["DepTime"] != "nan").all() and (diverted["ArrTime"] == "nan").all()


def test_flights_derived_columns_agree(tiny: Corpus) -> None:
    t = tiny.table("flights")
    flown = t[t["AirTime"] != "nan"]
    num = flown[["DepDelay", "DepDelayMinutes", "ArrDelay", "ArrDelayMinutes", "TaxiOut", "AirTime", "TaxiIn",
                 "ActualElapsedTime", "Distance", "DistanceGroup"]].astype(float)
    assert (num["DepDelayMinutes"] == num["DepDelay"].clip(lower=0)).all()
    assert (num["ArrDelayMinutes"] == num["ArrDelay"].clip(lower=0)).all()
    assert (num["ActualElapsedTime"] == num["TaxiOut"] + num["AirTime"] + num["TaxiIn"]).all()
    assert (num["DistanceGroup"] == (num["Distance"] // 250 + 1).clip(upper=11)).all()
    for side in ("Origin", "Dest"):  # one airport code, one set of ids and place names
        facts = t.groupby(side)[[f"{side}AirportID", f"{side}CityName", f"{side}State", f"{side}Wac"]].nunique()
        assert (facts == 1).all().all()
    assert (t["Operated_or_Branded_Code_Share_Partners"] != t["Marketing_Airline_Network"]).any()  # regionals


def test_coffee_string_forms(tiny: Corpus) -> None:
    t = tiny.table("coffee")
    assert list(t.columns) == ["Date", "Open", "High", "Low", "Close", "Volume", "Currency"]
    assert len(t) == 300 and list(t["Date"]) == sorted(t["Date"]) and set(t["Currency"]) == {"USD"}
    assert all(pd.Timestamp(d).weekday() < 5 for d in t["Date"])
    prices = t[["Open", "High", "Low", "Close"]]
    assert prices.apply(lambda c: c.str.fullmatch(r"\d+\.\d{1,2}")).all().all()
    assert all(abs(float(v) * 20 - round(float(v) * 20)) < 1e-6 for v in prices.to_numpy().ravel())
    num = prices.astype(float)
    assert (num["High"] >= num[["Open", "Close"]].max(axis=1)).all()
    assert (num["Low"] <= num[["Open", "Close"]].min(axis=1)).all()
    assert t["Volume"].str.fullmatch(r"\d+").all()


def test_airbnb_string_forms(tiny: Corpus) -> None:
    t = tiny.table("airbnb")
    assert list(t.columns) == airbnb.COLUMNS and len(airbnb.COLUMNS) == 26
    assert t["price"].str.fullmatch(r"\$\d{1,3}(,\d{3})? ").all() and (t["price"].str.contains(",")).any()
    for column in ("Construction year", "minimum nights", "number of reviews", "review rate number",
                   "availability 365", "reviews per month"):
        assert t[column].str.fullmatch(r"\d+\.\d+|nan").all(), column
    assert t["last review"].str.fullmatch(r"\d{1,2}/\d{1,2}/20\d\d|nan").all()
    unreviewed = t[t["number of reviews"] == "0.0"]
    assert len(unreviewed) and (unreviewed[["last review", "reviews per month"]] == "nan").all().all()
    assert set(t["room type"]) <= {"Entire home/apt", "Private room", "Shared room", "Hotel room"}
    assert "Shared room" in set(t["room type"])
    assert set(t["cancellation_policy"]) == {"flexible", "moderate", "strict"}
    assert t["NAME"].str.contains("\n").any() and t["NAME"].str.contains("✨|★").any()
    assert t.duplicated(["NAME", "neighbourhood"]).any()
    assert t["id"].is_unique


# -- templates --------------------------------------------------------------------------------

def test_template_inventory() -> None:
    for group, module in MODULES.items():
        templates = module.TEMPLATES
        assert len(templates) == TEMPLATE_COUNTS[group]
        assert len({t.name for t in templates}) == len({t.type for t in templates}) == len(templates)
        unseen = {q.type for q in load_questions("test-unseen-questions", groups=[group], match=False)}
        assert {t.type for t in templates if t.unseen} == unseen
        assert all(t.format_tip.startswith("Format tip: ") for t in templates)


@pytest.mark.parametrize("group", MODULES)
def test_templates_parse_every_real_question(group: str) -> None:
    """Every real question matches exactly one template (load_questions raises otherwise) of its type,
    and the template's wording gives the question back from its slots."""
    typo = re.compile(r"\?\?$")  # one real question ends with '??'
    n = 0
    for split in SPLITS:
        for q in load_questions(split, groups=[group]):
            template = next(t for t in MODULES[group].TEMPLATES if t.name == q.template)
            assert template.question(q.slots) == typo.sub("?", q.question.strip()), q.where
            n += 1
    assert n == {"flights": 400, "coffee": 460, "airbnb": 336}[group]


def _form(answer: str) -> str:
    """An answer's format: digit runs -> 0, sign and list length dropped ('$0.0', '0:0', '0.0 USD');
    answers with letters other than a USD unit are 'text'."""
    if not re.search(r"\d", answer) or not re.fullmatch(r"[-$\d.:,%/ ]+( USD)?", answer):
        return "text"
    return re.sub(r"0(, 0)+", "0", re.sub(r"\d+", "0", answer.lstrip("-")))


def test_gold_answers_have_the_real_formats(tiny: Corpus) -> None:
    for group, module in MODULES.items():
        real: dict[str, set[str]] = {}
        for split in ("train", "val", "test"):
            for q in load_questions(split, groups=[group]):
                real.setdefault(q.template, set()).add(_form(q.answer))
        for template in module.TEMPLATES:
            rng = random.Random(template.name)
            for _ in range(3):
                gold = template.answer(tiny, template.sample_slots(tiny, rng))
                assert _form(gold) in real[template.name], (template.id, gold, real[template.name])


def test_expert_solutions_reproduce_gold_on_tiny(tiny: Corpus) -> None:
    assert check_templates(tiny, per_template=3) == []


def test_sampler_guards(tiny: Corpus) -> None:
    rng = random.Random(1)
    cancelled = next(t for t in flights.TEMPLATES if t.name == "cancelled-percentage")
    for _ in range(5):
        slots = cancelled.sample_slots(tiny, rng)
        assert cancelled.answer(tiny, slots) != "0.0%"
    host = next(t for t in airbnb.TEMPLATES if t.name == "host-name")
    table = tiny.table("airbnb")
    for _ in range(5):
        slots = host.sample_slots(tiny, rng)
        same = table[(table["NAME"] == slots["name"]) & (table["neighbourhood"] == slots["neighbourhood"])]
        assert len(same) == 1 and "; " not in slots["name"] and "\n" not in slots["name"]
    fastest = next(t for t in flights.TEMPLATES if t.name == "fastest-flight")
    assert fastest.parse("What is the fastest flight from BFL to DEN on Satruary?")["weekday"] == "Satruary"
    assert fastest.conditions({"origin": "BFL", "dest": "DEN", "weekday": "Satruary"})["DayOfWeek"] == "6"


def test_hint_files_load() -> None:
    from tasks.toolqa.hints import group_hints, hint_set

    for group, module in MODULES.items():
        hints = group_hints(group)
        assert len(hints) >= 10
        for template in module.TEMPLATES:
            names = [s.name for s in hint_set("task", group, template.id).sections]
            assert f"{group}/database" in names
            assert len([n for n in names if n.startswith(f"{group}/")]) >= 2, template.id


@pytest.mark.slow
def test_expert_solutions_reproduce_gold_on_standard(tmp_path: Path) -> None:
    corpus = build(tmp_path, "standard")
    assert json.dumps(check_templates(corpus, per_template=10)) == "[]"
