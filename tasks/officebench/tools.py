"""The agent's office tools: plain Python functions rooted at one episode's testbed.

``OfficeTools(testbed, errata)`` holds the 20 tools of the reference implementation plus
``complete_task``; each method's docstring is its tool documentation. File paths are used as
given (relative paths resolve against the process working directory, so the agent should join
them to ``data_path``); calendars live in ``<testbed>/calendar/<user>.ics`` and mail in
``<testbed>/emails/<user>/<subject>.eml``. Misuse returns the tool's documented error string.

``errata="original"`` reproduces the released tools' quirks; ``"corrected"`` fixes them:

- ``word/excel_convert_to_pdf``: original writes ``<pdf dir>/<input stem>.pdf`` ignoring the
  requested name (as upstream, whose tool docs did not say so either); corrected writes the
  requested file.
- ``excel_set_cell``: original blanks any value equal to ``True`` (so ``1``) and stores strings as
  strings; corrected stores the value, turning numeric strings into numbers.
- ``list_events``: original creates an empty ``<user>.ics`` when there is none; corrected does not.
- ``delete_event``: original always fails; corrected deletes the events with that summary.
- ``send_email``: corrected replaces ``/`` in the subject's file name (original fails).

``bind`` / ``preload`` are the workspace entry points (see :class:`agent.episode.ToolSpec`).
"""

from __future__ import annotations

import inspect
import os
import shutil
import textwrap
import warnings
from collections.abc import Callable
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Literal

import openpyxl
from docx import Document
from icalendar import Calendar, Event

from tasks.officebench import readers
from tasks.officebench.system import libreoffice_to_pdf, require
from tasks.officebench.testbed import fresh_testbed

Errata = Literal["original", "corrected"]
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"

APPS: dict[str, tuple[str, ...]] = {
    "word": ("word_read_file", "word_create_new_file", "word_write_to_file", "word_convert_to_pdf"),
    "excel": ("excel_read_file", "excel_set_cell", "excel_delete_cell", "excel_create_new_file",
              "excel_convert_to_pdf"),
    "pdf": ("pdf_read_file", "pdf_convert_to_image", "pdf_convert_to_word", "image_convert_to_pdf"),
    "ocr": ("ocr_recognize_text",),
    "calendar": ("create_event", "delete_event", "list_events"),
    "email": ("list_emails", "read_email", "send_email"),
}
ALL_TOOLS = tuple(name for names in APPS.values() for name in names)


def _missing(kind: str, path: str | Path) -> str:
    return f"The {kind} file path: {path} is not correct"


def _fitz() -> Any:
    """PyMuPDF, imported on first use (its SWIG bindings warn on import)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import fitz
    return fitz


def _number_or_text(value: Any) -> Any:
    """``'42'`` -> 42, ``'4.5'`` -> 4.5, anything else unchanged."""
    if not isinstance(value, str):
        return value
    for parse in (int, float):
        try:
            return parse(value.strip())
        except ValueError:
            pass
    return value


class OfficeTools:
    def __init__(self, testbed: str | Path, errata: Errata = "corrected") -> None:
        self.testbed = Path(testbed).resolve()
        self.errata = errata
        self.data_path = str(self.testbed / "data")
        self.answer: Any = None
        self.report: str | None = None

    def _calendar_file(self, user: str) -> Path:
        return self.testbed / "calendar" / f"{user}.ics"

    def _pdf_via_libreoffice(self, source: str, pdf_file_path: str) -> bool | str:
        try:
            made = libreoffice_to_pdf(source, os.path.dirname(os.path.abspath(pdf_file_path)))
        except RuntimeError as e:
            return f"Failed: {e}"
        if self.errata == "corrected" and made != Path(pdf_file_path).resolve():
            shutil.move(made, pdf_file_path)
        return True

    # ---- Word

    def word_read_file(self, file_path: str) -> str:
        """Read a Word (.docx) file and return its paragraph text, one paragraph per line.
        Tables, headers and footers are not shown."""
        if not os.path.isfile(file_path):
            return _missing("word", file_path)
        return readers.word_text(file_path)

    def word_create_new_file(self, file_path: str) -> bool:
        """Create an empty Word (.docx) file at file_path (overwrites an existing file). Returns True."""
        Document().save(file_path)
        return True

    def word_write_to_file(self, file_path: str, contents: str) -> bool:
        """Append `contents` as one new paragraph to the Word file at file_path, creating the file
        if it does not exist. Returns True."""
        doc = Document(file_path) if os.path.isfile(file_path) else Document()
        doc.add_paragraph(str(contents))
        doc.save(file_path)
        return True

    def word_convert_to_pdf(self, word_file_path: str, pdf_file_path: str) -> bool | str:
        """Convert a Word file to PDF with LibreOffice, saved as pdf_file_path. Returns True on success,
        else an error string."""
        if not os.path.isfile(word_file_path):
            return _missing("word", word_file_path)
        return self._pdf_via_libreoffice(word_file_path, pdf_file_path)

    # ---- Excel

    def excel_read_file(self, file_path: str, sheet_name: str | None = None) -> str:
        """Read an Excel (.xlsx) sheet (the active one unless sheet_name is given). Every cell is shown
        as `(row, col): value` (indices start at 1), one sheet row per line; empty cells show
        `[Empty Cell]` and formulas show their source (e.g. `=C3+1`)."""
        if not os.path.isfile(file_path):
            return _missing("excel", file_path)
        try:
            return readers.excel_render(file_path, sheet_name)
        except KeyError:
            return f"The sheet {sheet_name} does not exist in {file_path}"

    def excel_set_cell(self, file_path: str, text: Any, row_idx: int, column_idx: int,
                       sheet_name: str | None = None) -> bool | str:
        """Write `text` to the cell (row_idx, column_idx) (indices start at 1) of an Excel file,
        creating the workbook or the sheet if missing. Returns True, or an error string."""
        if self.errata == "original":
            if text == True:  # noqa: E712 - the released tool blanks every value equal to True
                text = ""
        else:
            text = _number_or_text(text)
        try:
            book = openpyxl.load_workbook(file_path) if os.path.isfile(file_path) else openpyxl.Workbook()
            if sheet_name is None:
                sheet = book.active
            elif sheet_name in book.sheetnames:
                sheet = book[sheet_name]
            else:
                sheet = book.create_sheet(title=sheet_name)
            sheet.cell(row=int(row_idx), column=int(column_idx), value=text)
            book.save(file_path)
        except Exception as e:  # the tool reports any failure to the agent as text
            return f"Failed to write text to {file_path}: {e}"
        return True

    def excel_delete_cell(self, file_path: str, row_idx: int, column_idx: int,
                          sheet_name: str | None = None) -> bool | str:
        """Clear the cell (row_idx, column_idx) (indices start at 1) of an Excel file. Rows are not
        shifted. Returns True, or an error string."""
        if not os.path.isfile(file_path):
            return _missing("excel", file_path)
        book = openpyxl.load_workbook(file_path)
        sheet = book.active if sheet_name is None else book[sheet_name]
        sheet.cell(row=int(row_idx), column=int(column_idx), value="")
        book.save(file_path)
        return True

    def excel_create_new_file(self, file_path: str) -> bool | str:
        """Create an empty Excel (.xlsx) file. Refuses (error string) if the file already exists."""
        if os.path.exists(file_path):
            return f"The file {file_path} already exists."
        openpyxl.Workbook().save(file_path)
        return True

    def excel_convert_to_pdf(self, excel_file_path: str, pdf_file_path: str) -> bool | str:
        """Convert an Excel file to PDF with LibreOffice (formulas are evaluated), saved as pdf_file_path.
        Returns True on success, else an error string."""
        if not os.path.isfile(excel_file_path):
            return _missing("excel", excel_file_path)
        return self._pdf_via_libreoffice(excel_file_path, pdf_file_path)

    # ---- PDF and images

    def pdf_read_file(self, file_path: str) -> str:
        """Extract the text of every page of a PDF file (no OCR: image-only pages give no text)."""
        if not os.path.isfile(file_path):
            return _missing("pdf", file_path)
        return readers.pdf_text(file_path)

    def pdf_convert_to_image(self, pdf_file_path: str, image_file_path: str, dpi: int = 72) -> str:
        """Render the FIRST page of a PDF to an image file (.png/.jpg) at `dpi` dots per inch
        (72 by default; use 300 to OCR small print). Returns 'Success' or 'Failed: <reason>'."""
        if not os.path.isfile(pdf_file_path):
            return _missing("pdf", pdf_file_path)
        from PIL import Image

        try:
            with _fitz().open(pdf_file_path) as doc:
                pix = doc[0].get_pixmap(dpi=int(dpi))
            Image.frombytes("RGB", (pix.width, pix.height), pix.samples).save(image_file_path)
        except Exception as e:  # reported to the agent
            return f"Failed: {e}"
        return "Success"

    def pdf_convert_to_word(self, pdf_file_path: str, word_file_path: str) -> str:
        """Convert a PDF's text to a Word file, one paragraph per text block. Returns 'Success' or
        'Failed: <reason>'."""
        if not os.path.isfile(pdf_file_path):
            return _missing("pdf", pdf_file_path)
        try:
            doc = Document()
            with _fitz().open(pdf_file_path) as pdf:
                for page in pdf:
                    for block in page.get_text("blocks"):
                        if block[6] == 0 and block[4].strip():
                            doc.add_paragraph(" ".join(block[4].split("\n")).strip())
            doc.save(word_file_path)
        except Exception as e:  # reported to the agent
            return f"Failed: {e}"
        return "Success"

    def image_convert_to_pdf(self, image_file_path: str, pdf_file_path: str) -> str:
        """Save an image as a one-page PDF (no text layer). Returns 'Success' or 'Failed: <reason>'."""
        if not os.path.isfile(image_file_path):
            return _missing("image", image_file_path)
        from PIL import Image

        try:
            with Image.open(image_file_path) as img:
                img.convert("RGB").save(pdf_file_path)
        except Exception as e:  # reported to the agent
            return f"Failed: {e}"
        return "Success"

    def ocr_recognize_text(self, file_path: str) -> str | None:
        """Recognise the English text in an image file with Tesseract OCR. Returns the text, or None
        on error. OCR output may contain recognition mistakes."""
        if not os.path.isfile(file_path):
            return _missing("image", file_path)
        require("tesseract")
        import pytesseract
        from PIL import Image

        try:
            with Image.open(file_path) as img:
                return pytesseract.image_to_string(img)
        except Exception:  # the released tool returns None on any OCR error
            return None

    # ---- Calendar

    def create_event(self, user: str, summary: str, time_start: str, time_end: str) -> bool | str:
        """Add an event to `user`'s calendar (<testbed>/calendar/<user>.ics). Times use the format
        '%Y-%m-%d %H:%M:%S' (local, no time zone). One user per call. Returns True, or an error string."""
        if not isinstance(user, str):
            return f"Failed to create a new event to {user}. Only support one user."
        try:
            start, end = datetime.strptime(time_start, TIME_FORMAT), datetime.strptime(time_end, TIME_FORMAT)
        except (TypeError, ValueError) as e:
            return f"Failed to create a new event to {user}'s calendar: {e}"
        path = self._calendar_file(user)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            cal = Calendar.from_ical(path.read_bytes())
        else:
            cal = Calendar()
            cal.add("prodid", "-//mnm OfficeBench//calendar//")
            cal.add("version", "2.0")
        event = Event()
        event.add("summary", summary)
        event.add("dtstart", start)
        event.add("dtend", end)
        event.add("dtstamp", datetime.now())
        event.add("description", "This is a test event")
        event.add("location", "Online")
        cal.add_component(event)
        path.write_bytes(cal.to_ical())
        return True

    def delete_event(self, user: str, summary: str) -> bool | str:
        """Delete every event whose summary equals `summary` from `user`'s calendar. Returns True if
        one was deleted, else an error string."""
        path = self._calendar_file(user)
        if self.errata == "original" or not path.exists():
            return f"Failed to delete the event {summary} from {user}'s calendar."
        cal = Calendar.from_ical(path.read_bytes())
        kept = [c for c in cal.subcomponents if not (c.name == "VEVENT" and str(c.get("summary")) == summary)]
        if len(kept) == len(cal.subcomponents):
            return f"Failed to delete the event {summary} from {user}'s calendar: no such event."
        cal.subcomponents[:] = kept
        path.write_bytes(cal.to_ical())
        return True

    def list_events(self, username: str) -> str:
        """List the events of `username`'s calendar (<testbed>/calendar/<username>.ics): Summary, Start,
        End, Description and Location of each."""
        path = self._calendar_file(username)
        if not path.exists():
            if self.errata == "corrected":
                return f"No events found for {username}."
            path.parent.mkdir(parents=True, exist_ok=True)
            empty = Calendar()
            empty.add("version", "2.0")
            path.write_bytes(empty.to_ical())
        cal = Calendar.from_ical(path.read_bytes())
        blocks = [f"Summary: {e.get('summary')}\nStart: {e.decoded('dtstart')}\nEnd: {e.decoded('dtend', '')}\n"
                  f"Description: {e.get('description')}\nLocation: {e.get('location')}\n"
                  for e in cal.walk("VEVENT")]
        return "\n".join(blocks) or f"No events found for {username}."

    # ---- E-mail

    def list_emails(self, username: str) -> str:
        """List `username`'s mails (<testbed>/emails/<username>/*.eml): ID (file name), From, To,
        Subject and the first 20 characters of the content."""
        return readers.email_listing(self.testbed / "emails" / username)

    def read_email(self, username: str, email_id: str) -> str:
        """Read one of `username`'s mails by its ID (the .eml file name; `.eml` is added if missing)."""
        name = email_id if email_id.endswith(".eml") else f"{email_id}.eml"
        path = self.testbed / "emails" / username / name
        if not path.is_file():
            return _missing("email", path)
        msg = readers.read_eml(path)
        return (f"From: {msg['From']}\nTo: {msg['To']}\nSubject: {msg['Subject']}\n"
                f"Content: {readers.email_body(msg)}")

    def send_email(self, sender: str, recipient: str, subject: str, content: str) -> str:
        """Send a mail from `sender` to ONE `recipient` (names; any @domain is dropped). The mail is
        saved as '<subject>.eml' in both the sender's and the recipient's mail folders."""
        if not isinstance(recipient, str):
            return f"Failed to send email to {recipient}. Only support one recipient."
        sender, recipient = sender.split("@")[0], recipient.split("@")[0]
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = f"{sender}@example.com", f"{recipient}@example.com", subject
        msg.set_content(content)
        name = subject.replace("/", "_") if self.errata == "corrected" else subject
        try:
            for user in (recipient, sender):
                folder = self.testbed / "emails" / user
                folder.mkdir(parents=True, exist_ok=True)
                (folder / f"{name}.eml").write_text(msg.as_string())
        except OSError:
            return "Error: Failed to send email."
        return f"Successfully sent email to {recipient}."

    # ---- End of episode

    def complete_task(self, report: str, answer: Any = None) -> str:
        """Finish the task: `report` says what was done; when the task asks a question, `answer` is the
        answer (written to data/answer.txt), else None. (In the workspace, its own complete_task ends the
        episode and grading writes the answer file.)"""
        self.report, self.answer = report, answer
        if answer is not None:
            write_answer(self.testbed, answer)
        return "Task completed."

    def namespace(self, names: tuple[str, ...] = ALL_TOOLS) -> dict[str, Callable[..., Any]]:
        return {name: getattr(self, name) for name in names}


def write_answer(testbed: str | Path, answer: Any) -> Path:
    """Write ``str(answer)`` to ``<testbed>/data/answer.txt`` (what question subtasks grade)."""
    path = Path(testbed) / "data" / "answer.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(str(answer))
    return path


def tool_doc(name: str) -> str:
    """``name(signature)`` followed by the tool's docstring."""
    full = inspect.signature(getattr(OfficeTools, name), eval_str=True)
    sig = full.replace(parameters=list(full.parameters.values())[1:])
    return f"{name}{sig}\n" + textwrap.indent(inspect.getdoc(getattr(OfficeTools, name)) or "", "    ")


def tool_docs(names: tuple[str, ...] = ALL_TOOLS) -> str:
    return "\n\n".join(tool_doc(n) for n in names)


def preload() -> None:
    """Nothing to share: every OfficeBench episode works on its own files."""
    return None


def bind(shared: Any, *, folder: str, errata: Errata = "corrected", episode_dir: str | None = None,
         tools: list[str] | None = None) -> dict[str, Any]:
    """Workspace entry point: copy a fresh testbed of task ``folder`` into ``<episode_dir>/testbed``
    (``episode_dir`` defaults to the worker's cwd) and return the tools rooted there, plus the
    string ``data_path``. Tools not in ``tools`` are left out (``None`` = all 20)."""
    root = Path(episode_dir) if episode_dir else Path.cwd()
    testbed = fresh_testbed(folder, root / "testbed")
    box = OfficeTools(testbed, errata)
    return {"data_path": box.data_path, **box.namespace(tuple(tools) if tools else ALL_TOOLS)}

