"""ToolQA shared machinery on a hand-written micro corpus: corpus loading and string forms, the
tools (behaviour and documented misuse errors), the all-tools configuration, tool docs, question
files, and bad input."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import networkx as nx
import pytest

from core.errors import DataError
from tasks.toolqa.corpus import Corpus
from tasks.toolqa.hints import common_hints, group_hints, hint_set, read_hint_file
from tasks.toolqa.questions import (
    GROUPS,
    VENDORED_DIR,
    find_template,
    group_templates,
    load_questions,
    read_question_file,
)
from tasks.toolqa.tools import ALL_TOOLS, ToolQAData, bind, make_tools, preload, tool_docs

FLIGHTS = """FlightDate,Airline,Origin,Dest,Cancelled,DepTime,CRSDepTime,Distance,IATA_Code_Marketing_Airline,Flight_Number_Marketing_Airline
2022-01-03,"Commutair Aka Champlain Enterprises, Inc.",ATL,ORD,False,1752.0,1745,606.0,UA,5045
2022-01-03,Delta Air Lines Inc.,ATL,JFK,True,,1200,760.0,DL,10
2022-01-04,Delta Air Lines Inc.,JFK,ATL,False,905.0,900,760.0,DL,11
"""
COFFEE = """Date,Open,High,Low,Close,Volume,Currency
2013-12-26,110.0,112.5,109.8,111.05,9,USD
2013-12-27,111.05,113.0,110.0,112.0,10042,USD
"""
AIRBNB = """id,NAME,host id,neighbourhood,price,Construction year,last review
1001,Cozy nook,5,Clifton,"$1,146 ",2003.0,10/19/2021
1002,Sunny room,6,Clifton,$90 ,,
"""
YELP = [
    {"business_id": "b1", "name": "Cafe Uno", "city": "Tampa", "state": "FL", "postal_code": "08083",
     "stars": 4.5, "review_count": 12, "is_open": 1, "attributes": {"ByAppointmentOnly": "True"},
     "categories": "Cafes, Coffee & Tea", "hours": {"Monday": "7:0-20:30"}},
    {"business_id": "b2", "name": "Bar Dos", "city": "Lutz", "state": "FL", "postal_code": "T5V 1H9",
     "stars": 3.0, "review_count": 5, "is_open": 0, "attributes": None, "categories": None, "hours": None},
]
DOCS = ["On January 29, 2022, there will be an opera performance at the Lyric Opera House, featuring "
        "Stephen. The show will start at 7:00 PM and end at 9:00 PM.",
        "On February 17, 2022, Alice will attend a yoga class at Central Park from 9:00 AM to 10:00 AM."]
EVENTS = [{"event": "opera performance", "start_time": "7:00 PM", "end_time": "9:00 PM",
           "location": "Lyric Opera House", "person": "Stephen", "date": "2022/01/29", "id": "agenda-0000"}]


def _dblp() -> tuple:
    paper_net = nx.DiGraph()
    paper_net.add_node("p1", title="Graph Things", authors=[{"id": "a1", "name": "Ann", "org": "MIT"}],
                       year=2022, venue={"raw": "X"}, n_citation=7, keywords=[], doc_type="Journal",
                       page_start="3", page_end="9")
    paper_net.add_node("p2", title="Older Work", n_citation=1)
    paper_net.add_edge("p1", "p2")
    paper_net.add_edge("p1", "p9")  # an out-of-scope reference without a title
    author_net = nx.Graph()
    author_net.add_node("a1", org="MIT")
    author_net.add_node("a2", org="")
    author_net.add_node("a3", org="ETH")
    author_net.add_edge("a1", "a2", weight=3, papers=["p1", "p2", "p2"], n_citation=[7, 1, 1])
    author_net.add_edge("a1", "a3", weight=1, papers=["p1"], n_citation=[7])
    title2id = {"Graph Things": "p1", "Older Work": "p2"}
    author2id = {"Ann": "a1", "Bob": "a2", "Cyd": "a3"}
    id2author = {"a1": "Ann", "a2": "Bob"}  # a3 was removed as mismatched
    id2title = {v: k for k, v in title2id.items()}
    return paper_net, author_net, title2id, author2id, id2author, id2title


def write_micro_corpus(root: Path) -> Path:
    base = root / "data" / "external_corpus"
    for group in ("flights", "coffee", "airbnb", "yelp", "dblp", "agenda"):
        (base / group).mkdir(parents=True)
    (base / "flights/Combined_Flights_2022.csv").write_text(FLIGHTS)
    (base / "coffee/coffee_price.csv").write_text(COFFEE)
    (base / "airbnb/Airbnb_Open_Data.csv").write_text(AIRBNB)
    (base / "yelp/yelp_academic_dataset_business.json").write_text("".join(json.dumps(r) + "\n" for r in YELP))
    names = ("paper_net", "author_net", "title2id_dict", "author2id_dict", "id2author_dict", "id2title_dict")
    for name, obj in zip(names, _dblp(), strict=True):
        (base / f"dblp/{name}.pkl").write_bytes(pickle.dumps(obj))
    (base / "agenda/agenda_descriptions_merged.jsonl").write_text("".join(json.dumps({"event": d}) + "\n" for d in DOCS))
    (base / "agenda/agenda_events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in EVENTS))
    return root


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    return Corpus(write_micro_corpus(tmp_path_factory.mktemp("toolqa")))


@pytest.fixture
def tables(corpus: Corpus) -> dict:
    return make_tools(corpus, "flights")


# -- corpus -----------------------------------------------------------------------------------

def test_tables_are_strings_in_pandas2_forms(corpus: Corpus) -> None:
    flights = corpus.table("flights")
    assert flights["DepTime"].tolist() == ["1752.0", "nan", "905.0"]
    assert flights["CRSDepTime"].tolist() == ["1745", "1200", "900"]
    assert flights["Cancelled"].tolist() == ["False", "True", "False"]
    assert all(isinstance(v, str) for col in flights for v in flights[col])
    coffee = corpus.table("coffee")
    assert coffee.loc[0, "Open"] == "110.0" and coffee.loc[0, "Close"] == "111.05" and coffee.loc[1, "Volume"] == "10042"
    airbnb = corpus.table("airbnb")
    assert airbnb["price"].tolist() == ["$1,146 ", "$90 "]
    assert airbnb["Construction year"].tolist() == ["2003.0", "nan"]
    assert airbnb["last review"].tolist() == ["10/19/2021", "nan"]
    yelp = corpus.table("yelp")
    assert yelp.loc[0, "postal_code"] == "08083" and yelp.loc[0, "stars"] == "4.5"
    assert yelp.loc[0, "attributes"] == "{'ByAppointmentOnly': 'True'}"
    assert yelp.loc[1, "attributes"] == "None" and yelp.loc[0, "hours"] == "{'Monday': '7:0-20:30'}"


def test_dblp_and_agenda_loading(corpus: Corpus) -> None:
    paper_net, author_net, title2id, author2id, id2author, id2title = corpus.dblp()
    assert title2id["Graph Things"] == "p1" and id2author == {"a1": "Ann", "a2": "Bob"}
    assert corpus.agenda_documents() == DOCS
    assert corpus.agenda_events()[0]["date"] == "2022/01/29"
    assert not corpus.synthetic and corpus.manifest is None


def test_missing_or_partial_corpus_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="root not found"):
        Corpus(tmp_path / "nowhere")
    with pytest.raises(DataError, match="external_corpus"):
        Corpus(tmp_path)
    root = write_micro_corpus(tmp_path / "partial")
    (root / "data/external_corpus/dblp/author_net.pkl").unlink()
    partial = Corpus(root)
    with pytest.raises(DataError, match=r"dblp/author_net\.pkl"):
        partial.dblp()
    with pytest.raises(DataError, match=r"author_net\.pkl"):
        partial.check(["coffee", "dblp"])
    with pytest.raises(DataError, match="not a table group"):
        partial.table("dblp")


def test_bad_jsonl_line_names_file_and_line(tmp_path: Path) -> None:
    root = write_micro_corpus(tmp_path)
    path = root / "data/external_corpus/agenda/agenda_events.jsonl"
    path.write_text(path.read_text() + "{not json\n")
    with pytest.raises(DataError, match=r"agenda_events\.jsonl:2: invalid JSON"):
        Corpus(root).agenda_events()


# -- table tools ------------------------------------------------------------------------------

def test_load_db_prints_columns_and_validates(tables: dict, capsys: pytest.CaptureFixture) -> None:
    df = tables["load_db"]("flights")
    assert "flights database has been successfully loaded" in capsys.readouterr().out
    df["Extra"] = 1  # the agent's changes stay in its copy
    assert "Extra" not in tables["load_db"]("flights").columns
    with pytest.raises(ValueError, match="not a database"):
        tables["load_db"]("trains")


def test_data_filter_semantics(tables: dict, capsys: pytest.CaptureFixture) -> None:
    df = tables["load_db"]("flights")
    one = tables["data_filter"](df, "Airline=Commutair Aka Champlain Enterprises, Inc.; Origin=ATL")
    assert len(one) == 1 and "(1 rows)" in capsys.readouterr().out
    assert len(tables["data_filter"](df, "FlightDate>=2022-01-04")) == 1
    assert len(tables["data_filter"](df, "FlightDate<2022-01-04")) == 2
    # string comparison: '905.0' > '1752.0' alphabetically though 905 < 1752
    assert tables["get_value"](tables["data_filter"](df, "DepTime>1800"), "DepTime") == "nan, 905.0"
    with pytest.raises(ValueError, match="The filtering query Origin=SFO is incorrect"):
        tables["data_filter"](df, "Origin=SFO")
    with pytest.raises(KeyError, match="'Orign' is not a column"):
        tables["data_filter"](df, "Orign=ATL")
    with pytest.raises(KeyError, match="'Origin ' is not a column"):
        tables["data_filter"](df, "Origin = ATL")


def test_get_value_one_and_several_rows(tables: dict) -> None:
    df = tables["load_db"]("flights")
    assert tables["get_value"](tables["data_filter"](df, "Origin=JFK"), "DepTime") == "905.0"
    assert tables["get_value"](df, "Flight_Number_Marketing_Airline") == "5045, 10, 11"
    with pytest.raises(KeyError, match="'Nope' is not a column"):
        tables["get_value"](df, "Nope")


# -- graph tools ------------------------------------------------------------------------------

def test_graph_tools(corpus: Corpus, capsys: pytest.CaptureFixture) -> None:
    t = make_tools(corpus, "dblp")
    g = t["load_graph"]()
    assert "DBLP graph data is loaded" in capsys.readouterr().out
    assert t["check_neighbours"](g, "AuthorNet", "Ann") == ["Bob"]  # Cyd's id is not in id2author
    with pytest.raises(KeyError, match="paper id"):  # p9 (out of scope) has no title
        t["check_neighbours"](g, "PaperNet", "Graph Things")
    node = t["check_nodes"](g, "PaperNet", "Graph Things")
    assert node["number of citations for this paper"] == 7 and "n_citation" not in node
    assert t["check_nodes"](g, "AuthorNet", "Cyd") == {"org": "ETH"}
    edge = t["check_edges"](g, "AuthorNet", "Ann", "Bob")
    assert edge["papers"] == ["Graph Things", "Older Work", "Older Work"]
    assert edge["number of citations for this paper"] == [7, 1, 1] and edge["weight"] == 3
    assert t["check_edges"](g, "PaperNet", "Graph Things", "Older Work") == {}
    assert g[1].edges["a1", "a2"]["papers"] == ["p1", "p2", "p2"]  # the shared graph is untouched
    with pytest.raises(KeyError, match="'Zed' is not a known author name"):
        t["check_neighbours"](g, "AuthorNet", "Zed")
    with pytest.raises(KeyError, match="no edge between 'Bob' and 'Cyd'"):
        t["check_edges"](g, "AuthorNet", "Bob", "Cyd")
    with pytest.raises(ValueError, match="graph_type"):
        t["check_nodes"](g, "CoauthorNet", "Ann")


# -- configurations and docs ------------------------------------------------------------------

def test_relevant_and_all_toolsets(corpus: Corpus) -> None:
    assert set(make_tools(corpus, "agenda")) == {"retrieve_agenda"}
    assert set(make_tools(corpus, "coffee")) == {"load_db", "data_filter", "get_value"}
    tools = make_tools(corpus, "dblp", "all")
    assert tuple(tools) == ALL_TOOLS
    assert tools["load_db"]("coffee") is None  # inert, other group
    with pytest.raises(ValueError, match="not a database"):
        tools["load_db"]("trains")  # the inert load_db still validates the name
    assert tools["retrieve_agenda"]("opera", 3) is None
    assert tools["check_nodes"].__doc__.startswith("Return the attributes of a node")
    assert tools["load_graph"]()[2]["Graph Things"] == "p1"  # own group: real
    with pytest.raises(DataError, match="unknown ToolQA group"):
        make_tools(corpus, "trains")
    with pytest.raises(DataError, match="unknown toolset"):
        make_tools(corpus, "coffee", "some")


def test_preload_and_bind_share_one_data_object(corpus: Corpus) -> None:
    shared = preload(str(corpus.root), ["coffee", "dblp"])
    assert "coffee" in shared.corpus._tables and shared.corpus._dblp is not None
    tools = bind(shared, "coffee")
    assert tools["load_db"]("coffee").loc[0, "Open"] == "110.0"


def test_tool_docs_modes() -> None:
    assert tool_docs("coffee", "none") == ""
    short = tool_docs("all", "short")
    assert short.count("\n\n") == 8 and "complete_task(final_report: str, return_value: str)" in short
    assert "data_filter(database: pandas.DataFrame, argument: str) -> pandas.DataFrame" in short
    long = tool_docs("dblp", "long")
    assert "check_edges" in long and "load_db" not in long and "Raises:" in long
    assert "remove duplicates" in long and long.rstrip().endswith("call complete_task again).")
    with pytest.raises(DataError, match="tool docs mode"):
        tool_docs("dblp", "full")


# -- question files ---------------------------------------------------------------------------

def test_vendored_question_files_validate() -> None:
    qs = load_questions("test", groups=["coffee", "flights"], match=False)
    assert len(qs) == 71 + 60 and all(isinstance(q.answer, str) for q in qs)
    assert (VENDORED_DIR / "LICENSE").exists() and (VENDORED_DIR / "test/gsm8k-test.jsonl").exists()


@pytest.mark.parametrize("line,error", [
    ('{"qid": "x", "question": "Q?", "type": "volume"}', r"bad\.jsonl:2: missing field \(field 'answer'\)"),
    ('{"qid": "x", "question": "", "answer": "1", "type": "volume"}', r"bad\.jsonl:2: bad value '' \(field 'question'\)"),
    ('{"qid": "x", "question": "Q?", "answer": true, "type": "volume"}', r"bad\.jsonl:2: bad value True"),
    ('{"qid": "x", "question": "Q?", "answer": "1"}', r"bad\.jsonl:2: missing field \(field 'type'\)"),
    ("[1, 2]", r"bad\.jsonl:2: expected a JSON object"),
    ("{oops", r"bad\.jsonl:2: invalid JSON"),
])
def test_bad_question_line_is_named(tmp_path: Path, line: str, error: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"qid": "a", "question": "Q?", "answer": 3, "type": "volume"}\n' + line + "\n")
    with pytest.raises(DataError, match=error):
        read_question_file(path, "coffee", "test", match=False)


def test_unknown_group_split_or_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="unknown ToolQA group 'trains'"):
        load_questions("test", groups=["trains"])
    with pytest.raises(DataError, match="unknown ToolQA split 'dev'"):
        load_questions("dev")
    (tmp_path / "manifest.json").write_text("{}")
    with pytest.raises(DataError, match=r"questions/test/coffee-test\.jsonl: question file not found"):
        load_questions("test", root=tmp_path, groups=["coffee"])


def test_tool_data_is_reusable(corpus: Corpus) -> None:
    data = ToolQAData(corpus)
    assert make_tools(data, "coffee")["load_db"]("coffee") is not None


# -- hint files -------------------------------------------------------------------------------

def test_every_hint_file_loads() -> None:
    assert [h.name for h in common_hints()] == ["response-format", "step-by-step", "finalisation"]
    for group in GROUPS:
        assert all(h.name.startswith(f"{group}/") for h in group_hints(group))
    assert hint_set("none", "coffee", "coffee/volume").sections == []
    with pytest.raises(DataError, match="unknown hints mode"):
        hint_set("all", "coffee", "coffee/volume")


@pytest.mark.parametrize("text,error", [
    ("sections:\n  - name: a\n", r"sections\[0\]: missing or empty \(field 'text'\)"),
    ("sections:\n  - {name: a, text: t}\n  - {name: a, text: u}\n", r"duplicate hint name 'coffee/a'"),
    ("sections:\n  - {name: a, text: t, templates: [nope]}\n", r"unknown template 'nope' of group 'coffee'"),
    ("sections:\n  - {name: a, text: t, when: x}\n", r"unknown keys \['when'\]"),
    ("hints: []\n", r"expected a mapping with a 'sections' list"),
    ("sections: [\n", r"invalid YAML"),
])
def test_bad_hint_file_is_named(tmp_path: Path, text: str, error: str) -> None:
    path = tmp_path / "coffee.yaml"
    path.write_text(text)
    with pytest.raises(DataError, match=error) as info:
        read_hint_file(path, "coffee")
    assert str(path) in str(info.value)


def test_hint_template_restriction(tmp_path: Path) -> None:
    first, second = group_templates("coffee")[:2]
    path = tmp_path / "coffee.yaml"
    path.write_text(f"sections:\n  - {{name: only, text: t, templates: [{first.name}]}}\n")
    (hint,) = read_hint_file(path, "coffee")
    assert hint.applies(first.id) and not hint.applies(second.id)
    with pytest.raises(DataError, match="must be written group/name"):
        path.write_text(f"sections:\n  - {{name: only, text: t, templates: [{first.name}]}}\n")
        read_hint_file(path, None)


def test_untyped_dblp_lines_are_classified_by_template() -> None:
    qs = load_questions("train", groups=["dblp"])
    assert len(qs) == 104 and all(q.type and q.template and q.slots for q in qs)
    assert qs[0].qid == "dblp-train-0001"


def test_unknown_template_or_unmatched_question_is_named(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="unknown template 'nope' of group 'coffee'; known: "):
        find_template("coffee", "nope")
    path = tmp_path / "coffee-test.jsonl"
    path.write_text('{"qid": "q1", "question": "What is the meaning of life?", "answer": "42", "type": "volume"}\n')
    with pytest.raises(DataError, match=r"coffee-test\.jsonl:1: no coffee template matches question"):
        read_question_file(path, "coffee", "test")
    real = load_questions("test", groups=["coffee"])[0]
    path.write_text(json.dumps({"qid": "q1", "question": real.question, "answer": "1", "type": "A or B"
                                if real.type != "A or B" else "volume"}) + "\n")
    with pytest.raises(DataError, match=r"coffee-test\.jsonl:1: type .* but the question matches template"):
        read_question_file(path, "coffee", "test")
