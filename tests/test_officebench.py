"""OfficeBench: task model, splits, evaluator check types, errata, tools, hints and the benchmark."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import openpyxl
import pytest
from docx import Document

from core.errors import DataError
from tasks.officebench import system
from tasks.officebench.audit import no_action
from tasks.officebench.benchmark import OfficeBenchmark
from tasks.officebench.evaluator import (
    CHECKS,
    Context,
    effective_checks,
    evaluate,
    load_errata,
    run_check,
    unsolvable_under_original,
)
from tasks.officebench.hints import combined_hints, load_sections, task_hints
from tasks.officebench.subtasks import (
    DATA_DIR,
    Check,
    load_subtask,
    load_subtasks,
    split_of,
    subtask_by_id,
    tasks_by_apps,
)
from tasks.officebench.tools import ALL_TOOLS, OfficeTools, bind, tool_docs
from tasks.task import PromptConfig

PDF = DATA_DIR / "1-19" / "testbed" / "data" / "contract_agreement.pdf"


# ---- task model


def test_tree_has_300_subtasks_with_601_checks_of_9_kinds():
    subs = load_subtasks()
    assert len(subs) == 300 and len({s.folder for s in subs}) == 167
    checks = [c.function for s in subs for c in s.evaluation]
    assert len(checks) == 601 and set(checks) == set(CHECKS)
    assert {k: len(v) for k, v in tasks_by_apps().items()} == {"1": 93, "2": 95, "3": 112}


def test_task_carries_user_date_time_checks_and_budget():
    task = OfficeBenchmark().tasks()[[t.id for t in OfficeBenchmark().tasks()].index("officebench/2-13/1")]
    assert (task.group, task.template, task.max_steps, task.answer_type) == ("2", "2-13", 15, "NoneType")
    assert all(x in task.question for x in ("Alice", "2020-05-01", "Friday", "10:00 AM", "section A"))
    assert task.meta["user"] == "Alice" and len(task.meta["checks"]) == 5
    assert subtask_by_id("1-19/3").asks_question and OfficeBenchmark().tasks()[0].split in {"train", "val", "test"}


def test_split_is_by_folder_and_deterministic():
    by_folder: dict[str, set[str]] = {}
    for s in load_subtasks():
        by_folder.setdefault(s.folder, set()).add(split_of(s.folder))
    assert all(len(v) == 1 for v in by_folder.values())
    counts = Counter(next(iter(v)) for v in by_folder.values())
    assert set(counts) == {"train", "val", "test"} and counts["train"] > counts["test"] > counts["val"]
    assert split_of("2-13") == split_of("2-13")


@pytest.mark.parametrize(("content", "field"), [
    ({"username": "A", "date": "d", "weekday": "w", "time": "t", "evaluation": [{"function": "f", "args": {}}]},
     "task"),
    ({"username": "A", "date": "d", "weekday": "w", "time": "t", "task": "x", "evaluation": "nope"}, "evaluation"),
    ({"username": "A", "date": "d", "weekday": "w", "time": "t", "task": "x", "evaluation": [{"args": {}}]},
     "evaluation.0.function"),
])
def test_malformed_subtask_names_path_and_field(tmp_path, content, field):
    path = tmp_path / "9-9" / "subtasks" / "0.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(content))
    with pytest.raises(DataError) as e:
        load_subtask(path)
    assert str(path) in str(e.value) and e.value.field == field


def test_unparsable_subtask_names_path(tmp_path):
    path = tmp_path / "9-9" / "subtasks" / "0.json"
    path.parent.mkdir(parents=True)
    path.write_text("{oops")
    with pytest.raises(DataError, match="0.json"):
        load_subtask(path)


# ---- evaluator, one group of tests per check type


def ctx(tmp_path: Path, errata: str = "corrected", task_dir: Path | None = None) -> Context:
    (tmp_path / "data").mkdir(parents=True, exist_ok=True)
    return Context(testbed=tmp_path, task_dir=task_dir or tmp_path / "task", errata=errata)


def check(c: Context, function: str, **args) -> tuple[bool, str]:
    return run_check(c, Check(function=function, args=args))


def write_sheet(path: Path, rows: list[list]) -> None:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    book.save(path)


def test_contain_is_case_insensitive_and_strips_commas_for_numbers(tmp_path):
    c = ctx(tmp_path)
    (tmp_path / "data" / "a.txt").write_text("Total Due: 1,389.99 USD")
    assert check(c, "evaluate_contain", doc_type="txt", file="data/a.txt", keywords=["total due", "1389.99"])[0]
    assert not check(c, "evaluate_contain", doc_type="txt", file="data/a.txt", keywords=["1389.99", "1,389.99"])[0]
    ok, why = check(c, "evaluate_contain", doc_type="txt", file="data/a.txt", keywords=["EUR"])
    assert not ok and "eur" in why
    assert check(c, "evaluate_contain", doc_type="txt", file="data/missing.txt", keywords=[]) == (
        False, "missing file data/missing.txt")


def test_contain_reads_xlsx_docx_pdf_and_ics(tmp_path):
    c = ctx(tmp_path)
    write_sheet(tmp_path / "data" / "s.xlsx", [["Name", "score"], ["Bob", 45]])
    doc = Document()
    doc.add_paragraph("Hello there")
    doc.add_table(rows=1, cols=1).cell(0, 0).text = "hidden in a table"
    doc.save(tmp_path / "data" / "d.docx")
    shutil.copy(PDF, tmp_path / "data" / "c.pdf")
    (tmp_path / "data" / "e.ics").write_text("DTSTART:20240517T103000")
    assert check(c, "evaluate_contain", doc_type="xlsx", file="data/s.xlsx", keywords=["(2, 2): 45"])[0]
    assert check(c, "evaluate_contain", doc_type="docx", file="data/d.docx", keywords=["hello"])[0]
    assert not check(c, "evaluate_contain", doc_type="doc", file="data/d.docx", keywords=["hidden"])[0]
    assert check(c, "evaluate_contain", doc_type="pdf", file="data/c.pdf", keywords=["2024-05-29"])[0]
    assert check(c, "evaluate_contain", doc_type="ics", file="data/e.ics", keywords=["dtstart:20240517t1030"])[0]


def test_contain_email_reads_the_testbed_mailbox(tmp_path):
    c = ctx(tmp_path, "original")
    OfficeTools(tmp_path).send_email("Alice", "bob@example.com", "party", "Jane Doe invites you")
    assert check(c, "evaluate_contain", doc_type="email", username="bob", keywords=["jane doe", "party"])[0]
    assert check(c, "evaluate_contain", doc_type="email", username="Bob", keywords=["Subject: party"])[0]
    assert not check(c, "evaluate_contain", doc_type="email", username="Tom", keywords=["party"])[0]
    (tmp_path / "emails" / "bob").rename(tmp_path / "emails" / "bob_smith")
    assert not check(c, "evaluate_contain", doc_type="email", username="Bob", keywords=["party"])[0]
    assert check(ctx(tmp_path), "evaluate_contain", doc_type="email", username="Bob", keywords=["party"])[0]


def test_not_contain_negates_so_a_missing_file_passes(tmp_path):
    c = ctx(tmp_path)
    (tmp_path / "data" / "a.txt").write_text("apple onion")
    assert check(c, "evaluate_not_contain", doc_type="txt", file="data/missing.txt", keywords=["x"])[0]
    assert check(c, "evaluate_not_contain", doc_type="txt", file="data/a.txt", keywords=["apple", "pear"])[0]
    assert not check(c, "evaluate_not_contain", doc_type="txt", file="data/a.txt", keywords=["apple"])[0]


def test_file_exist_and_not_exist(tmp_path):
    c = ctx(tmp_path)
    (tmp_path / "data" / "x.pdf").write_text("")
    assert check(c, "evaluate_file_exist", file="./data/x.pdf")[0]
    assert not check(c, "evaluate_file_exist", file="data/y.pdf")[0]
    assert check(c, "evaluate_file_not_exist", file="data/y.pdf")[0]
    assert not check(c, "evaluate_file_not_exist", file="data/x.pdf")[0]


def test_excel_cell_value_is_a_substring_test(tmp_path):
    c = ctx(tmp_path)
    write_sheet(tmp_path / "data" / "s.xlsx", [["Name", "score"], ["Bob", 45]])
    assert check(c, "evaluate_excel_cell_value", file="data/s.xlsx", matches=[{"row": "2", "col": "2", "value": "4"}])[0]
    assert check(c, "evaluate_excel_cell_value", file="data/s.xlsx", matches=[{"row": 1, "col": 1, "value": "Name"}])[0]
    ok, why = check(c, "evaluate_excel_cell_value", file="data/s.xlsx", matches=[{"row": 2, "col": 1, "value": "Tom"}])
    assert not ok and "(2, 1): Tom" in why
    assert not check(c, "evaluate_excel_cell_value", file="data/t.xlsx", matches=[])[0]


def test_excel_cell_comparator_applies_the_lambda_to_the_word(tmp_path):
    c = ctx(tmp_path)
    write_sheet(tmp_path / "data" / "s.xlsx", [["Name", "Class"], ["Noah", 3], ["Mia", 7], ["Jack", None]])
    rule = "lambda x: x in ['1', '2', '3', '4', '5']"
    assert check(c, "evaluate_excel_cell_comparator", file="data/s.xlsx", matches=[{"row": 2, "col": 2, "comparator": rule}])[0]
    assert not check(c, "evaluate_excel_cell_comparator", file="data/s.xlsx", matches=[{"row": 3, "col": 2, "comparator": rule}])[0]
    ok, why = check(c, "evaluate_excel_cell_comparator", file="data/s.xlsx", matches=[{"row": 4, "col": 2, "comparator": rule}])
    assert not ok
    assert not check(c, "evaluate_excel_cell_comparator", file="data/none.xlsx", matches=[])[0]


def test_exact_match_xlsx_compares_typed_cells_both_ways_against_reference(tmp_path):
    task_dir = tmp_path / "task"
    (task_dir / "reference").mkdir(parents=True)
    write_sheet(task_dir / "reference" / "r.xlsx", [["Name", "amount"], ["stock", 100000]])
    c = ctx(tmp_path, task_dir=task_dir)
    args = {"doc_type": "xlsx", "result_file": "./data/r.xlsx", "expected_file": "../../../../reference/r.xlsx"}
    write_sheet(tmp_path / "data" / "r.xlsx", [["Name", "amount"], ["stock", 100000]])
    assert check(c, "evaluate_exact_match", **args)[0]
    write_sheet(tmp_path / "data" / "r.xlsx", [["Name", "amount"], ["stock", "100000"]])
    assert not check(c, "evaluate_exact_match", **args)[0]
    write_sheet(tmp_path / "data" / "r.xlsx", [["Name", "amount"], ["stock", 100000], ["x"]])
    assert not check(c, "evaluate_exact_match", **args)[0]
    write_sheet(tmp_path / "data" / "r.xlsx", [["Name", "amount"]])
    assert not check(c, "evaluate_exact_match", **args)[0]


def test_exact_match_pdf_never_passes_under_original(tmp_path):
    for errata, expected in (("original", False), ("corrected", True)):
        c = ctx(tmp_path, errata)
        for name in ("a.pdf", "b.pdf"):
            shutil.copy(PDF, tmp_path / "data" / name)
        args = {"doc_type": "pdf", "result_file": "data/a.pdf", "expected_file": "data/b.pdf"}
        assert check(c, "evaluate_exact_match", **args)[0] is expected


def test_diff_contain_text_compares_with_the_pristine_testbed(tmp_path):
    task_dir = tmp_path / "task"
    (task_dir / "testbed" / "data").mkdir(parents=True)
    rows = [["Name", "midterm1"], ["Liam", 74], ["Alice", 78]]
    write_sheet(task_dir / "testbed" / "data" / "score.xlsx", rows)
    c = ctx(tmp_path / "run", task_dir=task_dir)
    args = {"doc_type": "xlsx", "input_file": "../../../../cache/0/testbed/data/score.xlsx",
            "output_file": "./data/score.xlsx", "keywords": ["Alice", "78"]}
    write_sheet(tmp_path / "run" / "data" / "score.xlsx", rows)
    assert check(c, "evaluate_diff_contain_text", **args) == (False, "file unchanged")
    write_sheet(tmp_path / "run" / "data" / "score.xlsx", rows[:2])
    assert check(c, "evaluate_diff_contain_text", **args)[0]
    write_sheet(tmp_path / "run" / "data" / "score.xlsx", [rows[0], ["Liam", 75], rows[2]])
    ok, why = check(c, "evaluate_diff_contain_text", **args)
    assert not ok and "Alice" in why


def test_calendar_no_overlap_checks_consecutive_events(tmp_path):
    c = ctx(tmp_path)
    tools = OfficeTools(tmp_path)
    tools.create_event("Bob", "class", "2024-05-01 09:00:00", "2024-05-01 10:00:00")
    tools.create_event("Bob", "lunch", "2024-05-01 12:00:00", "2024-05-01 13:00:00")
    tools.create_event("Bob", "meeting", "2024-05-01 10:00:00", "2024-05-01 11:00:00")
    assert check(c, "evaluate_calendar_no_overlap", username="Bob")[0]
    tools.create_event("Bob", "nap", "2024-05-01 12:30:00", "2024-05-01 14:00:00")
    ok, why = check(c, "evaluate_calendar_no_overlap", username="Bob")
    assert not ok and "overlap" in why
    assert not check(c, "evaluate_calendar_no_overlap", username="Tom")[0]  # no calendar -> error -> fail


def test_unknown_function_and_exceptions_fail_the_check(tmp_path):
    c = ctx(tmp_path)
    assert check(c, "evaluate_magic") == (False, "unknown check function 'evaluate_magic'")
    ok, why = check(c, "evaluate_contain", doc_type="txt")
    assert not ok and "KeyError" in why


# ---- errata


def test_errata_entries_point_at_real_checks_and_are_justified():
    errata = load_errata()
    for fix in errata.checks:
        sub = subtask_by_id(fix.subtask)
        assert 0 <= fix.check < len(sub.evaluation) and fix.defect and fix.evidence
        assert fix.corrected is None or fix.corrected.function in CHECKS
    assert len({f.name for f in [*errata.checks, *errata.evaluator]}) == len(errata.checks) + len(errata.evaluator)


def test_file_outside_args_fails_original_and_is_read_in_corrected(tmp_path):
    sub = subtask_by_id("3-32/0")
    (tmp_path / "data" / "cars").mkdir(parents=True)
    rows = [["Driver", "Plate"], ["Smith", "FD06MTG001"], ["Lee", "FD06MTG002"]]
    for name in ("data/car_inventory.xlsx", "data/cars/car_inventory.xlsx"):
        write_sheet(tmp_path / name, rows)
    original, corrected = evaluate(sub, tmp_path, "original"), evaluate(sub, tmp_path, "corrected")
    assert not original.passed and "KeyError" in original.failures()[0]
    assert corrected.passed and corrected.checks[2].fix == "file-outside-args"


def test_corrected_replaces_checks_only_in_corrected_mode():
    sub = subtask_by_id("3-20/0")
    assert "DTSTART:20240531T130000Z" in effective_checks(sub, "original")[1][0].args["keywords"]
    replaced, fix = effective_checks(sub, "corrected")[1]
    assert "DTSTART:20240531T130000" in replaced.args["keywords"] and fix == "calendar-utc-3-20"
    assert len(effective_checks(subtask_by_id("3-8/6"), "corrected")) == 7  # a dropped check


def test_no_action_scores_under_both_errata_settings():
    scores = no_action()
    original, corrected = scores["original"], scores["corrected"]
    assert set(original.subtasks_passed) == {"officebench/1-2/1", "officebench/1-11/3", "officebench/2-16/0",
                                             "officebench/2-25/0"}
    assert (original.checks_passed, original.checks) == (34, 601)
    assert set(corrected.subtasks_passed) == set(original.subtasks_passed) - {"officebench/2-25/0"}
    assert (corrected.checks_passed, corrected.checks) == (32, 600)
    blocked = unsolvable_under_original()
    assert {"officebench/3-62/0", "officebench/3-73/0", "officebench/2-48/0"} <= set(blocked)
    assert not set(blocked) & set(original.subtasks_passed)


# ---- tools


def test_excel_set_cell_quirk_blanks_true_only_in_original(tmp_path):
    path = str(tmp_path / "s.xlsx")
    OfficeTools(tmp_path, "original").excel_set_cell(path, 1, 1, 1)
    OfficeTools(tmp_path, "original").excel_set_cell(path, "7", 2, 1)
    OfficeTools(tmp_path, "corrected").excel_set_cell(path, 1, 3, 1)
    OfficeTools(tmp_path, "corrected").excel_set_cell(path, "7.5", 4, 1)
    assert [r[0] for r in openpyxl.load_workbook(path).active.iter_rows(values_only=True)] == [None, "7", 1, 7.5]


def test_calendar_tools_per_errata(tmp_path):
    original, corrected = OfficeTools(tmp_path / "o", "original"), OfficeTools(tmp_path / "c", "corrected")
    corrected.list_events("Bob")
    assert not (tmp_path / "c" / "calendar" / "Bob.ics").exists()
    original.list_events("Bob")
    assert (tmp_path / "o" / "calendar" / "Bob.ics").exists()
    for tools in (original, corrected):
        assert tools.create_event("Bob", "dinner", "2024-05-18 19:00:00", "2024-05-18 20:00:00") is True
        assert "Summary: dinner" in tools.list_events("Bob")
    assert original.delete_event("Bob", "dinner") != True  # noqa: E712 - the released tool always fails
    assert corrected.delete_event("Bob", "dinner") is True and "dinner" not in corrected.list_events("Bob")
    assert "Only support one user" in corrected.create_event(["Bob", "Tom"], "x", "", "")
    assert "Failed" in corrected.create_event("Bob", "x", "tomorrow", "later")


def test_email_tools_store_both_copies_and_misuse_is_reported(tmp_path):
    tools = OfficeTools(tmp_path)
    assert tools.send_email("Alice@x.org", "Bob", "a/b", "hi") == "Successfully sent email to Bob."
    assert (tmp_path / "emails" / "Alice" / "a_b.eml").exists() and (tmp_path / "emails" / "Bob" / "a_b.eml").exists()
    assert "Subject: a/b" in tools.list_emails("Bob") and "Content: hi" in tools.read_email("Bob", "a_b")
    assert tools.read_email("Bob", "nope") .startswith("The email file path")
    assert OfficeTools(tmp_path, "original").send_email("Alice", "Bob", "a/b", "hi").startswith("Error")
    assert tools.word_read_file("no.docx") == "The word file path: no.docx is not correct"
    assert tools.excel_read_file("no.xlsx").startswith("The excel file path")


def test_document_tools_roundtrip(tmp_path):
    tools = OfficeTools(tmp_path)
    docx, xlsx = str(tmp_path / "a.docx"), str(tmp_path / "a.xlsx")
    tools.word_write_to_file(docx, "first")
    tools.word_write_to_file(docx, "second")
    assert tools.word_read_file(docx) == "first\nsecond"
    assert tools.excel_create_new_file(xlsx) is True and "already exists" in tools.excel_create_new_file(xlsx)
    tools.excel_set_cell(xlsx, "x", 1, 2)
    tools.excel_delete_cell(xlsx, 1, 2)
    assert tools.excel_read_file(xlsx) == "(1, 1): [Empty Cell]\t(1, 2): [Empty Cell]\t\n"
    shutil.copy(PDF, tmp_path / "c.pdf")
    assert "Effective Date: 2024-05-29" in tools.pdf_read_file(str(tmp_path / "c.pdf"))
    assert tools.pdf_convert_to_word(str(tmp_path / "c.pdf"), str(tmp_path / "c.docx")) == "Success"
    assert "2024-05-29" in tools.word_read_file(str(tmp_path / "c.docx"))
    for dpi, png in ((72, "low.png"), (150, "high.png")):
        assert tools.pdf_convert_to_image(str(tmp_path / "c.pdf"), str(tmp_path / png), dpi=dpi) == "Success"
    from PIL import Image
    assert Image.open(tmp_path / "high.png").width > 2 * Image.open(tmp_path / "low.png").width * 0.99
    assert tools.image_convert_to_pdf(str(tmp_path / "low.png"), str(tmp_path / "img.pdf")) == "Success"
    assert tools.pdf_read_file(str(tmp_path / "img.pdf")).strip() == ""


def test_bind_gives_each_attempt_a_fresh_private_testbed(tmp_path):
    ns = bind(None, folder="1-3", episode_dir=str(tmp_path / "ep"))
    data = Path(ns["data_path"])
    assert set(ns) == {"data_path", *ALL_TOOLS} and sorted(p.name for p in data.iterdir())[0] == "file1.docx"
    assert (data.parent / "emails").is_dir() and (data.parent / "calendar").is_dir()
    (data / "file1.docx").unlink()
    ns = bind(None, folder="1-3", episode_dir=str(tmp_path / "ep"), tools=["word_read_file"])
    assert (data / "file1.docx").exists() and set(ns) == {"data_path", "word_read_file"}
    assert (DATA_DIR / "1-3" / "testbed" / "data" / "file1.docx").exists()
    empty = bind(None, folder="1-1", episode_dir=str(tmp_path / "ep2"))  # 1-1 has no testbed at all
    assert Path(empty["data_path"]).is_dir()


def test_missing_binary_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setattr(system.shutil, "which", lambda name: None)
    with pytest.raises(system.MissingBinary, match="apt-get install .*libreoffice-writer-nogui"):
        system.libreoffice_to_pdf(tmp_path / "a.docx", tmp_path)
    shutil.copy(DATA_DIR / "2-1" / "testbed" / "data" / "notification_image.jpg", tmp_path / "n.jpg")
    with pytest.raises(system.MissingBinary, match="tesseract-ocr"):
        OfficeTools(tmp_path).ocr_recognize_text(str(tmp_path / "n.jpg"))


@pytest.mark.skipif(not system.available("soffice"), reason="LibreOffice (soffice) not installed: "
                    "run tasks/officebench/install_system_deps.sh")
def test_convert_to_pdf_names_the_output_per_errata(tmp_path):
    for errata in ("original", "corrected"):
        (tmp_path / errata).mkdir()
        tools = OfficeTools(tmp_path / errata, errata)
        docx = str(tmp_path / errata / "report.docx")
        tools.word_write_to_file(docx, "Quarterly revenues")
        assert tools.word_convert_to_pdf(docx, str(tmp_path / errata / "final.pdf")) is True
    assert (tmp_path / "original" / "report.pdf").exists() and not (tmp_path / "original" / "final.pdf").exists()
    assert "Quarterly revenues" in OfficeTools(tmp_path).pdf_read_file(str(tmp_path / "corrected" / "final.pdf"))


@pytest.mark.skipif(not system.available("tesseract"), reason="Tesseract not installed: "
                    "run tasks/officebench/install_system_deps.sh")
def test_ocr_reads_a_notice():
    tools = OfficeTools(DATA_DIR / "2-1" / "testbed")
    text = tools.ocr_recognize_text(str(DATA_DIR / "2-1" / "testbed" / "data" / "power_failure_notification.jpg"))
    assert "Failure" in text and "Power" in text


# ---- hints and the benchmark


def test_hints_are_named_sections_selected_by_app():
    assert len({s.name for s in load_sections()}) == len(load_sections())
    excel = [s.name for s in task_hints(["excel"]).sections]
    assert {"paths", "answers", "excel-reading", "excel-writing"} <= set(excel) and "calendar" not in excel
    assert [s.name for s in combined_hints().sections] == [s.name for s in load_sections()]


def test_hints_file_with_unknown_app_is_rejected(tmp_path):
    bad = tmp_path / "h.yaml"
    bad.write_text("sections:\n  - {name: x, text: y, apps: [fax]}\n")
    with pytest.raises(DataError, match="fax"):
        load_sections(bad)


def test_episode_spec_and_grading_use_the_episode_directory(tmp_path):
    bench = OfficeBenchmark()
    task = next(t for t in bench.tasks() if t.id == "officebench/1-22/4")
    spec = bench.episode(task, PromptConfig(hints="task", tool_docs="long", toolset="relevant"), trial=2)
    assert spec.max_steps == 15 and spec.trial == 2 and "data_path" in spec.description
    assert spec.episode_kwargs["tools"] == ["list_emails", "read_email", "send_email"]
    assert spec.tool_docs.startswith("list_emails(username: str) -> str") and "email" in spec.hints.name
    full = bench.episode(task, PromptConfig(hints="combined", toolset="all"))
    assert full.episode_kwargs["tools"] == list(ALL_TOOLS) and full.tool_docs == "" and len(full.hints.sections) > 5
    episode_dir = OfficeBenchmark.episode_path(tmp_path, task, 2)
    bind(None, **spec.episode_kwargs, episode_dir=str(episode_dir))
    assert bench.grade(task, "Your score is 93", str(episode_dir)) == 1.0
    assert bench.grade(task, "95", str(episode_dir)) == 0.0
    with pytest.raises(ValueError, match="episode_dir"):
        bench.grade(task, "93")
    with pytest.raises(ValueError, match="no testbed"):
        bench.grade(task, "93", str(tmp_path))


def test_tool_docs_document_every_tool():
    docs = tool_docs()
    assert all(f"\n{name}(" in f"\n{docs}" for name in ALL_TOOLS)


@pytest.mark.slow
@pytest.mark.skipif(not system.available("soffice"), reason="LibreOffice (soffice) not installed: "
                    "run tasks/officebench/install_system_deps.sh")
def test_concurrent_conversions_each_use_a_private_profile(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    sources = []
    for i in range(4):
        doc = Document()
        doc.add_paragraph(f"document {i}")
        doc.save(tmp_path / f"d{i}.docx")
        sources.append(tmp_path / f"d{i}.docx")
    with ThreadPoolExecutor(4) as pool:
        pdfs = list(pool.map(lambda p: system.libreoffice_to_pdf(p, tmp_path / "out"), sources))
    assert [OfficeTools(tmp_path).pdf_read_file(str(p)).strip() for p in pdfs] == [f"document {i}" for i in range(4)]
