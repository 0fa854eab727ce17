"""The sample task's tools. A module of their own with no heavy imports, because the workspace
server imports it before forking each episode's worker: what it imports makes every fork slower."""

from __future__ import annotations

from collections.abc import Callable

PRICES = {"apple": 0.5, "pear": 0.75, "mango": 1.8}


def bind(shared: object = None) -> dict[str, Callable]:
    """Tools of the sample task (the workspace calls this in each episode's worker)."""

    def list_items() -> list[str]:
        """List the items that have a price."""
        return sorted(PRICES)

    def get_price(item: str) -> float:
        """Return the unit price of ``item`` in dollars; KeyError for an unknown item."""
        if item not in PRICES:
            raise KeyError(f"unknown item {item!r}; known items: {', '.join(sorted(PRICES))}")
        return PRICES[item]

    return {"list_items": list_items, "get_price": get_price}
