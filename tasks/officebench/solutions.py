"""Reference solutions: expert scripts that solve sample subtasks with the agent's tools only.

Each solution receives the :class:`OfficeTools` of a fresh testbed (the agent's namespace: the
tools and ``data_path``; plain ``os``/``shutil``/``open`` as the agent may use them) and returns
the ``complete_task`` return value (``None`` for file tasks). Facts an expert reads off the data
(OCR'd policies, which mail answers a question) are computed from tool outputs where practical.
:func:`solve` runs them on fresh testbeds and grades them: under ``corrected`` all must pass.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from tqdm import tqdm

from agent.scripted import ExpertStep
from tasks.officebench.evaluator import Errata, evaluate
from tasks.officebench.subtasks import subtask_by_id
from tasks.officebench.system import MissingBinary, available
from tasks.officebench.testbed import fresh_testbed
from tasks.officebench.tools import OfficeTools

Solution = Callable[[OfficeTools], Any]
SOLUTIONS: dict[str, Solution] = {}
NEEDS: dict[str, tuple[str, ...]] = {}
CELL = re.compile(r"\((\d+), (\d+)\): (.*?)\t")


def solution(task_id: str, needs: tuple[str, ...] = ()) -> Callable[[Solution], Solution]:
    def register(fn: Solution) -> Solution:
        SOLUTIONS[task_id], NEEDS[task_id] = fn, needs
        return fn
    return register


def grid(t: OfficeTools, name: str) -> list[list[Any]]:
    """The rows of a sheet as read with ``excel_read_file`` (numbers parsed, empty cells None)."""
    rows: dict[int, list[Any]] = {}
    for r, _, value in CELL.findall(t.excel_read_file(os.path.join(t.data_path, name))):
        cell: Any = None if value == "[Empty Cell]" else value
        if isinstance(cell, str) and re.fullmatch(r"-?\d+", cell):
            cell = int(cell)
        rows.setdefault(int(r), []).append(cell)
    return [rows[r] for r in sorted(rows)]


def write_rows(t: OfficeTools, name: str, rows: list[list[Any]]) -> None:
    path = os.path.join(t.data_path, name)
    for i, row in enumerate(rows, start=1):
        for j, value in enumerate(row, start=1):
            t.excel_set_cell(path, value, i, j)


def write_lines(t: OfficeTools, name: str, lines: list[str]) -> str:
    path = os.path.join(t.data_path, name)
    t.word_create_new_file(path)
    for line in lines:
        t.word_write_to_file(path, line)
    return path


def delete_row(t: OfficeTools, name: str, row: int) -> None:
    """Shift the rows below ``row`` up by one and clear the last row."""
    rows = grid(t, name)
    write_rows(t, name, rows[: row - 1] + rows[row:])
    for col in range(1, len(rows[-1]) + 1):
        t.excel_delete_cell(os.path.join(t.data_path, name), len(rows), col)


# ---- 1 app


@solution("1-1/0")
def add_meeting(t: OfficeTools) -> None:
    t.create_event("Bob", "Meeting", "2024-05-17 10:30:00", "2024-05-17 11:00:00")


@solution("1-1/1")
def add_dinner(t: OfficeTools) -> None:
    t.create_event("Bob", "dinner", "2024-05-18 19:00:00", "2024-05-18 20:00:00")


@solution("1-3/0")
def rename_docx(t: OfficeTools) -> None:
    os.rename(os.path.join(t.data_path, "file1.docx"), os.path.join(t.data_path, "test_file1.docx"))


@solution("1-3/2")
def duplicate_xlsx(t: OfficeTools) -> None:
    shutil.copy(os.path.join(t.data_path, "file3.xlsx"), os.path.join(t.data_path, "temp.xlsx"))


@solution("1-3/4")
def move_documents(t: OfficeTools) -> None:
    target = os.path.join(t.data_path, "new_dir")
    os.makedirs(target, exist_ok=True)
    for name in os.listdir(t.data_path):
        if name.endswith((".docx", ".pdf", ".jpg", ".png")):
            shutil.move(os.path.join(t.data_path, name), os.path.join(target, name))


@solution("1-4/0")
def set_bob_score(t: OfficeTools) -> None:
    rows = grid(t, "score.xlsx")
    row = next(i for i, r in enumerate(rows, start=1) if r[0] == "Bob")
    t.excel_set_cell(os.path.join(t.data_path, "score.xlsx"), "100", row, 2)


@solution("1-6/0")
def assign_classes(t: OfficeTools) -> None:
    path = os.path.join(t.data_path, "class_member.xlsx")
    t.excel_set_cell(path, "Class", 1, 2)
    for row in range(2, len(grid(t, "class_member.xlsx")) + 1):
        t.excel_set_cell(path, (row - 2) % 5 + 1, row, 2)


@solution("1-7/0")
def delete_alice(t: OfficeTools) -> None:
    rows = grid(t, "score.xlsx")
    delete_row(t, "score.xlsx", next(i for i, r in enumerate(rows, start=1) if r[0] == "Alice"))


@solution("1-8/3")
def clear_budget(t: OfficeTools) -> None:
    rows = grid(t, "company_budget.xlsx")
    for i, row in enumerate(rows, start=1):
        for j in range(1, len(row) + 1):
            t.excel_delete_cell(os.path.join(t.data_path, "company_budget.xlsx"), i, j)


@solution("1-8/1")
def clear_classes(t: OfficeTools) -> None:
    for row in range(1, len(grid(t, "class_member.xlsx")) + 1):
        t.excel_delete_cell(os.path.join(t.data_path, "class_member.xlsx"), row, 2)


@solution("1-11/0")
def sort_scores(t: OfficeTools) -> None:
    header, *rows = grid(t, "score.xlsx")
    write_rows(t, "sorted_score.xlsx", [header, *sorted(rows, key=lambda r: -r[1])])


@solution("1-11/1")
def split_midterms(t: OfficeTools) -> None:
    rows = grid(t, "score.xlsx")
    for col, name in ((1, "midterm1.xlsx"), (2, "midterm2.xlsx")):
        write_rows(t, name, [[r[0], r[col]] for r in rows])


@solution("1-14/0")
def swap_alice_bob(t: OfficeTools) -> None:
    rows = grid(t, "score.xlsx")
    names = [r[0] for r in rows]
    a, b = names.index("Alice"), names.index("Bob")
    rows[a], rows[b] = rows[b], rows[a]
    write_rows(t, "score.xlsx", rows)


@solution("1-14/1")
def swap_midterm_columns(t: OfficeTools) -> None:
    write_rows(t, "score.xlsx", [[name, m2, m1] for name, m1, m2 in grid(t, "score.xlsx")])


@solution("1-14/2")
def swap_salary_extremes(t: OfficeTools) -> None:
    rows = grid(t, "salary.xlsx")
    body = rows[1:]
    low, high = body.index(min(body, key=lambda r: r[1])), body.index(max(body, key=lambda r: r[1]))
    body[low], body[high] = body[high], body[low]
    write_rows(t, "salary.xlsx", [rows[0], *body])


@solution("1-15/0")
def append_sentence(t: OfficeTools) -> None:
    source, target = (os.path.join(t.data_path, n) for n in ("House_creak.docx", "house_creak.docx"))
    shutil.copy(source, target)
    t.word_write_to_file(target, "This is a test sentence for task 1-15-0.")


@solution("1-16/1")
def new_word_file(t: OfficeTools) -> None:
    write_lines(t, "test.docx", ["This is a test file for task 1-16-1."])


@solution("1-19/3")
def effective_date(t: OfficeTools) -> str:
    text = t.pdf_read_file(os.path.join(t.data_path, "contract_agreement.pdf"))
    return re.search(r"Effective Date:\s*(\S+)", text).group(1)


@solution("1-22/1")
def top_sender(t: OfficeTools) -> str:
    senders = re.findall(r"From: (\S+)@", t.list_emails("Alice"))
    return Counter(senders).most_common(1)[0][0]


@solution("1-22/4")
def project_score(t: OfficeTools) -> str:
    return re.search(r"score is (\d+)", t.read_email("Alice", "gradescope")).group(1)


# ---- 2 apps


def training_events(t: OfficeTools, section: str | None) -> None:
    for name, sec, slot in grid(t, "team_training_schedule.xlsx")[1:]:
        if section is None or sec == section:
            start, end = (time.strftime("%H:%M:%S", time.strptime(x.strip(), "%I:%M %p")) for x in slot.split("-"))
            t.create_event(name, "Team training session", f"2020-05-01 {start}", f"2020-05-01 {end}")


@solution("2-13/0")
def training_all(t: OfficeTools) -> None:
    training_events(t, None)


@solution("2-13/1")
def training_section_a(t: OfficeTools) -> None:
    training_events(t, "Section A")


def top_midterm1(t: OfficeTools, n: int) -> list[str]:
    return [r[0] for r in sorted(grid(t, "score.xlsx")[1:], key=lambda r: -r[1])[:n]]


@solution("2-14/0")
def reward_meetings(t: OfficeTools) -> None:
    for name in top_midterm1(t, 3):
        t.create_event(name, "Reward meeting", "2020-05-04 10:00:00", "2020-05-04 11:00:00")


@solution("2-18/1")
def homework_doc(t: OfficeTools) -> None:
    write_lines(t, "homework.docx", ["Homework for all students: read book and write essay."])


@solution("2-18/2")
def shopping_doc(t: OfficeTools) -> None:
    write_lines(t, "shopping_list.docx", [f"{name}: {amount}" for name, amount in grid(t, "shopping_list.xlsx")[1:]])


@solution("2-21/0")
def courses_doc(t: OfficeTools) -> None:
    write_lines(t, "classes_taken.docx", [r[2] for r in grid(t, "Bill_course_lists.xlsx")[1:]])


@solution("2-26/1")
def market_analysis_doc(t: OfficeTools) -> None:
    text = t.pdf_read_file(os.path.join(t.data_path, "market_analysis.pdf"))
    write_lines(t, "market_analysis.docx", [line for line in text.split("\n") if line.strip()])


@solution("2-26/3")
def invitation_doc(t: OfficeTools) -> None:
    text = t.pdf_read_file(os.path.join(t.data_path, "invitation_letter.pdf"))
    write_lines(t, "invitation_letter.docx", [" ".join(line.split()) for line in text.split("\n") if line.strip()])


@solution("2-33/0")
def top3_txt(t: OfficeTools) -> None:
    with open(os.path.join(t.data_path, "top3.txt"), "w") as f:
        f.write("\n".join(top_midterm1(t, 3)))


@solution("2-38/1")
def party_mail(t: OfficeTools) -> None:
    t.send_email("Alice", "Bob", "party", "Hi Bob, you are invited to the party hosted by Jane Doe.")


@solution("2-43/0")
def revenues_mail(t: OfficeTools) -> None:
    lines = [f"{year}: {revenue}" for year, revenue in grid(t, "company_revenues.xlsx")[1:]]
    t.send_email("Alice", "Bob", "revenues", "Company revenues by year:\n" + "\n".join(lines))


@solution("2-48/0")
def sleeping_hours(t: OfficeTools) -> None:
    calendars = os.path.join(t.data_path, "..", "calendar")  # named <user>_calendar.ics: list_events misses them
    path = os.path.join(t.data_path, "events.xlsx")
    for row, user in enumerate(("Bob", "Tom"), start=1):
        text = open(os.path.join(calendars, f"{user}_calendar.ics")).read()
        hours = 0.0
        for event in text.split("BEGIN:VEVENT")[1:]:
            fields = dict(re.findall(r"^(SUMMARY|DTSTART|DTEND):(.*?)\r?$", event, re.M))
            if fields["SUMMARY"] in ("sleeping", "nap"):
                start, end = (time.mktime(time.strptime(fields[k], "%Y%m%dT%H%M%SZ")) for k in ("DTSTART", "DTEND"))
                hours += (end - start) / 3600
        t.excel_set_cell(path, user, row, 1)
        t.excel_set_cell(path, f"{hours:g}", row, 2)


@solution("2-25/0", needs=("soffice",))
def homework_pdf(t: OfficeTools) -> None:
    docx = os.path.join(t.data_path, "A12345homework.docx")
    t.word_convert_to_pdf(docx, os.path.join(t.data_path, "A12345homework.pdf"))


@solution("2-1/0", needs=("soffice", "tesseract"))
def power_failure_pdf(t: OfficeTools) -> None:
    text = t.ocr_recognize_text(os.path.join(t.data_path, "power_failure_notification.jpg"))
    docx = write_lines(t, "power_failure.docx", [line for line in text.split("\n") if line.strip()])
    t.word_convert_to_pdf(docx, os.path.join(t.data_path, "power_failure.pdf"))


# ---- 3 apps


def revenues(t: OfficeTools) -> list[list[Any]]:
    return grid(t, "company_revenues.xlsx")


def revenue_report(t: OfficeTools, name: str, rows: list[list[Any]]) -> str:
    return write_lines(t, name, ["Company revenues report"] + [f"{y}: revenues {r}" for y, r in rows])


@solution("3-8/0")
def revenues_above_2m(t: OfficeTools) -> None:
    header, *rows = revenues(t)
    kept = [r for r in rows if r[1] >= 2_000_000]
    write_rows(t, "new.xlsx", [header, *kept])
    revenue_report(t, "report.docx", kept)


@solution("3-8/1", needs=("soffice",))
def revenues_above_4m(t: OfficeTools) -> None:
    header, *rows = revenues(t)
    good = [r for r in rows if r[1] > 4_000_000]
    write_rows(t, "good.xlsx", [header, *good])
    docx = revenue_report(t, "report.docx", good)
    t.word_convert_to_pdf(docx, os.path.join(t.data_path, "report.pdf"))


@solution("3-8/2")
def top2_revenues(t: OfficeTools) -> None:
    header, *rows = revenues(t)
    top = sorted(rows, key=lambda r: -r[1])[:2]
    write_rows(t, "top2.xlsx", [header, *top])
    revenue_report(t, "reports.docx", top)


def improvement(t: OfficeTools, first: list[Any], last: list[Any]) -> None:
    with open(os.path.join(t.data_path, "improvement.txt"), "w") as f:
        f.write(str(last[1] - first[1]))
    revenue_report(t, "reports.docx", [first, last])


@solution("3-8/3")
def first_last_difference(t: OfficeTools) -> None:
    rows = revenues(t)[1:]
    improvement(t, rows[-1], rows[0])


@solution("3-8/4")
def this_year_difference(t: OfficeTools) -> None:
    by_year = {r[0]: r for r in revenues(t)[1:]}
    improvement(t, by_year[2019], by_year[2020])  # "today" is 2020-05-01


def score_rows(t: OfficeTools) -> list[list[Any]]:
    return grid(t, "score.xlsx")[1:]


@solution("3-8/5", needs=("soffice",))
def high_scores(t: OfficeTools) -> None:
    rows = score_rows(t)
    counts = [sum(r[k] >= 90 for r in rows) for k in (1, 2)]
    docx = write_lines(t, "exams.docx", [f"midterm1: {counts[0]} students scored 90 or higher",
                                         f"midterm2: {counts[1]} students scored 90 or higher"])
    t.word_convert_to_pdf(docx, os.path.join(t.data_path, "exams.pdf"))


@solution("3-8/6")
def congratulate(t: OfficeTools) -> None:
    for name, m1, m2 in score_rows(t):
        if m2 > m1:
            t.send_email("Alice", name, "congratulations",
                         f"Congratulations {name}! Your score improved from {m1} to {m2}.")


@solution("3-8/7")
def progress_count(t: OfficeTools) -> None:
    n = sum(m2 > m1 for _, m1, m2 in score_rows(t))
    write_lines(t, "progress.docx", [f"{n} students made progress from midterm1 to midterm2."])


@solution("3-1/0", needs=("soffice",))
def tasks_pdf_mail(t: OfficeTools) -> None:
    t.excel_convert_to_pdf(os.path.join(t.data_path, "task.xlsx"), os.path.join(t.data_path, "task.pdf"))
    tasks = [r[3] for r in grid(t, "task.xlsx")[2:] if r[3]]
    t.send_email("Alice", "Bob", "task", "Please review the project tasks (task.pdf):\n" + "\n".join(tasks))


@solution("3-62/0", needs=("soffice",))
def score_report_pdf(t: OfficeTools) -> None:
    rows = grid(t, "score.xlsx")
    docx = write_lines(t, "report.docx", ["Midterm report"] + [" ".join(str(v) for v in r) for r in rows])
    t.word_convert_to_pdf(docx, os.path.join(t.data_path, "report.pdf"))


@solution("3-24/0")
def paper_abstract(t: OfficeTools) -> None:
    text = t.pdf_read_file(os.path.join(t.data_path, "paper.pdf"))
    abstract = text[text.index("Abstract"):text.index("1 Introduction")]
    write_lines(t, "abstract.docx", [" ".join(abstract.split())])
    t.create_event("Bob", "meeting with professor Dan about the paper", "2024-05-31 11:00:00",
                   "2024-05-31 12:00:00")


@solution("3-20/0", needs=("tesseract",))
def fellowship_check(t: OfficeTools) -> None:
    policy = t.ocr_recognize_text(os.path.join(t.data_path, "school_policy.jpg"))
    application = t.pdf_read_file(os.path.join(t.data_path, "fellowship_application.pdf"))
    references = [line for line in application.split("References:")[1].split("\n") if line.strip()]
    satisfied = len(references) >= (2 if "two references" in policy.lower() else 1)
    write_lines(t, "result.docx", ["yes" if satisfied else "no"])
    t.create_event("Bob", "meeting with officer", "2024-05-31 13:00:00", "2024-05-31 14:00:00")


@solution("3-45/0")
def training_all_bob(t: OfficeTools) -> None:
    training_events(t, None)


@solution("3-48/0")
def training_section_a_bob(t: OfficeTools) -> None:
    training_events(t, "Section A")


@solution("3-56/0")
def class1_homework(t: OfficeTools) -> None:
    students = [name for name, klass in grid(t, "class_member.xlsx")[1:] if klass == 1]
    write_lines(t, "hw1.docx", [f"Homework for class 1 ({', '.join(students)}): read book and write essay"])


@solution("3-58/0")
def shopping_items(t: OfficeTools) -> None:
    write_lines(t, "shopping.docx", [row[0] for row in grid(t, "shopping_list.xlsx")[1:]])


@solution("3-63/0")
def report_in_folder(t: OfficeTools) -> None:
    os.makedirs(os.path.join(t.data_path, "report"), exist_ok=True)
    lines = [f"{name}: midterm1 {m1}, midterm2 {m2}" for name, m1, m2 in grid(t, "score.xlsx")[1:]]
    write_lines(t, os.path.join("report", "report.docx"), ["Midterm report", *lines])


@solution("3-82/0")
def top5_list(t: OfficeTools) -> None:
    write_lines(t, "list.docx", top_midterm1(t, 5))


# ---- running


def expert_steps(task_id: str) -> list[ExpertStep]:
    """The reference solution as agent steps run in the workspace: the solution is applied to the
    workspace's own tools (its namespace seen as attributes), then ``complete_task`` is called."""
    key = task_id.removeprefix("officebench/")
    fn = SOLUTIONS.get(key)
    if fn is None:
        return [ExpertStep("There is no reference solution for this subtask.",
                           "complete_task('no reference solution', None)")]
    code = ("import types\nfrom tasks.officebench.solutions import SOLUTIONS\n"
            f"answer = SOLUTIONS[{key!r}](types.SimpleNamespace(**globals()))\n"
            "complete_task('reference solution applied', answer)")
    return [ExpertStep(f"I apply the reference solution {fn.__name__} with the tools.", code)]



class SolveResult(BaseModel):
    task_id: str
    passed: bool
    seconds: float
    failures: list[str]


def run_solution(task_id: str, workdir: Path, errata: Errata = "corrected") -> SolveResult:
    """Run one reference solution on a fresh testbed under ``workdir`` and grade it."""
    sub = subtask_by_id(task_id)
    start = time.perf_counter()
    tools = OfficeTools(fresh_testbed(sub.folder, workdir / sub.folder / str(sub.index) / "testbed"), errata)
    try:
        tools.complete_task("done", SOLUTIONS[f"{sub.folder}/{sub.index}"](tools))
    except MissingBinary as e:
        return SolveResult(task_id=sub.id, passed=False, seconds=time.perf_counter() - start, failures=[str(e)])
    report = evaluate(sub, tools.testbed, errata)
    return SolveResult(task_id=sub.id, passed=report.passed, seconds=time.perf_counter() - start,
                       failures=report.failures())


def runnable(task_id: str) -> bool:
    """True when the system binaries the solution needs are installed."""
    return all(available(b) for b in NEEDS[task_id])


def solve(ids: list[str] | None = None, errata: Errata = "corrected", workdir: Path | None = None,
          skip_missing_binaries: bool = True) -> list[SolveResult]:
    """Run reference solutions (all by default) and report each one's success."""
    chosen = [i.removeprefix("officebench/") for i in ids] if ids else list(SOLUTIONS)
    unknown = [i for i in chosen if i not in SOLUTIONS]
    if unknown:
        raise ValueError(f"no reference solution for {', '.join(unknown)}; available: {', '.join(SOLUTIONS)}")
    if skip_missing_binaries:
        chosen = [i for i in chosen if runnable(i)]
    with tempfile.TemporaryDirectory(prefix="mnm-ob-solve-") as tmp:
        root = Path(workdir) if workdir else Path(tmp)
        return [run_solution(i, root, errata) for i in tqdm(chosen, desc="officebench solve")]
