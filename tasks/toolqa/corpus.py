"""Cached access to a ToolQA corpus root, real or synthetic, in the real file formats.

Layout: ``<root>/data/external_corpus/<group>/...`` (see ``CORPUS_FILES``). A synthetic ToolQA-mini
root also holds ``manifest.json`` and its own ``questions/``. Tables are returned exactly as the
agent's ``load_db`` sees them: every cell a Python ``str`` in the string form pandas < 3 gave with
``astype(str)`` (NaN -> ``'nan'``, floats by ``repr`` such as ``'1752.0'``, bools ``'True'``, None
-> ``'None'``, dicts by their repr). That conversion is done explicitly so it does not change
with pandas 3, whose ``astype(str)`` keeps NaN as a float.
"""

from __future__ import annotations

import json
import pickle
import warnings
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from core.errors import DataError
from core.settings import get_settings
from core.store import read_jsonl
from tasks.toolqa.questions import TABLE_GROUPS, check_group

CORPUS_FILES: dict[str, tuple[str, ...]] = {
    "flights": ("flights/Combined_Flights_2022.csv",),
    "coffee": ("coffee/coffee_price.csv",),
    "yelp": ("yelp/yelp_academic_dataset_business.json",),
    "airbnb": ("airbnb/Airbnb_Open_Data.csv",),
    "dblp": tuple(f"dblp/{name}.pkl" for name in (
        "paper_net", "author_net", "title2id_dict", "author2id_dict", "id2author_dict", "id2title_dict")),
    "agenda": ("agenda/agenda_descriptions_merged.jsonl",),
}
AGENDA_EVENTS = "agenda/agenda_events.jsonl"
CHROMA_DIR = "data/chroma_db/agenda"

DblpData = tuple[nx.DiGraph, nx.Graph, dict, dict, dict, dict]


def _cell_str(value: Any) -> str:
    if isinstance(value, float | np.floating):
        return repr(float(value))
    return str(value)


def _column_str(col: pd.Series) -> np.ndarray:
    """Cell strings of one column; equal cells share one ``str`` object (memory on big tables)."""
    if col.dtype.kind in "fiub":  # numeric or bool: factorize is exact and fast
        codes, uniques = pd.factorize(col, use_na_sentinel=False)
        forms = np.array([_cell_str(u) for u in uniques], dtype=object)
        return forms[codes] if len(codes) else np.array([], dtype=object)
    memo: dict[tuple[type, Any], str] = {}
    out = np.empty(len(col), dtype=object)
    for i, value in enumerate(col.to_numpy(dtype=object)):
        try:
            out[i] = memo.setdefault((type(value), value), _cell_str(value)) if value == value else "nan"
        except TypeError:  # unhashable (yelp dicts)
            out[i] = _cell_str(value)
    return out


def stringify(df: pd.DataFrame) -> pd.DataFrame:
    """Every cell as a ``str`` in pandas-2 ``astype(str)`` form, in object columns."""
    return pd.DataFrame({name: pd.Series(_column_str(col), index=df.index, dtype=object)
                         for name, col in df.items()}, index=df.index)


class Corpus:
    """A ToolQA corpus root with lazily loaded, cached tables, graphs and agenda data."""

    def __init__(self, root: str | Path | None = None) -> None:
        if root is None:
            root = get_settings().toolqa_path
            if root is None:
                raise DataError("no ToolQA corpus: set TOOLQA_PATH or pass a corpus root")
        self.root = Path(root)
        if not self.root.is_dir():
            raise DataError("ToolQA corpus root not found", path=str(self.root))
        self.base = self.root / "data" / "external_corpus"
        if not self.base.is_dir():
            raise DataError("not a ToolQA corpus root (data/external_corpus/ missing)", path=str(self.base))
        self._tables: dict[str, pd.DataFrame] = {}
        self._dblp: DblpData | None = None
        self._events: list[dict] | None = None
        self._documents: list[str] | None = None

    def __repr__(self) -> str:
        return f"Corpus({str(self.root)!r})"

    @property
    def manifest(self) -> dict | None:
        """The synthetic root's manifest (seed, profile, row counts, sha256), or None for the real corpus."""
        path = self.root / "manifest.json"
        return json.loads(path.read_text()) if path.exists() else None

    @property
    def synthetic(self) -> bool:
        return (self.root / "manifest.json").exists()

    def path(self, relative: str) -> Path:
        """``data/external_corpus/<relative>``, which must exist."""
        p = self.base / relative
        if not p.exists():
            raise DataError("ToolQA corpus file missing", path=str(p))
        return p

    def check(self, groups: tuple[str, ...] | list[str]) -> None:
        """Raise on the first missing file of ``groups``."""
        for group in groups:
            for rel in CORPUS_FILES[check_group(group)]:
                self.path(rel)

    # -- tables -------------------------------------------------------------------------------
    def table(self, group: str) -> pd.DataFrame:
        """The group's table with every cell a string (cached; treat as read-only)."""
        if group not in TABLE_GROUPS:
            raise DataError(f"{group!r} is not a table group; expected one of {', '.join(TABLE_GROUPS)}")
        if group not in self._tables:
            self._tables[group] = stringify(self._read_table(group))
        return self._tables[group]

    def _read_table(self, group: str) -> pd.DataFrame:
        path = self.path(CORPUS_FILES[group][0])
        try:
            if group == "yelp":
                return pd.DataFrame([obj for _, obj in read_jsonl(path)])
            with warnings.catch_warnings():  # mixed-type columns (airbnb license): parsed as the reference does
                warnings.simplefilter("ignore", pd.errors.DtypeWarning)
                return pd.read_csv(path)
        except (ValueError, pd.errors.ParserError) as e:
            raise DataError(f"unreadable table: {e}", path=str(path)) from None

    # -- dblp ---------------------------------------------------------------------------------
    def dblp(self) -> DblpData:
        """``(paper_net, author_net, title2id, author2id, id2author, id2title)`` (cached)."""
        if self._dblp is None:
            loaded = []
            for rel in CORPUS_FILES["dblp"]:
                path = self.path(rel)
                try:
                    with open(path, "rb") as f:
                        loaded.append(pickle.load(f))
                except (pickle.UnpicklingError, EOFError, AttributeError, ImportError) as e:
                    raise DataError(f"unreadable pickle: {e}", path=str(path)) from None
            paper_net, author_net, title2id, author2id, id2author, id2title = loaded
            self._dblp = (paper_net, author_net, title2id, author2id, id2author, id2title)
        return self._dblp

    # -- agenda -------------------------------------------------------------------------------
    def agenda_documents(self) -> list[str]:
        """The agenda documents (field ``event`` of each line), in file order (cached)."""
        if self._documents is None:
            path = self.path(CORPUS_FILES["agenda"][0])
            self._documents = [str(_require(obj, "event", path, n)) for n, obj in read_jsonl(path)]
        return self._documents

    def agenda_events(self) -> list[dict]:
        """The raw agenda events (event, start_time, end_time, location, person, date, id) (cached)."""
        if self._events is None:
            path = self.path(AGENDA_EVENTS)
            keys = ("event", "start_time", "end_time", "location", "person", "date", "id")
            self._events = [{k: _require(obj, k, path, n) for k in keys} for n, obj in read_jsonl(path)]
        return self._events

    def chroma_dir(self) -> Path | None:
        """The real corpus's chromadb<0.4 agenda store, when present."""
        p = self.root / CHROMA_DIR
        return p if (p / "chroma-embeddings.parquet").exists() else None


def _require(obj: dict, key: str, path: Path, line: int) -> Any:
    if key not in obj:
        raise DataError("missing field", path=str(path), line=line, field=key)
    return obj[key]
