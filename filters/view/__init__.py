"""`mnm view`: runs, episodes, reviews with their corrections, and datasets in one HTML page.

:mod:`filters.view.data` gathers what is shown with the project's readers; :mod:`filters.view.page`
renders the self-contained page (or serves it on localhost, details loaded on demand).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from filters.view.data import ViewData, gather
from filters.view.page import make_server, render, write_page

__all__ = ["ViewData", "gather", "make_server", "render", "write_page", "view"]


def view(paths: Sequence[str | Path], out: str | Path | None = None, tokenizer: str | Path | None = None) -> Path:
    """Write the page for ``paths`` to ``out`` (default ``<first path>/view.html``); return its path."""
    out = Path(out) if out else Path(paths[0]) / "view.html"
    return write_page(gather(paths, tokenizer), out, ", ".join(Path(p).name for p in paths))
