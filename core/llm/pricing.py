"""What LLM calls cost: a price table (``prices.yaml``, USD per 1M tokens) and a cost function.

A model missing from the table costs 0; a warning says so once per model name.
"""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path

import yaml
from pydantic import BaseModel, Field

from core.errors import DataError
from core.trajectory import Usage

log = logging.getLogger(__name__)

PRICES_PATH = Path(__file__).with_name("prices.yaml")


class Price(BaseModel):
    input: float = Field(ge=0, description="USD per 1M input tokens")
    output: float = Field(ge=0, description="USD per 1M output tokens")
    aliases: list[str] = Field(default_factory=list)


@cache
def price_table(path: Path = PRICES_PATH) -> dict[str, Price]:
    """Every key and alias (lower case) mapped to its price."""
    raw = yaml.safe_load(path.read_text())
    table: dict[str, Price] = {}
    for name, entry in raw.items():
        try:
            price = Price.model_validate(entry)
        except ValueError as exc:
            raise DataError(f"bad price entry: {exc}", path=str(path), field=name) from exc
        for key in [name, *price.aliases]:
            table[key.lower()] = price
    return table


@cache
def price_of(model: str) -> Price | None:
    """The price for ``model``: exact name or alias, else the longest one it starts with."""
    table = price_table()
    name = model.lower()
    if name in table:
        return table[name]
    prefixes = [key for key in table if name.startswith(key)]
    if prefixes:
        return table[max(prefixes, key=len)]
    log.warning("no price known for model %r; its calls are counted as free", model)
    return None


def cost_usd(model: str, input_tokens: int, output_tokens: int) -> float:
    price = price_of(model)
    if price is None:
        return 0.0
    return (input_tokens * price.input + output_tokens * price.output) / 1e6


def priced(model: str, usage: Usage) -> Usage:
    """``usage`` with its ``cost_usd`` computed from the token counts."""
    return usage.model_copy(update={"cost_usd": cost_usd(model, usage.input_tokens, usage.output_tokens)})
