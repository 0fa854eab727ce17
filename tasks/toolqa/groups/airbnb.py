"""ToolQA airbnb: the synthetic ``Airbnb_Open_Data.csv`` (NYC) and the 17 airbnb question templates.

The table has the real 26 columns (names with spaces) and string forms: prices like ``"$1,146 "``,
numeric columns written as floats (``'2003.0'``, ``'4.0'``), NaN review fields for listings without
reviews, ``last review`` as ``M/D/YYYY``, odd listing names (emoji, curly quotes, ``/``, a newline),
about 2 % of names repeated within a neighbourhood.
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
from tasks.toolqa.groups._tables import (
    RowsAggregate,
    TableTemplate,
    filter_argument,
    filterable,
    floats,
    pick,
    prices,
    select,
)
from tasks.toolqa.template import ExpertStep, Slots, Template

FILE = "airbnb/Airbnb_Open_Data.csv"
COLUMNS = ["id", "NAME", "host id", "host_identity_verified", "host name", "neighbourhood group", "neighbourhood",
           "lat", "long", "country", "country code", "instant_bookable", "cancellation_policy", "room type",
           "Construction year", "price", "service fee", "minimum nights", "number of reviews", "last review",
           "reviews per month", "review rate number", "calculated host listings count", "availability 365",
           "house_rules", "license"]
# borough: (relative size, [(neighbourhood, lat, lon), ...])
BOROUGHS = {
    "Manhattan": (8, [
        ("Harlem", 40.811, -73.946), ("East Village", 40.727, -73.984), ("Upper West Side", 40.787, -73.975),
        ("Upper East Side", 40.773, -73.956), ("Midtown", 40.755, -73.984), ("Hell's Kitchen", 40.764, -73.992),
        ("Chelsea", 40.746, -74.001), ("Lower East Side", 40.715, -73.986), ("West Village", 40.734, -74.004),
        ("Financial District", 40.707, -74.009), ("SoHo", 40.723, -74.000), ("Chinatown", 40.716, -73.997),
        ("Murray Hill", 40.748, -73.978), ("East Harlem", 40.795, -73.939), ("Little Italy", 40.719, -73.997),
        ("Stuyvesant Town", 40.731, -73.977), ("Roosevelt Island", 40.762, -73.950)]),
    "Brooklyn": (8, [
        ("Williamsburg", 40.714, -73.953), ("Bedford-Stuyvesant", 40.687, -73.942), ("Bushwick", 40.694, -73.919),
        ("Crown Heights", 40.670, -73.944), ("Greenpoint", 40.730, -73.951), ("Park Slope", 40.672, -73.977),
        ("Clinton Hill", 40.688, -73.966), ("Fort Greene", 40.689, -73.974), ("Flatbush", 40.641, -73.959),
        ("East Flatbush", 40.648, -73.930), ("Prospect-Lefferts Gardens", 40.659, -73.951),
        ("Brighton Beach", 40.578, -73.960), ("Sheepshead Bay", 40.591, -73.944), ("Windsor Terrace", 40.654, -73.976),
        ("Boerum Hill", 40.686, -73.985), ("Brownsville", 40.663, -73.910), ("Gowanus", 40.676, -73.990)]),
    "Queens": (3, [
        ("Astoria", 40.764, -73.923), ("Long Island City", 40.747, -73.945), ("Ditmars Steinway", 40.775, -73.912),
        ("East Elmhurst", 40.763, -73.870), ("Jamaica Estates", 40.718, -73.784), ("Rosedale", 40.659, -73.739),
        ("Whitestone", 40.791, -73.810), ("Glen Oaks", 40.746, -73.711), ("Kew Gardens", 40.709, -73.830),
        ("Howard Beach", 40.658, -73.843), ("Belle Harbor", 40.576, -73.849), ("College Point", 40.787, -73.846)]),
    "Bronx": (1, [
        ("Fordham", 40.861, -73.890), ("Concourse", 40.834, -73.918), ("Kingsbridge", 40.878, -73.904),
        ("Throgs Neck", 40.822, -73.819), ("Williamsbridge", 40.879, -73.863), ("Co-op City", 40.874, -73.829),
        ("Belmont", 40.855, -73.886), ("Van Nest", 40.847, -73.863), ("Melrose", 40.821, -73.914)]),
    "Staten Island": (0.5, [
        ("Clifton", 40.619, -74.075), ("Tompkinsville", 40.637, -74.081), ("Eltingville", 40.544, -74.164),
        ("Randall Manor", 40.635, -74.097), ("Concord", 40.605, -74.085), ("Grant City", 40.580, -74.106),
        ("Howland Hook", 40.636, -74.186), ("Bull's Head", 40.610, -74.161)]),
}
TINY_NEIGHBOURHOODS = ("Harlem", "Williamsburg", "Bushwick", "Astoria", "Rosedale", "Fordham", "Clifton",
                       "Eltingville")
PROFILES = {"tiny": 600, "standard": 10000}
ROOMS = {  # room type: (share, name nouns)
    "Entire home/apt": (0.52, ("Apartment", "1BR Apt", "2 Bedroom Apartment", "Studio", "Loft", "Duplex",
                                "Townhouse", "3BR Apt", "Garden Apartment", "Brownstone Floor")),
    "Private room": (0.45, ("Room", "Private Bedroom", "Bedroom", "Private Room", "Queen Room", "Sunny Room")),
    "Shared room": (0.02, ("Shared Room", "Bed in Shared Room", "Bunk Bed", "SHARED ROOM 1 BED")),
    "Hotel room": (0.01, ("Hotel Room", "King Room", "Suite", "Boutique Hotel Room")),
}
ADJECTIVES = ("Cozy", "Spacious", "Sunny", "Bright", "Charming", "Modern", "Luxury", "Quiet", "Beautiful", "Large",
              "Renovated", "Stylish", "Huge", "Cute", "Elegant", "Clean", "Lovely", "Peaceful", "Trendy", "Chic")
PLACES = ("in {nb}", "near the subway", "- 15 min to Manhattan", "by the Park", "with Rooftop", "in the heart of {nb}",
          "close to everything", "w/ private garden", "near trains", "in {borough}", "for 1 -2 people", "")
HOSTS = ("Sara", "Andrew", "Collin", "Timo", "Kijin", "Alan", "Chapman", "Anthony", "Edwin", "Vivian", "Maria",
         "John", "Michael", "David", "Jennifer", "Jessica", "Daniel", "Laura", "Carlos", "Yuki", "Priya", "Ahmed",
         "Olga", "Kevin", "Sophie", "Mohammed", "Lisa", "Chris", "Elena", "Blueground", "Sonder", "Jason", "Amy")
RULES = ("No smoking. No parties.", "Please remove shoes.", "Quiet hours after 10pm.", "No pets, please.")


# -- generator ----------------------------------------------------------------------------------
def _name(rng: random.Random, room: str, nb: str, borough: str) -> str:
    """A listing name with the oddities of the real file: emoji, curly quotes, caps, double spaces, newlines."""
    place = rng.choice(PLACES).format(nb=nb, borough=borough)
    name = f"{rng.choice(ADJECTIVES)} {rng.choice(ROOMS[room][1])} {place}".strip()
    u = rng.random()
    if u < 0.05:
        name = name.upper()
    elif u < 0.08:
        name = f"✨{name}❤️"
    elif u < 0.10:
        name = f"★{name}★"
    elif u < 0.12:
        name = f"“{name}”"
    elif u < 0.14:
        name = name.replace(" ", "  ", 1)
    elif u < 0.16:
        name = f"{name} / {rng.choice(('Gym', 'Doorman', 'W/D'))}"
    elif u < 0.17:
        name = f"{name}!\n{rng.choice(('1st Floor', 'Free WiFi', 'Near JFK'))}"
    elif u < 0.18:
        name = f"{name}; {rng.choice(('near subway', 'long stays'))}"  # never asked about: breaks data_filter
    elif u < 0.185:
        name = f"{name} ={rng.choice(('cheap', 'deal'))}"
    elif u < 0.19:
        name = f"{rng.choice(HOSTS)}’s {name}"
    return name


def _price(value: int) -> str:
    return f"${value:,} "


def generate(root: Path, profile: str, rng: random.Random) -> dict[str, int]:
    """Write ``<root>/data/external_corpus/airbnb/Airbnb_Open_Data.csv``; returns its row count."""
    total = PROFILES[profile]
    places = [(b, nb, lat, lon, weight) for b, (weight, nbs) in BOROUGHS.items() for nb, lat, lon in nbs
              if profile != "tiny" or nb in TINY_NEIGHBOURHOODS]
    sizes = [w * rng.uniform(0.2, 2.0) for *_, w in places]
    counts = [max(15, round(total * s / sum(sizes))) for s in sizes]
    ids = sorted(rng.sample(range(1_001_254, 57_367_417), sum(counts)))
    hosts = [(rng.randrange(10**9, 10**11), rng.choice(HOSTS)) for _ in range(sum(counts) * 3 // 4)]
    rooms, shares = list(ROOMS), [share for share, _ in ROOMS.values()]
    nan = float("nan")
    rows = []
    for (borough, nb, lat, lon, _), count in zip(places, counts, strict=True):
        flexible = rng.uniform(0.1, 0.6)
        names: list[str] = []
        for _ in range(count):
            room = rng.choices(rooms, shares)[0]
            name = rng.choice(names) if names and rng.random() < 0.02 else _name(rng, room, nb, borough)
            names.append(name)
            host_id, host = rng.choice(hosts)
            price = rng.randint(50, 1200)
            reviews = 0 if rng.random() < 0.18 else int(rng.expovariate(1 / 40)) + 1
            last = dt.date(2015, 1, 1) + dt.timedelta(days=rng.randrange(2700))
            group = borough if rng.random() > 0.002 else {"Brooklyn": "brookln", "Manhattan": "manhatan"}.get(
                borough, borough)
            rows.append({
                "NAME": name if rng.random() > 0.003 else nan, "host id": host_id,
                "host_identity_verified": rng.choice(("verified", "unconfirmed")) if rng.random() > 0.003 else nan,
                "host name": host, "neighbourhood group": group, "neighbourhood": nb,
                "lat": round(lat + rng.gauss(0, 0.01), 5), "long": round(lon + rng.gauss(0, 0.01), 5),
                "country": "United States", "country code": "US",
                "instant_bookable": rng.random() < 0.5 if rng.random() > 0.001 else nan,
                "cancellation_policy": "flexible" if rng.random() < flexible else rng.choice(("moderate", "strict")),
                "room type": room,
                "Construction year": float(rng.randint(2003, 2022)) if rng.random() > 0.003 else nan,
                "price": _price(price), "service fee": _price(round(price * 0.2)),
                "minimum nights": float(rng.choice((1, 1, 2, 2, 3, 4, 5, 7, 10, 30))) if rng.random() > 0.004 else nan,
                "number of reviews": float(reviews),
                "last review": f"{last.month}/{last.day}/{last.year}" if reviews else nan,
                "reviews per month": round(rng.uniform(0.01, 4.0) ** 1.5, 2) if reviews else nan,
                "review rate number": float(rng.randint(1, 5)) if rng.random() > 0.003 else nan,
                "calculated host listings count": float(rng.choice((1, 1, 1, 2, 3, 6))),
                "availability 365": float(rng.randint(0, 365)) if rng.random() > 0.004 else nan,
                "house_rules": rng.choice(RULES) if rng.random() < 0.5 else nan,
                "license": "41662/AL" if rng.random() < 0.001 else nan,
            })
    rows[rng.randrange(len(rows))]["license"] = "41662/AL"  # the real column mixes a few strings into NaN
    rows[rng.randrange(len(rows))]["NAME"] = "“No Place Like Home”\n1st Floor Suburban Apt."  # as in the real file
    rng.shuffle(rows)
    frame = pd.DataFrame([{"id": i, **r} for i, r in zip(ids, rows, strict=True)], columns=COLUMNS)
    write_atomic(root / "data" / "external_corpus" / FILE, frame.to_csv(index=False))
    return {FILE: len(frame)}


# -- templates ------------------------------------------------------------------------------------
NAMED = r"(?P<name>.+) \(id: (?P<id>\d+)\)"
IN_NB = r" in (?P<neighbourhood>(?:(?! that have ).)+)"


def _askable(name: str) -> bool:
    """Names that a question can quote and data_filter can match."""
    return name != "nan" and "\n" not in name and filterable(name)


PRICE_CODE = "[float(p.replace('$', '').replace(',', '').split()[0]) for p in {} if p != 'nan']"
CHEAPEST_CODE = ("offers = [(float(p.replace('$', '').replace(',', '').split()[0]), name)\n"
                 "          for p, name in zip({prices}, {names}) if p != 'nan']\n"
                 "answer = str(min(offers, key=lambda offer: offer[0])[1])")


class AirbnbTemplate(TableTemplate):
    group = "airbnb"


class Listing(AirbnbTemplate):
    """One listing named as "{NAME} (id: {id}) in {neighbourhood}"; the answer is one of its cells."""

    column = ""
    keys = ("name", "id", "neighbourhood")
    example = ""

    def draw(self, corpus: Any, rng: random.Random) -> Slots | None:
        r = pick(self.table(corpus), rng)
        if not _askable(r["NAME"]):
            return None
        slots = {"name": r["NAME"], "id": r["id"], "neighbourhood": r["neighbourhood"]}
        return {k: slots[k] for k in self.keys}

    def conditions(self, slots: Slots) -> dict[str, str]:
        return {"id": slots["id"]}

    def answer(self, corpus: Any, slots: Slots) -> str:
        rows = select(self.table(corpus), self.conditions(slots))
        return self.compute(rows[self.column].iloc[0]) if len(rows) else ""

    def compute(self, value: str) -> str:
        return str(int(float(value))) if value != "nan" else "nan"

    def finish(self) -> str:
        return "answer = str(int(float(value)))"

    def solution(self, slots: Slots) -> list[ExpertStep]:
        cond = self.conditions(slots)
        key = "its id" if "id" in cond else "its exact name and neighbourhood"
        argument = filter_argument(cond)
        return [
            ExpertStep(f"I will load the airbnb database, find the listing by {key}, and read '{self.column}'.",
                       f"db = load_db('airbnb')\nrows = data_filter(db, {argument!r})\n"
                       f"value = get_value(rows, {self.column!r}).split(', ')[0]\nprint(repr(value))"),
            ExpertStep("The value is a string; I format it as the task asks.",
                       f"{self.finish()}\nprint(answer)\n"
                       f"complete_task(f'The {self.column} of this listing is {{answer}}.', answer)"),
        ]


class AsStored(Listing):
    """The answer is the cell exactly as stored."""

    def compute(self, value: str) -> str:
        return value

    def finish(self) -> str:
        return "answer = value"


class HostName(AsStored):
    name, type = "host-name", "host's name"
    pattern = re.compile(r"What is the host's name for (?P<name>.+) in (?P<neighbourhood>[^?]+)\?")
    wording = "What is the host's name for {name} in {neighbourhood}?"
    format_tip = "Format tip: answer with the host's name as stored, e.g. Sara."
    column, keys = "host name", ("name", "neighbourhood")

    def draw(self, corpus: Any, rng: random.Random) -> Slots | None:
        slots = super().draw(corpus, rng)
        return slots if slots and len(select(self.table(corpus), self.conditions(slots))) == 1 else None

    def conditions(self, slots: Slots) -> dict[str, str]:
        return {"NAME": slots["name"], "neighbourhood": slots["neighbourhood"]}


class DaysAvailable(Listing):
    name, type = "days-available", "days available"
    pattern = re.compile(rf"How many days are {NAMED} available during a year \(365 days\)\?")
    wording = "How many days are {name} (id: {id}) available during a year (365 days)?"
    format_tip = "Format tip: answer with an integer number of days, e.g. 325."
    column, keys = "availability 365", ("name", "id")


class RoomType(AsStored):
    name, type, unseen = "room-type", "room type", True
    pattern = re.compile(rf"What is the room type of {NAMED}{IN_NB}\?")
    wording = "What is the room type of {name} (id: {id}) in {neighbourhood}?"
    format_tip = "Format tip: answer with the room type as stored, e.g. Private room."
    column = "room type"


class Price(Listing):
    name, type = "price", "price"
    pattern = re.compile(rf"What is the price of {NAMED}{IN_NB}\?")
    wording = "What is the price of {name} (id: {id}) in {neighbourhood}?"
    format_tip = "Format tip: answer with a dollar sign and the whole amount without commas, e.g. $1146."
    column = "price"

    def compute(self, value: str) -> str:
        return f"${int(prices([value])[0])}"

    def finish(self) -> str:
        return f"answer = '$' + str(int({PRICE_CODE.format('[value]')}[0]))"


class MinimumNights(Listing):
    name, type = "minimum-nights", "minimum number of nights"
    pattern = re.compile(rf"What is the minimum number of nights of {NAMED}{IN_NB}\?")
    wording = "What is the minimum number of nights of {name} (id: {id}) in {neighbourhood}?"
    format_tip = "Format tip: answer with an integer, e.g. 2."
    column = "minimum nights"


class ConstructionYear(Listing):
    name, type, unseen = "construction-year", "when constructed", True
    pattern = re.compile(rf"When was of {NAMED}{IN_NB} constructed\?")
    wording = "When was of {name} (id: {id}) in {neighbourhood} constructed?"
    format_tip = "Format tip: answer with the year, e.g. 2011."
    column = "Construction year"


class ReviewCount(Listing):
    name, type, unseen = "review-count", "how many reviews", True
    pattern = re.compile(rf"How many reviews does {NAMED}{IN_NB} have\?")
    wording = "How many reviews does {name} (id: {id}) in {neighbourhood} have?"
    format_tip = "Format tip: answer with an integer, e.g. 36."
    column, rare = "number of reviews", ("0",)


class LastReview(Listing):
    name, type = "last-review", "last review date"
    pattern = re.compile(rf"What is the last review date of {NAMED}{IN_NB}\?")
    wording = "What is the last review date of {name} (id: {id}) in {neighbourhood}?"
    format_tip = "Format tip: answer with the date as stored (M/D/YYYY, e.g. 6/24/2019), or null if there is none."
    column, rare = "last review", ("null",)

    def compute(self, value: str) -> str:
        return "null" if value == "nan" else value

    def finish(self) -> str:
        return "answer = 'null' if value == 'nan' else value"


class ReviewRate(AsStored):
    name, type = "review-rate", "review rate number"
    pattern = re.compile(rf"What is the review rate number of {NAMED}{IN_NB}\?")
    wording = "What is the review rate number of {name} (id: {id}) in {neighbourhood}?"
    format_tip = "Format tip: answer with the number as stored, e.g. 4.0."
    column = "review rate number"


class ReviewsPerMonth(LastReview):
    name, type = "reviews-per-month", "average reviews per month"
    pattern = re.compile(rf"What is the average number of reviews per month of {NAMED}{IN_NB}\?")
    wording = "What is the average number of reviews per month of {name} (id: {id}) in {neighbourhood}?"
    format_tip = "Format tip: answer with the number as stored, e.g. 0.08, or null if there is none."
    column = "reviews per month"


class Neighbourhood(RowsAggregate, AirbnbTemplate):
    """A question about all listings of one neighbourhood."""

    column = ""
    plan = ""

    def draw(self, corpus: Any, rng: random.Random) -> Slots | None:
        return {"neighbourhood": pick(self.table(corpus)["neighbourhood"], rng)}

    def rows(self, corpus: Any, slots: Slots) -> pd.DataFrame:
        return select(self.table(corpus), {"neighbourhood": slots["neighbourhood"]})

    def argument(self, slots: Slots) -> str:
        return f"neighbourhood={slots['neighbourhood']}"

    def solution(self, slots: Slots) -> list[ExpertStep]:
        return [
            ExpertStep(f"I will load the airbnb database, filter {self.argument(slots)!r} and read '{self.column}'.",
                       f"db = load_db('airbnb')\nrows = data_filter(db, {self.argument(slots)!r})\n"
                       f"values = list(rows[{self.column!r}])\nprint(len(rows), values[:10])"),
            ExpertStep(f"The values are strings; I {self.plan}.",
                       f"{self.finish()}\nprint(answer)\n"
                       f"complete_task(f\"In {slots['neighbourhood']}: {{answer}}\", answer)"),
        ]


class ListingCount(Neighbourhood):
    name, type = "listing-count", "how many airbnbs"
    pattern = re.compile(rf"How many airbnbs are there{IN_NB}\?")
    wording = "How many airbnbs are there in {neighbourhood}?"
    format_tip = "Format tip: answer with an integer, e.g. 168."
    column, plan = "id", "count the rows"

    def compute(self, rows: pd.DataFrame) -> str:
        return str(len(rows))

    def finish(self) -> str:
        return "answer = str(len(rows))"


class AveragePrice(Neighbourhood):
    name, type = "average-price", "average price"
    pattern = re.compile(rf"What is the average price of airbnbs{IN_NB}\?")
    wording = "What is the average price of airbnbs in {neighbourhood}?"
    format_tip = "Format tip: answer with a dollar sign and one decimal, e.g. $627.0."
    column, plan = "price", "parse the prices (drop '$' and ',', split on whitespace) and average them"

    def compute(self, rows: pd.DataFrame) -> str:
        p = prices(rows["price"])
        return f"${sum(p) / len(p):.1f}"

    def finish(self) -> str:
        return f"p = {PRICE_CODE.format('values')}\nanswer = f'${{sum(p) / len(p):.1f}}'"


class FlexibleShare(Neighbourhood):
    name, type, unseen = "flexible-share", "proporion of airbnbs", True
    pattern = re.compile(rf"How much proporion of airbnbs{IN_NB} have a flexible cancellation policy\?")
    wording = "How much proporion of airbnbs in {neighbourhood} have a flexible cancellation policy?"
    format_tip = "Format tip: answer with a fraction with one decimal, e.g. 0.3."
    column, plan = "cancellation_policy", "divide the number of flexible policies by the number of listings"

    def compute(self, rows: pd.DataFrame) -> str:
        return f"{list(rows['cancellation_policy']).count('flexible') / len(rows):.1f}"

    def finish(self) -> str:
        return "answer = f\"{values.count('flexible') / len(values):.1f}\""


class HighRateCount(Neighbourhood):
    name, type, unseen = "high-rate-count", "airbnb with high rate", True
    pattern = re.compile(rf"How many airbnbs are there{IN_NB} that have a review rate not lower than 4\?")
    wording = "How many airbnbs are there in {neighbourhood} that have a review rate not lower than 4?"
    format_tip = "Format tip: answer with an integer, e.g. 21."
    column = "review rate number"
    plan = "count the rates of at least 4 as numbers (a string filter would also keep 'nan')"
    bad = ("", "nan", "0")

    def compute(self, rows: pd.DataFrame) -> str:
        return str(sum(1 for r in floats(rows["review rate number"]) if r >= 4))

    def finish(self) -> str:
        return "answer = str(sum(1 for r in values if r != 'nan' and float(r) >= 4))"


class MostExpensiveEntire(Neighbourhood):
    name, type = "most-expensive-entire", "cost per night"
    pattern = re.compile(r"How much does it cost per night to stay at the most expensive Entire home/apt"
                         rf"{IN_NB}\?")
    wording = "How much does it cost per night to stay at the most expensive Entire home/apt in {neighbourhood}?"
    format_tip = "Format tip: answer with a dollar sign and the whole amount without commas, e.g. $1182."
    column, plan = "price", "parse the prices and take the highest"

    def rows(self, corpus: Any, slots: Slots) -> pd.DataFrame:
        return select(super().rows(corpus, slots), {"room type": "Entire home/apt"})

    def argument(self, slots: Slots) -> str:
        return f"{super().argument(slots)}; room type=Entire home/apt"

    def compute(self, rows: pd.DataFrame) -> str:
        return f"${int(max(prices(rows['price'])))}"

    def finish(self) -> str:
        return f"answer = '$' + str(int(max({PRICE_CODE.format('values')})))"


class CheapestInNeighbourhood(Neighbourhood):
    name, type, unseen = "cheapest-in-neighbourhood", "room with the lowest price", True
    pattern = re.compile(rf"Can you recommend me a hotel room with the lowest price{IN_NB}\?")
    wording = "Can you recommend me a hotel room with the lowest price in {neighbourhood}?"
    format_tip = "Format tip: answer with the listing's NAME exactly as stored."
    column = "price"
    plan = "parse the prices of all listings (any room type) and take the NAME of the cheapest one"

    def compute(self, rows: pd.DataFrame) -> str:
        return _cheapest(rows)

    def finish(self) -> str:
        return CHEAPEST_CODE.format(prices="values", names="rows['NAME']")


def _cheapest(rows: pd.DataFrame) -> str:
    """NAME of the row with the unique lowest price ('' when the lowest price is shared)."""
    pairs = [(p, name) for p, name in zip(rows["price"], rows["NAME"], strict=True) if p != "nan"]
    low = [p for p, _ in pairs]
    cheapest = prices(low)
    return str(pairs[cheapest.index(min(cheapest))][1]) if cheapest and cheapest.count(min(cheapest)) == 1 else ""


class CheapestSharedNearby(AirbnbTemplate):
    name, type = "cheapest-shared-nearby", "shared room with the lowest price"
    pattern = re.compile(r"Can you recommend a Shared room with the lowest price within 10 miles radius from "
                         r"(?P<lon>-?\d+\.\d+) longitude and (?P<lat>-?\d+\.\d+) latitude\?")
    wording = ("Can you recommend a Shared room with the lowest price within 10 miles radius from {lon} longitude "
               "and {lat} latitude?")
    format_tip = "Format tip: answer with the listing's NAME exactly as stored."

    def draw(self, corpus: Any, rng: random.Random) -> Slots | None:
        return {"lon": repr(rng.uniform(-74.25, -73.70)), "lat": repr(rng.uniform(40.50, 40.92))}

    def rows(self, corpus: Any, slots: Slots) -> pd.DataFrame:
        shared = select(self.table(corpus), {"room type": "Shared room"})
        lat0, lon0 = float(slots["lat"]), float(slots["lon"])
        near = [abs(float(la) - lat0) <= 10 / 69 and abs(float(lo) - lon0) <= 10 / (69 * math.cos(math.radians(lat0)))
                for la, lo in zip(shared["lat"], shared["long"], strict=True)]
        return shared[near]

    def answer(self, corpus: Any, slots: Slots) -> str:
        return _cheapest(self.rows(corpus, slots))

    def rare_answers(self, corpus: Any) -> tuple[str, ...]:
        """The cheapest shared room of the whole city would otherwise answer most boxes."""
        return (_cheapest(select(self.table(corpus), {"room type": "Shared room"})),)

    def solution(self, slots: Slots) -> list[ExpertStep]:
        lat, lon = slots["lat"], slots["lon"]
        return [
            ExpertStep("I will load the airbnb database, keep the shared rooms, and keep those inside the 10-mile box "
                       "around the point: latitude within 10/69 degrees and longitude within 10/(69*cos(lat)).",
                       "import math\ndb = load_db('airbnb')\nrows = data_filter(db, 'room type=Shared room')\n"
                       f"lat0, lon0 = {lat}, {lon}\n"
                       "near = [abs(float(la) - lat0) <= 10 / 69 and "
                       "abs(float(lo) - lon0) <= 10 / (69 * math.cos(math.radians(lat0)))\n"
                       "        for la, lo in zip(rows['lat'], rows['long'])]\n"
                       "nearby = rows[near]\nprint(len(nearby), list(nearby['price'])[:10])"),
            ExpertStep("Now I parse the prices (drop '$' and ',', split on whitespace) and take the NAME of the "
                       "cheapest one.",
                       CHEAPEST_CODE.format(prices="nearby['price']", names="nearby['NAME']") + "\nprint(answer)\n"
                       "complete_task(f'The cheapest shared room nearby is {answer}.', answer)"),
        ]


TEMPLATES: list[Template] = [
    HostName(), DaysAvailable(), RoomType(), Price(), MinimumNights(), ConstructionYear(), ReviewCount(),
    LastReview(), ReviewRate(), ReviewsPerMonth(), ListingCount(), AveragePrice(), FlexibleShare(),
    MostExpensiveEntire(), HighRateCount(), CheapestInNeighbourhood(), CheapestSharedNearby(),
]
