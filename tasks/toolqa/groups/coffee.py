"""ToolQA coffee: the synthetic ``coffee_price.csv`` and the 21 coffee question templates.

The table has the real columns ``Date, Open, High, Low, Close, Volume, Currency``: trading days only
(weekends and holidays missing, so "the previous day" is the previous row), prices as floats in
0.05 ticks that stringify like ``'190.5'``, integer volumes with a few tiny-volume days.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import re
from pathlib import Path
from typing import Any

import pandas as pd

from core.store import write_atomic
from tasks.toolqa.groups._tables import TableTemplate, pick
from tasks.toolqa.template import ExpertStep, Slots, Template

FILE = "coffee/coffee_price.csv"
PROFILES = {"tiny": 300, "standard": 5750}  # trading days from 2000-01-03
HOLIDAYS = ((1, 1), (1, 17), (2, 21), (5, 30), (7, 4), (9, 5), (11, 24), (12, 25))


# -- generator ----------------------------------------------------------------------------------
def _trading_days(rng: random.Random, n: int) -> list[dt.date]:
    days, day = [], dt.date(2000, 1, 3)
    while len(days) < n:
        if day.weekday() < 5 and (day.month, day.day) not in HOLIDAYS and rng.random() > 0.004:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def generate(root: Path, profile: str, rng: random.Random) -> dict[str, int]:
    """Write ``<root>/data/external_corpus/coffee/coffee_price.csv``: a geometric walk between 40 and
    310 with regime peaks, in 0.05 ticks; returns its row count."""
    days = _trading_days(rng, PROFILES[profile])
    price, target, regime_end = 100.0, 100.0, 0
    rows = []
    for i, day in enumerate(days):
        if i >= regime_end:  # a new regime: a slump, a plateau or a peak, lasting 0.5-3 years
            target = rng.choice((rng.uniform(45, 90), rng.uniform(90, 160), rng.uniform(160, 300)))
            regime_end = i + rng.randint(120, 750)
        sigma = 0.012 + 0.012 * (price > 180)
        open_ = price * math.exp(rng.gauss(0, 0.004))
        close = open_ * math.exp(0.004 * math.log(target / open_) + rng.gauss(0, sigma))
        close = min(310.0, max(40.0, close))
        ticks = [round(p * 20) for p in (open_, close)]
        if rng.random() < 0.01:  # a flat day: one price all day
            ticks[1] = ticks[0]
            high, low = ticks[0], ticks[0]
        else:
            high = max(ticks) + round(abs(rng.gauss(0, sigma / 2)) * price * 20)
            low = min(ticks) - round(abs(rng.gauss(0, sigma / 2)) * price * 20)
        level = 3000 + 12000 * i / 5750
        volume = rng.randint(1, 200) if rng.random() < 0.15 else int(rng.lognormvariate(math.log(level), 0.35))
        rows.append(dict(Date=day.isoformat(), Open=round(ticks[0] / 20, 2), High=round(high / 20, 2),
                         Low=round(low / 20, 2), Close=round(ticks[1] / 20, 2), Volume=volume, Currency="USD"))
        price = ticks[1] / 20
    frame = pd.DataFrame(rows)
    write_atomic(root / "data" / "external_corpus" / FILE, frame.to_csv(index=False))
    return {FILE: len(frame)}


# -- templates ------------------------------------------------------------------------------------
DAY = r"(?P<date>\d{4}-\d{2}-\d{2})"
SPAN = r"from (?P<start>\d{4}-\d{2}-\d{2}) to (?P<end>\d{4}-\d{2}-\d{2})"
START_END = r"from the start of (?P<start>\d{4}-\d{2}-\d{2}) to the end of (?P<end>\d{4}-\d{2}-\d{2})"


class CoffeeTemplate(TableTemplate):
    """A coffee question over the rows of one date or of a date range (both ends included)."""

    group = "coffee"
    columns: tuple[str, ...] = ()  # the columns the answer reads
    plan = ""  # what the second step computes, for its monologue

    def rows(self, corpus: Any, slots: Slots) -> pd.DataFrame:
        t = self.table(corpus)
        if "date" in slots:
            return t[t["Date"] == slots["date"]]
        return t[(t["Date"] >= slots["start"]) & (t["Date"] <= slots["end"])]

    def answer(self, corpus: Any, slots: Slots) -> str:
        rows = self.rows(corpus, slots)
        return self.compute({c: list(rows[c]) for c in self.columns}) if len(rows) else ""

    def compute(self, values: dict[str, list[str]]) -> str:
        """The answer from the string values of ``columns`` in row order."""
        raise NotImplementedError

    def finish(self) -> str:
        """Solution code computing ``answer`` from the lists ``<column>s`` (e.g. ``opens``) of strings."""
        raise NotImplementedError

    def argument(self, slots: Slots) -> str:
        return f"Date={slots['date']}" if "date" in slots else f"Date>={slots['start']}; Date<={slots['end']}"

    def when(self, slots: Slots) -> str:
        return f"on {slots['date']}" if "date" in slots else f"from {slots['start']} to {slots['end']}"

    def solution(self, slots: Slots) -> list[ExpertStep]:
        when = self.when(slots)
        reads = "\n".join(f"{c.lower()}s = get_value(rows, {c!r}).split(', ')" for c in self.columns)
        return [
            ExpertStep(f"I will load the coffee database, filter the trading days {when} (dates compare "
                       f"correctly as strings) and read {', '.join(self.columns)}.",
                       f"db = load_db('coffee')\nrows = data_filter(db, {self.argument(slots)!r})\n{reads}\n"
                       f"print(len(rows), {self.columns[0].lower()}s[:5])"),
            ExpertStep(f"The values are strings; I {self.plan} and give the answer in the requested format.",
                       f"{self.finish()}\nprint(answer)\ncomplete_task(f'Coffee {when}: {{answer}}', answer)"),
        ]


class DayTemplate(CoffeeTemplate):
    def draw(self, corpus: Any, rng: random.Random) -> Slots | None:
        return {"date": pick(self.table(corpus)["Date"], rng)}


class RangeTemplate(CoffeeTemplate):
    """Ranges of 20 days up to the whole table (log-uniform length), so answers need real computing."""

    from_first = False  # the real questions of this template all start at the first date of the table
    longest = 10**6

    def draw(self, corpus: Any, rng: random.Random) -> Slots | None:
        dates = self.table(corpus)["Date"]
        n = len(dates)
        length = int(math.exp(rng.uniform(math.log(20), math.log(min(self.longest, n - 1)))))
        start = 0 if self.from_first else rng.randrange(n - length)
        return {"start": dates.iloc[start], "end": dates.iloc[start + length]}


def _day_price(cls_name: str, column: str, word: str, type_: str, unseen: bool, example: str) -> type:
    """The five point lookups: one column's stored value on one date."""
    return type(cls_name, (DayTemplate,), dict(
        name=f"{type_.replace(' ', '-')}", type=type_, unseen=unseen, columns=(column,),
        pattern=re.compile(rf"What was the {word} of coffee on {DAY}\?"),
        wording=f"What was the {word} of coffee on {{date}}?",
        format_tip=f"Format tip: answer with the number as stored in the data, e.g. {example}.",
        plan=f"take the {column} value as it is stored",
        compute=lambda self, v, c=column: v[c][0],
        finish=lambda self, c=column: f"answer = {c.lower()}s[0]",
    ))


OpeningPrice = _day_price("OpeningPrice", "Open", "opening price", "opening price", True, "114.95")
LowestPrice = _day_price("LowestPrice", "Low", "lowest price", "lowest price", True, "275.0")
HighestPrice = _day_price("HighestPrice", "High", "highest price", "highest price", False, "58.6")
ClosingPrice = _day_price("ClosingPrice", "Close", "closing price", "closing price", False, "137.9")
Volume = _day_price("Volume", "Volume", "volume", "volume", True, "75")


class PercentageChange(DayTemplate):
    name, type = "percentage-change", "percentage change"
    pattern = re.compile(rf"What was the percentage change in coffee price on {DAY}, based on the difference "
                         r"between the opening and closing prices\?")
    wording = ("What was the percentage change in coffee price on {date}, based on the difference between the "
               "opening and closing prices?")
    format_tip = "Format tip: answer with a percentage with two decimals, e.g. 1.82% or -0.08%."
    columns, plan = ("Open", "Close"), "compute (close - open) / open * 100"

    def compute(self, v: dict[str, list[str]]) -> str:
        o, c = float(v["Open"][0]), float(v["Close"][0])
        return f"{(c - o) / o * 100:.2f}%"

    def finish(self) -> str:
        return "o, c = float(opens[0]), float(closes[0])\nanswer = f'{(c - o) / o * 100:.2f}%'"


class BearishBullish(DayTemplate):
    name, type = "bearish-or-bullish", "A or B"
    pattern = re.compile(rf"Was {DAY} a bearish or bullish day for coffee price\?")
    wording = "Was {date} a bearish or bullish day for coffee price?"
    format_tip = "Format tip: answer bullish or bearish."
    columns, plan = ("Open", "Close"), "call the day bullish if it closed above its opening price, else bearish"

    def compute(self, v: dict[str, list[str]]) -> str:
        return "bullish" if float(v["Close"][0]) > float(v["Open"][0]) else "bearish"

    def finish(self) -> str:
        return "answer = 'bullish' if float(closes[0]) > float(opens[0]) else 'bearish'"


class DayRange(DayTemplate):
    name, type = "day-range", "range of coffee price"
    pattern = re.compile(rf"What was the range of coffee price on {DAY}, based on the difference between the "
                         r"high and low prices\?+")  # one real question ends with '??'
    wording = ("What was the range of coffee price on {date}, based on the difference between the high and low "
               "prices?")
    format_tip = "Format tip: answer with two decimals, e.g. 2.50."
    columns, plan = ("High", "Low"), "subtract the low from the high"

    def compute(self, v: dict[str, list[str]]) -> str:
        return f"{float(v['High'][0]) - float(v['Low'][0]):.2f}"

    def finish(self) -> str:
        return "answer = f'{float(highs[0]) - float(lows[0]):.2f}'"


class PreviousDayChange(DayTemplate):
    name, type, unseen = "previous-day-change", "percentage change comparison", True
    pattern = re.compile(rf"What was the percentage change in coffee price on {DAY} compared to the previous day\?")
    wording = "What was the percentage change in coffee price on {date} compared to the previous day?"
    format_tip = "Format tip: answer with a percentage with one decimal, e.g. 0.3% or -2.2%."
    columns, plan = ("Close",), "compare the day's close (last row) with the previous trading day's close"

    def draw(self, corpus: Any, rng: random.Random) -> Slots | None:
        slots = super().draw(corpus, rng)
        return None if slots["date"] == self.table(corpus)["Date"].iloc[0] else slots

    def rows(self, corpus: Any, slots: Slots) -> pd.DataFrame:
        t = self.table(corpus)
        return t[t["Date"] <= slots["date"]].tail(2)

    def argument(self, slots: Slots) -> str:
        return f"Date<={slots['date']}"

    def when(self, slots: Slots) -> str:
        return f"up to {slots['date']}"

    def compute(self, v: dict[str, list[str]]) -> str:
        before, now = float(v["Close"][-2]), float(v["Close"][-1])
        return f"{(now - before) / before * 100:.1f}%"

    def finish(self) -> str:
        return ("before, now = float(closes[-2]), float(closes[-1])\n"
                "answer = f'{(now - before) / before * 100:.1f}%'")


class HighestInRange(RangeTemplate):
    name, type, unseen = "highest-in-range", "highest coffee price", True
    pattern = re.compile(rf"What was the highest coffee price {SPAN}\?")
    wording = "What was the highest coffee price from {start} to {end}?"
    format_tip = "Format tip: answer with the price followed by USD, e.g. 306.25 USD."
    columns, plan = ("High",), "take the maximum of the daily highs"

    def compute(self, v: dict[str, list[str]]) -> str:
        return f"{max(float(x) for x in v['High'])} USD"

    def finish(self) -> str:
        return "answer = f'{max(float(x) for x in highs)} USD'"


class LowestInRange(RangeTemplate):
    name, type = "lowest-in-range", "lowest coffee price"
    pattern = re.compile(rf"What was the lowest coffee price {SPAN}\?")
    wording = "What was the lowest coffee price from {start} to {end}?"
    format_tip = "Format tip: answer with the price followed by USD, e.g. 92.0 USD."
    columns, plan = ("Low",), "take the minimum of the daily lows"

    def compute(self, v: dict[str, list[str]]) -> str:
        return f"{min(float(x) for x in v['Low'])} USD"

    def finish(self) -> str:
        return "answer = f'{min(float(x) for x in lows)} USD'"


class AveragePrice(RangeTemplate):
    name, type = "average-price", "average coffee price"
    pattern = re.compile(rf"What was the average coffee price {SPAN}\?")
    wording = "What was the average coffee price from {start} to {end}?"
    format_tip = "Format tip: answer with one decimal followed by USD, e.g. 73.8 USD."
    columns, plan = ("Close",), "average the closing prices"

    def compute(self, v: dict[str, list[str]]) -> str:
        closes = [float(x) for x in v["Close"]]
        return f"{sum(closes) / len(closes):.1f} USD"

    def finish(self) -> str:
        return "values = [float(x) for x in closes]\nanswer = f'{sum(values) / len(values):.1f} USD'"


class PriceChange(RangeTemplate):
    name, type = "price-change", "coffee price change"
    pattern = re.compile(rf"How much did the coffee price change {START_END}\?")
    wording = "How much did the coffee price change from the start of {start} to the end of {end}?"
    format_tip = "Format tip: answer with one decimal followed by USD, e.g. -13.2 USD."
    columns, plan = ("Open", "Close"), "subtract the first day's opening price from the last day's closing price"

    def compute(self, v: dict[str, list[str]]) -> str:
        return f"{float(v['Close'][-1]) - float(v['Open'][0]):.1f} USD"

    def finish(self) -> str:
        return "answer = f'{float(closes[-1]) - float(opens[0]):.1f} USD'"


class PercentageIncrease(RangeTemplate):
    name, type = "percentage-increase", "percentage increase"
    pattern = re.compile(rf"What was the percentage increase in coffee price {START_END}\?")
    wording = "What was the percentage increase in coffee price from the start of {start} to the end of {end}?"
    format_tip = "Format tip: answer with a percentage with one decimal, e.g. 21.0% or -8.3%."
    columns = ("Open", "Close")
    plan = "compare the last day's closing price with the first day's opening price, in percent"

    def compute(self, v: dict[str, list[str]]) -> str:
        first, last = float(v["Open"][0]), float(v["Close"][-1])
        return f"{(last - first) / first * 100:.1f}%"

    def finish(self) -> str:
        return ("first, last = float(opens[0]), float(closes[-1])\n"
                "answer = f'{(last - first) / first * 100:.1f}%'")


class GreatestRangeDay(RangeTemplate):
    name, type = "greatest-range-day", "day with the greatest price change"
    pattern = re.compile(rf"On which date {SPAN} was the difference between the highest and lowest coffee prices "
                         r"the greatest\?")
    wording = ("On which date from {start} to {end} was the difference between the highest and lowest coffee "
               "prices the greatest?")
    format_tip = "Format tip: answer with the date as YYYY-MM-DD."
    columns, plan = ("Date", "High", "Low"), "find the first date with the largest high - low"

    def compute(self, v: dict[str, list[str]]) -> str:
        spans = [float(h) - float(lo) for h, lo in zip(v["High"], v["Low"], strict=True)]
        return v["Date"][spans.index(max(spans))]

    def finish(self) -> str:
        return ("spans = [float(h) - float(l) for h, l in zip(highs, lows)]\n"
                "answer = dates[spans.index(max(spans))]")


class AverageVolume(RangeTemplate):
    name, type = "average-volume", "average daily volume"
    pattern = re.compile(rf"What was the average daily volume of coffee traded {SPAN}\?")
    wording = "What was the average daily volume of coffee traded from {start} to {end}?"
    format_tip = "Format tip: answer with one decimal, e.g. 7455.1."
    columns, plan = ("Volume",), "average the daily volumes"

    def compute(self, v: dict[str, list[str]]) -> str:
        volumes = [float(x) for x in v["Volume"]]
        return f"{sum(volumes) / len(volumes):.1f}"

    def finish(self) -> str:
        return "values = [float(x) for x in volumes]\nanswer = f'{sum(values) / len(values):.1f}'"


class HighestIncreaseDay(RangeTemplate):
    name, type = "highest-increase-day", "day with the highest increase"
    pattern = re.compile(rf"On which date {SPAN} did the coffee price have the highest increase compared to the "
                         r"previous day\?")
    wording = ("On which date from {start} to {end} did the coffee price have the highest increase compared to "
               "the previous day?")
    format_tip = "Format tip: answer with the date as YYYY-MM-DD."
    columns = ("Date", "Close")
    plan = "compare each close with the previous trading day's close inside the range and take the first largest rise"

    def compute(self, v: dict[str, list[str]]) -> str:
        c = [float(x) for x in v["Close"]]
        rises = [c[i] - c[i - 1] for i in range(1, len(c))]
        return v["Date"][1 + rises.index(max(rises))] if rises else ""

    def finish(self) -> str:
        return ("c = [float(x) for x in closes]\nrises = [c[i] - c[i - 1] for i in range(1, len(c))]\n"
                "answer = dates[1 + rises.index(max(rises))]")


class TimesIncreased(RangeTemplate):
    name, type, unseen = "times-increased", "times of coffee price", True
    pattern = re.compile(rf"How many times {SPAN} did the coffee price increase compared to the previous day\?")
    wording = "How many times from {start} to {end} did the coffee price increase compared to the previous day?"
    format_tip = "Format tip: answer with an integer, e.g. 473."
    columns, plan = ("Close",), "count the days whose close is above the previous trading day's close in the range"

    def compute(self, v: dict[str, list[str]]) -> str:
        c = [float(x) for x in v["Close"]]
        return str(sum(1 for i in range(1, len(c)) if c[i] > c[i - 1]))

    def finish(self) -> str:
        return ("c = [float(x) for x in closes]\n"
                "answer = str(sum(1 for i in range(1, len(c)) if c[i] > c[i - 1]))")


class PriceRange(RangeTemplate):
    name, type = "price-range", "coffee price range"
    pattern = re.compile(rf"What was the difference between the highest and the lowest coffee price {SPAN}\?")
    wording = "What was the difference between the highest and the lowest coffee price from {start} to {end}?"
    format_tip = "Format tip: answer with one decimal followed by USD, e.g. 264.8 USD."
    columns, plan, from_first = ("High", "Low"), "subtract the lowest low from the highest high", True

    def compute(self, v: dict[str, list[str]]) -> str:
        return f"{max(float(x) for x in v['High']) - min(float(x) for x in v['Low']):.1f} USD"

    def finish(self) -> str:
        return "answer = f'{max(float(x) for x in highs) - min(float(x) for x in lows):.1f} USD'"


class HigherCloseDays(RangeTemplate):
    name, type = "higher-close-days", "day with the higher close price"
    pattern = re.compile(rf"On how many days {SPAN} did the coffee price close higher than the opening price\?")
    wording = "On how many days from {start} to {end} did the coffee price close higher than the opening price?"
    format_tip = "Format tip: answer with an integer, e.g. 694."
    columns, plan, from_first = ("Open", "Close"), "count the days that closed above their opening price", True

    def compute(self, v: dict[str, list[str]]) -> str:
        return str(sum(1 for o, c in zip(v["Open"], v["Close"], strict=True) if float(c) > float(o)))

    def finish(self) -> str:
        return "answer = str(sum(1 for o, c in zip(opens, closes) if float(c) > float(o)))"


class AveragePercentageChange(RangeTemplate):
    name, type = "average-percentage-change", "average percentage change"
    pattern = re.compile(rf"What was the average percentage change in coffee price {START_END}\?")
    wording = ("What was the average percentage change in coffee price from the start of {start} to the end of "
               "{end}?")
    format_tip = "Format tip: answer with a percentage with one decimal, e.g. 0.1% or -0.2%."
    columns, plan = ("Open", "Close"), "average the daily (close - open) / open * 100"
    longest, rare = 150, ("0.0%", "-0.0%")  # long ranges average to about 0 %

    def compute(self, v: dict[str, list[str]]) -> str:
        changes = [(float(c) - float(o)) / float(o) * 100 for o, c in zip(v["Open"], v["Close"], strict=True)]
        return f"{sum(changes) / len(changes):.1f}%"

    def finish(self) -> str:
        return ("changes = [(float(c) - float(o)) / float(o) * 100 for o, c in zip(opens, closes)]\n"
                "answer = f'{sum(changes) / len(changes):.1f}%'")


TEMPLATES: list[Template] = [
    OpeningPrice(), LowestPrice(), HighestPrice(), ClosingPrice(), Volume(), PercentageChange(), BearishBullish(),
    DayRange(), HighestInRange(), LowestInRange(), AveragePrice(), PriceChange(), PreviousDayChange(),
    GreatestRangeDay(), AverageVolume(), HighestIncreaseDay(), TimesIncreased(), PercentageIncrease(),
    PriceRange(), HigherCloseDays(), AveragePercentageChange(),
]
