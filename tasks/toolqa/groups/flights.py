"""ToolQA flights: the 20 flight question templates (the corpus generator is ``flights_corpus``).

A question's flight id is the *marketing* ``IATA_Code_Marketing_Airline`` +
``Flight_Number_Marketing_Airline``; answers read the all-string table as the agent's tools do.
"""

from __future__ import annotations

import math
import random
import re
from typing import Any

import numpy as np
import pandas as pd

from tasks.toolqa.groups._tables import RowsAggregate, TableTemplate, filter_argument, floats, select
from tasks.toolqa.groups.flights_corpus import generate
from tasks.toolqa.template import ExpertStep, Slots, Template

__all__ = ["TEMPLATES", "generate"]

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _hm(value: str) -> str:
    hhmm = int(float(value))
    return f"{hhmm // 100}:{hhmm % 100:02d}"


FLIGHT = r"(?P<carrier>[A-Z0-9]{2})(?P<number>\d+)"
ROUTE = r"from (?P<origin>[A-Z]{3}) to (?P<dest>[A-Z]{3})"
DATE = r"(?P<date>\d{4}-\d{2}-\d{2})"
AIRLINE = r"(?P<airline>.+)"
MINUTES_TIP = "Format tip: answer with a whole number of minutes, e.g. 48."
CLOCK_TIP = "Format tip: answer with the time as H:MM on a 24-hour clock (hours without a leading zero), e.g. 7:51 or 13:18."


COLUMN_OF = dict(carrier="IATA_Code_Marketing_Airline", number="Flight_Number_Marketing_Airline", airline="Airline",
                 origin="Origin", dest="Dest", date="FlightDate")  # slot name -> the column it equals
ONE_LEG = ("carrier", "number", "origin", "dest", "date")
ALL_LEGS = ("carrier", "number", "date")


def _load_filter(cond: dict[str, str], show: str) -> str:
    return (f"db = load_db('flights')\nrows = data_filter(db, {filter_argument(cond)!r})\n"
            f"print(get_value(rows, {show!r}))")


class FlightTemplate(TableTemplate):
    group = "flights"
    keys: tuple[str, ...] = ()  # slot names, each equal to one column (``COLUMN_OF``) of the rows asked about

    def conditions(self, slots: Slots) -> dict[str, str]:
        return {COLUMN_OF[k]: slots[k] for k in self.keys}

    def slots_of(self, row: pd.Series) -> Slots:
        return {k: row[COLUMN_OF[k]] for k in self.keys}

    def rows(self, corpus: Any, slots: Slots) -> pd.DataFrame:
        """The rows a question is about, in table order."""
        return select(self.table(corpus), self.conditions(slots))

    def row(self, corpus: Any, rng: random.Random, **required: str) -> pd.Series | None:
        """A random row; ``required`` = column -> 'set' (not NaN) or an exact value."""
        t = self.table(corpus)
        keep = np.ones(len(t), dtype=bool)
        for column, want in required.items():
            values = t[column].to_numpy()
            keep &= (values != "nan") if want == "set" else (values == want)
        positions = np.flatnonzero(keep)
        return t.iloc[positions[rng.randrange(len(positions))]] if len(positions) else None


class PointLookup(FlightTemplate):
    """One flight on one day, identified by marketing id, route and date; the answer reads its row."""

    keys = ONE_LEG
    columns: tuple[str, ...] = ()  # columns the answer needs (non-NaN)
    what = ""  # the monologue's description of the computation

    def required(self, rng: random.Random) -> dict[str, str]:
        """The row requirements of a draw (see ``FlightTemplate.row``)."""
        return dict.fromkeys(self.columns, "set")

    def draw(self, corpus: Any, rng: random.Random) -> Slots | None:
        r = self.row(corpus, rng, **self.required(rng))
        if r is None:
            return None
        slots = self.slots_of(r)
        return slots if len(self.rows(corpus, slots)) == 1 else None

    def answer(self, corpus: Any, slots: Slots) -> str:
        rows = self.rows(corpus, slots)
        if not len(rows) or (rows.iloc[0][list(self.columns)] == "nan").any():
            return ""
        return self.compute(rows.iloc[0])

    def compute(self, row: pd.Series) -> str:
        raise NotImplementedError

    def finish(self) -> str:
        """Code that computes ``answer`` from the filtered ``rows``."""
        raise NotImplementedError

    def solution(self, slots: Slots) -> list[ExpertStep]:
        flight = slots["carrier"] + slots["number"]
        where = f" from {slots['origin']} to {slots['dest']}" if "origin" in self.keys else ""
        cond = self.conditions(slots)
        return [
            ExpertStep(f"I will load the flights database and filter flight {flight}{where} on {slots['date']} by "
                       f"its marketing carrier code and flight number, then look at {' and '.join(self.columns)}.",
                       _load_filter(cond, self.columns[0])),
            ExpertStep(f"Now I {self.what} and return it in the requested format.",
                       f"{self.finish()}\ncomplete_task(f'{flight} on {slots['date']}: {{answer}}', answer)"),
        ]


class DepartureTime(PointLookup):
    name, type, unseen = "departure-time", "flight departure time", True
    pattern = re.compile(rf"What was the departure time of the {FLIGHT} flight {ROUTE} on {DATE}\?")
    wording = "What was the departure time of the {carrier}{number} flight from {origin} to {dest} on {date}?"
    format_tip = CLOCK_TIP
    columns, what = ("DepTime",), "convert the hhmm DepTime to H:MM"

    def compute(self, row: pd.Series) -> str:
        return _hm(row[self.columns[0]])

    def finish(self) -> str:
        return (f"hhmm = int(float(get_value(rows, {self.columns[0]!r}).split(', ')[0]))\n"
                "answer = f'{hhmm // 100}:{hhmm % 100:02d}'")


class ArrivalTime(DepartureTime):
    name, type, unseen = "local-arrival-time", "local arrival time", False
    pattern = re.compile(rf"What was the local arrival time of the {FLIGHT} flight {ROUTE} on {DATE}\?")
    wording = "What was the local arrival time of the {carrier}{number} flight from {origin} to {dest} on {date}?"
    columns, what = ("ArrTime",), "convert the hhmm ArrTime to H:MM"


class CRSArrivalTime(DepartureTime):
    name, type, unseen = "crs-arrival-time", "CRS-recorded arrival time", False
    pattern = re.compile(rf"What was the CRS-recorded arrival time of the {FLIGHT} flight {ROUTE} on {DATE}\?")
    wording = ("What was the CRS-recorded arrival time of the {carrier}{number} flight from {origin} to {dest} "
               "on {date}?")
    columns, what = ("CRSArrTime",), "convert the hhmm CRSArrTime to H:MM"


class Cancelled(PointLookup):
    name, type = "cancelled", "yes or no"
    pattern = re.compile(rf"Was the flight {FLIGHT} {ROUTE} cancelled on {DATE}\?")
    wording = "Was the flight {carrier}{number} from {origin} to {dest} cancelled on {date}?"
    format_tip = "Format tip: answer Yes or No."
    columns, what = ("Cancelled",), "turn the Cancelled flag into Yes or No"

    def required(self, rng: random.Random) -> dict[str, str]:
        return {"Cancelled": "True" if rng.random() < 0.5 else "False"}  # as many Yes as No

    def compute(self, row: pd.Series) -> str:
        return "Yes" if row["Cancelled"] == "True" else "No"

    def finish(self) -> str:
        return "answer = 'Yes' if get_value(rows, 'Cancelled').split(', ')[0] == 'True' else 'No'"


class TimeDifference(PointLookup):
    name, type = "time-difference", "time difference"
    pattern = re.compile(r"How long was the different between the CRS recorded departure time and actual "
                         rf"departure time of the {FLIGHT} flight {ROUTE} on {DATE}\?")
    wording = ("How long was the different between the CRS recorded departure time and actual departure time of "
               "the {carrier}{number} flight from {origin} to {dest} on {date}?")
    format_tip = "Format tip: answer with a whole number, e.g. 5."
    columns, what = ("DepTime", "CRSDepTime"), "subtract the two hhmm numbers"
    rare = ("0",)

    def compute(self, row: pd.Series) -> str:
        return str(int(abs(float(row["DepTime"]) - float(row["CRSDepTime"]))))

    def finish(self) -> str:
        return ("dep = float(get_value(rows, 'DepTime').split(', ')[0])\n"
                "crs = float(get_value(rows, 'CRSDepTime').split(', ')[0])\n"
                "answer = str(int(abs(dep - crs)))")


class ExtraMinutes(PointLookup):
    name, type = "extra-minutes", "extra minutes"
    pattern = re.compile(rf"How many extra minutes did the {FLIGHT} flight take {ROUTE} on {DATE}\?")
    wording = "How many extra minutes did the {carrier}{number} flight take from {origin} to {dest} on {date}?"
    format_tip = "Format tip: answer with a number of minutes with one decimal, e.g. 13.0 or -11.0."
    columns = ("ArrDelayMinutes", "DepDelayMinutes")
    what = "subtract DepDelayMinutes from ArrDelayMinutes"
    rare = ("0.0",)

    def compute(self, row: pd.Series) -> str:
        return f"{float(row['ArrDelayMinutes']) - float(row['DepDelayMinutes']):.1f}"

    def finish(self) -> str:
        return ("arr = float(get_value(rows, 'ArrDelayMinutes').split(', ')[0])\n"
                "dep = float(get_value(rows, 'DepDelayMinutes').split(', ')[0])\n"
                "answer = f'{arr - dep:.1f}'")


class Duration(PointLookup):
    name, type, unseen = "flight-duration", "flight duration", True
    pattern = re.compile(rf"How long was the flight {FLIGHT} {ROUTE} on {DATE}\?")
    wording = "How long was the flight {carrier}{number} from {origin} to {dest} on {date}?"
    format_tip = MINUTES_TIP
    columns, what = ("AirTime",), "take AirTime as a whole number of minutes"

    def compute(self, row: pd.Series) -> str:
        return str(int(float(row[self.columns[0]])))

    def finish(self) -> str:
        return f"answer = str(int(float(get_value(rows, {self.columns[0]!r}).split(', ')[0])))"


class TaxiIn(Duration):
    name, type, unseen = "taxi-in", "minutes taking to taxi in", True
    pattern = re.compile(rf"How many minutes did the {FLIGHT} flight take to taxi in on {DATE}\?")
    wording = "How many minutes did the {carrier}{number} flight take to taxi in on {date}?"
    keys, columns, what = ALL_LEGS, ("TaxiIn",), "take TaxiIn as a whole number of minutes"


class ArrivalDelay(PointLookup):
    name, type = "arrival-delay", "delay of arrival time"
    pattern = re.compile(rf"How long did {FLIGHT} delay when arrival on {DATE}\? "
                         r"If there are multiple delay times, report the sum of them\.")
    wording = ("How long did {carrier}{number} delay when arrival on {date}? If there are multiple delay times, "
               "report the sum of them.")
    format_tip = "Format tip: answer with a number of minutes with one decimal, e.g. 15.0."
    keys, columns, what = ALL_LEGS, ("ArrDelayMinutes",), "sum ArrDelayMinutes over the legs, skipping nan"
    rare = ("0.0",)

    def draw(self, corpus: Any, rng: random.Random) -> Slots | None:
        r = self.row(corpus, rng, **self.required(rng))
        return None if r is None else self.slots_of(r)  # all legs of the flight that day

    def answer(self, corpus: Any, slots: Slots) -> str:
        rows = self.rows(corpus, slots)
        return str(sum(floats(rows["ArrDelayMinutes"]), 0.0)) if len(rows) else ""

    def finish(self) -> str:
        return ("delays = get_value(rows, 'ArrDelayMinutes').split(', ')\n"
                "answer = str(sum((float(v) for v in delays if v != 'nan'), 0.0))")


class Aggregate(RowsAggregate, FlightTemplate):
    """A question over all rows matching some equality conditions; the answer aggregates a column."""

    needs: dict[str, str] = {}  # row requirements for the draw (see ``FlightTemplate.row``)
    show = ""  # the column printed in the first step
    plan = ""  # the monologue of the first step, formatted with the slots
    what = ""  # the monologue of the second step

    def draw(self, corpus: Any, rng: random.Random) -> Slots | None:
        r = self.row(corpus, rng, **self.needs)
        return None if r is None else self.slots_of(r)

    def solution(self, slots: Slots) -> list[ExpertStep]:
        return [
            ExpertStep(f"I will load the flights database and {self.plan.format(**slots)}",
                       _load_filter(self.conditions(slots), self.show)),
            ExpertStep(f"The values are strings, so I split the get_value output on ', ' and {self.what}.",
                       f"{self.finish()}\nprint(answer)\ncomplete_task(f'The answer is {{answer}}.', answer)"),
        ]


class FlightNumber(Aggregate):
    name, type = "flight-number", "flight number"
    pattern = re.compile(rf"What is the flight number of the {AIRLINE} flight {ROUTE} on {DATE}\?")
    wording = "What is the flight number of the {airline} flight from {origin} to {dest} on {date}?"
    format_tip = ("Format tip: give only the numbers (without the airline code), separated by ', ' in the order "
                  "they appear in the data, e.g. 1400, 1555, 2974.")
    keys, show = ("airline", "origin", "dest", "date"), "Flight_Number_Marketing_Airline"
    plan = ("filter the flights operated by {airline} from {origin} to {dest} on {date}; the numbers in questions "
            "are marketing flight numbers.")
    what = "keep each number once, in row order"

    def compute(self, rows: pd.DataFrame) -> str:
        return ", ".join(dict.fromkeys(rows["Flight_Number_Marketing_Airline"]))

    def finish(self) -> str:
        return ("numbers = get_value(rows, 'Flight_Number_Marketing_Airline').split(', ')\n"
                "answer = ', '.join(dict.fromkeys(numbers))")


class CancelledShare(Aggregate):
    name, type = "cancelled-percentage", "percentage"
    pattern = re.compile(rf"What percentage of the flights from (?P<origin>[A-Z]{{3}}) were canceled on {DATE}\?")
    wording = "What percentage of the flights from {origin} were canceled on {date}?"
    format_tip = "Format tip: answer with a percentage with one decimal, e.g. 4.8%."
    keys, needs, show = ("origin", "date"), {"Cancelled": "True"}, "Cancelled"
    plan = "filter all flights from {origin} on {date}, then count the cancelled ones."
    what = "divide the number of 'True' Cancelled values by the number of flights"

    def compute(self, rows: pd.DataFrame) -> str:
        flags = list(rows["Cancelled"])
        return f"{100 * flags.count('True') / len(flags):.1f}%"

    def finish(self) -> str:
        return ("flags = get_value(rows, 'Cancelled').split(', ')\n"
                "answer = f\"{100 * flags.count('True') / len(flags):.1f}%\"")


class AverageDelay(Aggregate):
    name, type = "average-delay", "average delay time"
    pattern = re.compile(r"What is the average delay time of all the flights that departed from "
                         rf"(?P<origin>[A-Z]{{3}}) on {DATE}\?")
    wording = "What is the average delay time of all the flights that departed from {origin} on {date}?"
    format_tip = "Format tip: answer with a number of minutes with one decimal, e.g. 23.5."
    keys, show = ("origin", "date"), "DepDelayMinutes"
    plan = "filter all flights from {origin} on {date} and read DepDelayMinutes."
    what = "divide the sum of the non-nan DepDelayMinutes by the number of all flights"
    rare = ("0.0",)

    def compute(self, rows: pd.DataFrame) -> str:
        return f"{sum(floats(rows['DepDelayMinutes']), 0.0) / len(rows):.1f}"

    def finish(self) -> str:
        return ("delays = get_value(rows, 'DepDelayMinutes').split(', ')\n"
                "answer = f\"{sum((float(v) for v in delays if v != 'nan'), 0.0) / len(delays):.1f}\"")


class Diverted(Aggregate):
    name, type = "diverted-flights", "diverted flights"
    pattern = re.compile(rf"How many flights were diverted on {DATE}\?")
    wording = "How many flights were diverted on {date}?"
    format_tip = "Format tip: answer with an integer, e.g. 16."
    keys, show = ("date",), "Diverted"
    plan = "filter the flights of {date} and count the 'True' values of Diverted."
    what = "count the 'True' flags"
    bad = ("", "0")

    def compute(self, rows: pd.DataFrame) -> str:
        return str(list(rows["Diverted"]).count("True"))

    def finish(self) -> str:
        return "answer = str(get_value(rows, 'Diverted').split(', ').count('True'))"


class LongDistance(Aggregate):
    name, type, unseen = "long-distance", "flights with long distance", True
    pattern = re.compile(rf"How many flights with a distance greater than 300 miles on {DATE}\?")
    wording = "How many flights with a distance greater than 300 miles on {date}?"
    format_tip = "Format tip: answer with an integer, e.g. 16685."
    keys, show = ("date",), "Distance"
    plan = ("filter the flights of {date}; Distance is stored as a string, so I will not filter by it but compare "
            "the numbers in Python.")
    what = "count the distances above 300 miles"

    def compute(self, rows: pd.DataFrame) -> str:
        return str(sum(1 for d in floats(rows["Distance"]) if d > 300))

    def finish(self) -> str:
        return ("distances = get_value(rows, 'Distance').split(', ')\n"
                "answer = str(sum(1 for d in distances if float(d) > 300))")


class TotalNumber(Aggregate):
    name, type = "total-number", "total number"
    pattern = re.compile(rf"What is the total number of flights operated by {AIRLINE} on {DATE}\?")
    wording = "What is the total number of flights operated by {airline} on {date}?"
    format_tip = "Format tip: answer with an integer, e.g. 567."
    keys, show = ("airline", "date"), "Flight_Number_Marketing_Airline"
    plan = "filter the flights operated by {airline} on {date} and count the rows."
    what = "count the rows"

    def compute(self, rows: pd.DataFrame) -> str:
        return str(len(rows))

    def finish(self) -> str:
        return "answer = str(len(rows))"


class AverageAirtime(Aggregate):
    name, type, unseen = "average-airtime", "average airtime", True
    pattern = re.compile(rf"What is the average airtime of the flights {ROUTE} host by {AIRLINE}\?")
    wording = "What is the average airtime of the flights from {origin} to {dest} host by {airline}?"
    format_tip = "Format tip: answer with a number of minutes with one decimal, e.g. 85.6."
    keys, needs, show = ("origin", "dest", "airline"), {"AirTime": "set"}, "AirTime"
    plan = "filter every flight from {origin} to {dest} operated by {airline} (all dates) and read AirTime."
    what = "average the non-nan AirTime values"

    def compute(self, rows: pd.DataFrame) -> str:
        times = floats(rows["AirTime"])
        return f"{sum(times) / len(times):.1f}" if times else ""

    def finish(self) -> str:
        return ("times = [float(v) for v in get_value(rows, 'AirTime').split(', ') if v != 'nan']\n"
                "answer = f'{sum(times) / len(times):.1f}'")


class UniqueFlights(Aggregate):
    name, type, unseen = "unique-flights", "flights from A to B", True
    pattern = re.compile(rf"How many unique flights {ROUTE} host by {AIRLINE}\?")
    wording = "How many unique flights from {origin} to {dest} host by {airline}?"
    format_tip = "Format tip: answer with an integer, e.g. 6."
    keys, show = ("origin", "dest", "airline"), "Flight_Number_Marketing_Airline"
    plan = "filter every flight from {origin} to {dest} operated by {airline} and read the flight numbers."
    what = "count the distinct flight numbers"
    rare = ("1",)

    def compute(self, rows: pd.DataFrame) -> str:
        return str(rows["Flight_Number_Marketing_Airline"].nunique())

    def finish(self) -> str:
        return "answer = str(len(set(get_value(rows, 'Flight_Number_Marketing_Airline').split(', '))))"


class AverageFlightTime(Aggregate):
    name, type = "average-flight-time", "average flight time"
    pattern = re.compile(rf"What is the average flight time of {FLIGHT}\?")
    wording = "What is the average flight time of {carrier}{number}?"
    format_tip = "Format tip: answer with a number of minutes with one decimal, e.g. 73.0."
    keys, needs, show = ("carrier", "number"), {"AirTime": "set"}, "AirTime"
    plan = "filter every flight {carrier}{number} (all dates and legs) and read AirTime."
    what = "average the non-nan AirTime values"
    compute, finish = AverageAirtime.compute, AverageAirtime.finish


class AverageSpeed(Aggregate):
    name, type = "average-speed", "average speed"
    pattern = re.compile(rf"What is the average speed of {FLIGHT} {ROUTE} \(miles per minute\)\?")
    wording = "What is the average speed of {carrier}{number} from {origin} to {dest} (miles per minute)?"
    format_tip = "Format tip: answer with miles per minute with one decimal, e.g. 7.3."
    keys, needs, show = ("carrier", "number", "origin", "dest"), {"AirTime": "set"}, "AirTime"
    plan = "filter every flight {carrier}{number} from {origin} to {dest} and read Distance and AirTime."
    what = "divide the total distance by the total airtime over the rows with an airtime"

    def compute(self, rows: pd.DataFrame) -> str:
        flown = [(float(d), float(a)) for d, a in zip(rows["Distance"], rows["AirTime"], strict=True) if a != "nan"]
        return f"{sum(d for d, _ in flown) / sum(a for _, a in flown):.1f}" if flown else ""

    def finish(self) -> str:
        return ("distances = get_value(rows, 'Distance').split(', ')\n"
                "airtimes = get_value(rows, 'AirTime').split(', ')\n"
                "flown = [(float(d), float(a)) for d, a in zip(distances, airtimes) if a != 'nan']\n"
                "answer = f'{sum(d for d, _ in flown) / sum(a for _, a in flown):.1f}'")


class Fastest(Aggregate):
    name, type = "fastest-flight", "fastest flight"
    pattern = re.compile(rf"What is the fastest flight {ROUTE} on (?P<weekday>[A-Za-z]+)\?")
    wording = "What is the fastest flight from {origin} to {dest} on {weekday}?"
    format_tip = "Format tip: answer with the flight's carrier code and number, e.g. AS2134."
    show = "AirTime"
    plan = ("filter the flights from {origin} to {dest} on {weekday}s (DayOfWeek: 1 = Monday ... 7 = Sunday) "
            "and read AirTime.")
    what = "pick the flight id (carrier code + number) with the smallest airtime"

    def conditions(self, slots: Slots) -> dict[str, str]:
        day = 1 + [w[:3] for w in WEEKDAYS].index(slots["weekday"][:3].title())  # real files have 'Satruary'
        return {"Origin": slots["origin"], "Dest": slots["dest"], "DayOfWeek": str(day)}

    def draw(self, corpus: Any, rng: random.Random) -> Slots | None:
        r = self.row(corpus, rng, AirTime="set")
        if r is None:
            return None
        slots = dict(origin=r["Origin"], dest=r["Dest"], weekday=WEEKDAYS[int(r["DayOfWeek"]) - 1])
        rows = self.rows(corpus, slots)
        best: dict[str, float] = {}
        for c, n, a in zip(rows["IATA_Code_Marketing_Airline"], rows["Flight_Number_Marketing_Airline"],
                           rows["AirTime"], strict=True):
            if a != "nan":
                best[c + n] = min(float(a), best.get(c + n, math.inf))
        fastest = sorted(best.values())
        return slots if len(fastest) >= 2 and fastest[0] < fastest[1] else None

    def compute(self, rows: pd.DataFrame) -> str:
        flown = [(float(a), c + n) for c, n, a in zip(rows["IATA_Code_Marketing_Airline"],
                                                       rows["Flight_Number_Marketing_Airline"], rows["AirTime"], strict=True)
                 if a != "nan"]
        return min(flown, key=lambda x: x[0])[1] if flown else ""

    def finish(self) -> str:
        return ("carriers = get_value(rows, 'IATA_Code_Marketing_Airline').split(', ')\n"
                "numbers = get_value(rows, 'Flight_Number_Marketing_Airline').split(', ')\n"
                "airtimes = get_value(rows, 'AirTime').split(', ')\n"
                "flown = [(float(a), c + n) for c, n, a in zip(carriers, numbers, airtimes) if a != 'nan']\n"
                "answer = min(flown, key=lambda x: x[0])[1]")


TEMPLATES: list[Template] = [
    DepartureTime(), Cancelled(), FlightNumber(), TimeDifference(), ArrivalDelay(), ExtraMinutes(), ArrivalTime(),
    CRSArrivalTime(), Duration(), TaxiIn(), CancelledShare(), AverageDelay(), Diverted(), LongDistance(),
    AverageAirtime(), UniqueFlights(), AverageFlightTime(), Fastest(), AverageSpeed(), TotalNumber(),
]
