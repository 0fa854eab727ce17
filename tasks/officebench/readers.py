"""Text renderings of office files, shared by the agent's tools and the evaluator.

The evaluator grades what the tools show, so both must render a file identically: Excel as
``(row, col): value`` cells (tab after each, newline after each row, ``[Empty Cell]`` for None,
formulas as their source), Word as paragraph text only, PDF through PyPDF2's ``extract_text``.
"""

from __future__ import annotations

import warnings
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import openpyxl
from docx import Document

with warnings.catch_warnings():  # PyPDF2 3.0.1 is pinned for extraction fidelity; it warns on import
    warnings.simplefilter("ignore", DeprecationWarning)
    from PyPDF2 import PdfReader


def excel_render(path: str | Path, sheet_name: str | None = None) -> str:
    book = openpyxl.load_workbook(path)
    sheet = book.active if sheet_name is None else book[sheet_name]
    lines = []
    for row in sheet.iter_rows():
        cells = (f"({c.row}, {c.column}): {'[Empty Cell]' if c.value is None else c.value}\t" for c in row)
        lines.append("".join(cells))
    return "".join(line + "\n" for line in lines)


def word_text(path: str | Path) -> str:
    return "\n".join(p.text for p in Document(str(path)).paragraphs)


def pdf_text(path: str | Path) -> str:
    return "".join(page.extract_text() for page in PdfReader(str(path)).pages)


def email_body(msg: EmailMessage) -> str:
    """Plain-text and HTML parts, joined by newlines."""
    if not msg.is_multipart():
        return msg.get_payload(decode=True).decode(msg.get_content_charset() or "utf-8", errors="replace")
    parts = [p for p in msg.iter_parts() if p.get_content_type() in ("text/plain", "text/html")]
    return "\n".join(p.get_payload(decode=True).decode(p.get_content_charset() or "utf-8", errors="replace")
                     for p in parts)


def read_eml(path: str | Path) -> EmailMessage:
    return BytesParser(policy=policy.default).parsebytes(Path(path).read_bytes())


def email_listing(folder: str | Path, content_chars: int | None = 20) -> str:
    """ID/From/To/Subject/Content blocks for every ``*.eml`` in ``folder`` (sorted by name);
    ``content_chars=None`` shows the full content, as the evaluator does."""
    blocks = []
    for path in sorted(Path(folder).glob("*.eml")):
        msg = read_eml(path)
        body = email_body(msg)
        content = body if content_chars is None else body[:content_chars] + "..."
        blocks.append(f"Email ID: {path.name}\nFrom: {msg['From']}\nTo: {msg['To']}\nSubject: {msg['Subject']}\n"
                      f"Content: {content}\n" + "-" * 50 + "\n")
    return "".join(blocks) or "No emails found."
