"""Helpers shared by the table groups (flights, coffee, airbnb, yelp).

Answers read ``corpus.table(group)``, the all-string frame that ``load_db`` gives the agent, so cells
are strings (``'nan'`` for missing values) and filters compare strings, as ``data_filter`` does.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import pandas as pd

from tasks.toolqa.template import GuardedTemplate


class TableTemplate(GuardedTemplate):
    """A guarded template over the group's own table."""

    def table(self, corpus: Any) -> pd.DataFrame:
        return corpus.table(self.group)


def pick(values: pd.DataFrame | pd.Series, rng: random.Random) -> Any:
    """A uniformly random row (or cell) by position."""
    return values.iloc[rng.randrange(len(values))]


def select(table: pd.DataFrame, conditions: dict[str, str]) -> pd.DataFrame:
    """Rows whose string cells equal ``conditions``, in table order (positions narrow column by column,
    so a big table is copied once, at the end)."""
    positions = np.arange(len(table))
    for column, value in conditions.items():
        positions = positions[table[column].to_numpy()[positions] == value]
    return table.iloc[positions]


def floats(values: Any) -> list[float]:
    """The non-NaN numbers among string cells, in row order."""
    return [float(v) for v in values if v != "nan"]


def prices(values: Any) -> list[float]:
    """Numbers of price strings like '$1,146 ' (NaN prices skipped)."""
    return [float(p.replace("$", "").replace(",", "").split()[0]) for p in values if p != "nan"]


def filterable(value: str) -> bool:
    """A value that ``data_filter`` can match exactly (no separator or operator inside)."""
    return bool(value) and "; " not in value and not set("=<>") & set(value) and value == value.strip()


def filter_argument(conditions: dict[str, str]) -> str:
    """The ``data_filter`` argument for equality conditions."""
    return "; ".join(f"{column}={value}" for column, value in conditions.items())


class RowsAggregate:
    """Mixin: the answer is computed from the rows the slots select (``rows``), and the expert's
    last step does the same in code (``finish``); an empty selection gives no answer."""

    def answer(self, corpus: Any, slots: dict[str, str]) -> str:
        rows = self.rows(corpus, slots)  # type: ignore[attr-defined] (the template's own selection)
        return self.compute(rows) if len(rows) else ""

    def compute(self, rows: pd.DataFrame) -> str:
        raise NotImplementedError

    def finish(self) -> str:
        """Solution code computing ``answer`` from the selected rows."""
        raise NotImplementedError
