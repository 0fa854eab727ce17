"""ToolQA Yelp: a synthetic business file in the Yelp academic format, and the 20 question templates.

The corpus is one JSON object per line with the 14 fields of ``yelp_academic_dataset_business.json``
(attributes dicts whose values may be dict-like strings, comma-separated categories with substring
pairs such as "Bars"/"Wine Bars", hours without zero padding, US postcodes with leading zeros and
Canadian ones, multi-city chains). Answers are computed on ``corpus.table("yelp")``, the all-string
frame that ``load_db`` returns, so the same code serves the real corpus and ToolQA-mini.
"""

from __future__ import annotations

import ast
import json
import math
import random
import string
from pathlib import Path
from typing import Any

import pandas as pd

from core.store import write_atomic
from tasks.toolqa.groups._tables import filter_argument, filterable, pick, select
from tasks.toolqa.groups.yelp_vocab import (
    ADJECTIVES,
    CHAINS,
    DAYS,
    FAMILIES,
    FAMILY_WEIGHTS,
    METROS,
    PLACES,
    STREETS,
    SURNAMES,
)
from tasks.toolqa.template import ConfiguredTemplate, ExpertStep, Slots, Template, report_step

FILE = "yelp/yelp_academic_dataset_business.json"
PROFILES = {"tiny": (2, 600), "standard": (8, 10_000)}  # metros, businesses
RADIUS_MILES = 5
REGEX_CHARS = set("()[]{}.*+?^$|\\")
CHAIN_SHARE = 0.05


# -- generator ----------------------------------------------------------------------------------
def _postcodes(rng: random.Random, prefix: str, n: int) -> list[str]:
    if prefix[0].isalpha():  # Canadian: FSA + " " + digit letter digit; many codes per city
        letters = "ABCEGHJKLMNPRSTVWXYZ"
        fsa = [prefix if len(prefix) == 3 else prefix + rng.choice(letters) for _ in range(4)]
        return [f"{rng.choice(fsa)} {rng.randint(0, 9)}{rng.choice(letters)}{rng.randint(0, 9)}"
                for _ in range(max(3, n // 3))]
    if len(prefix) == 5:
        return [prefix]
    return sorted({prefix + "".join(rng.choice(string.digits) for _ in range(5 - len(prefix)))
                   for _ in range(2 + n // 60)})


def _name(rng: random.Random, nouns: list[str], leaf: str) -> str:
    noun = rng.choice(nouns)
    form = rng.randrange(6)
    if form == 0:
        return f"{rng.choice(SURNAMES)}'s {noun}"
    if form == 1:
        return f"The {rng.choice(ADJECTIVES)} {noun}"
    if form == 2:
        return f"{rng.choice(PLACES)} {noun}"
    if form == 3:
        return f"{rng.choice(SURNAMES)} & {rng.choice(SURNAMES)} {noun}"
    if form == 4 and not REGEX_CHARS & set(leaf) and "/" not in leaf and "," not in leaf:
        return f"{rng.choice(ADJECTIVES)} {leaf} {noun}"
    return f"{rng.choice(ADJECTIVES)} {rng.choice(PLACES)} {noun}"


def _attributes(rng: random.Random, appointment_p: float) -> dict[str, str] | None:
    if rng.random() < 0.10:
        return None
    attrs: dict[str, str] = {}
    if rng.random() < 0.7:
        attrs["BusinessAcceptsCreditCards"] = str(rng.random() < 0.9)
    if rng.random() < 0.5:
        attrs["ByAppointmentOnly"] = str(rng.random() < appointment_p * 2)
    if rng.random() < 0.5:
        attrs["RestaurantsPriceRange2"] = str(rng.randint(1, 4))
    if rng.random() < 0.5:
        attrs["BikeParking"] = str(rng.random() < 0.6)
    if rng.random() < 0.45:
        flags = {k: rng.random() < 0.3 for k in ("garage", "street", "validated", "lot", "valet")}
        attrs["BusinessParking"] = repr(flags)
    if rng.random() < 0.35:
        attrs["WiFi"] = rng.choice(["u'free'", "u'no'", "'free'", "'no'", "u'paid'"])
    if rng.random() < 0.25:
        attrs["Alcohol"] = rng.choice(["u'none'", "u'full_bar'", "u'beer_and_wine'", "'none'"])
    if rng.random() < 0.25:
        attrs["GoodForKids"] = str(rng.random() < 0.7)
    return attrs


def _hours(rng: random.Random) -> dict[str, str] | None:
    if rng.random() < 0.15:
        return None
    opening = rng.choice([6, 7, 8, 9, 10, 11, 11, 12])
    closing = rng.choice([15, 17, 18, 20, 21, 22, 23, 0])
    minute = rng.choice([0, 0, 0, 30])
    days = DAYS[:] if rng.random() < 0.5 else DAYS[rng.randint(0, 1):rng.randint(5, 7)]
    hours = {d: f"{opening}:{minute}-{closing}:0" for d in days}
    if "Monday" in hours and rng.random() < 0.15:
        hours["Monday"] = "0:0-0:0"
    if "Friday" in hours and rng.random() < 0.3:
        hours["Friday"] = f"{opening}:{minute}-{(closing + 2) % 24}:0"
    return hours


def _stars(rng: random.Random) -> float:
    return min(5.0, max(1.0, round(rng.gauss(3.6, 0.9) * 2) / 2))


def _business(rng: random.Random, city: tuple[str, str, float, float, list[str], list[str]],
              name: str, categories: str | None, appointment_p: float) -> dict[str, Any]:
    cname, state, lat, lon, codes, streets = city
    address = f"{rng.randint(10, 15999)} {rng.choice(streets)}" if rng.random() > 0.01 else ""
    return {
        "business_id": "".join(rng.choice(string.ascii_letters + string.digits + "-_") for _ in range(22)),
        "name": name,
        "address": address,
        "city": cname,
        "state": state,
        "postal_code": rng.choice(codes),
        "latitude": round(lat + rng.gauss(0, 0.02), rng.choice([7, 7, 7, 10])),
        "longitude": round(lon + rng.gauss(0, 0.02), rng.choice([7, 7, 7, 10])),
        "stars": _stars(rng),
        "review_count": max(5, int(rng.lognormvariate(3.2, 1.1))),
        "is_open": int(rng.random() < 0.8),
        "attributes": _attributes(rng, appointment_p),
        "categories": categories,
        "hours": _hours(rng),
    }


def generate(root: Path, profile: str, rng: random.Random) -> dict[str, int]:
    """Write ``yelp/yelp_academic_dataset_business.json`` for ``profile`` ("tiny" or "standard")."""
    n_metros, n_rows = PROFILES[profile]
    cities, weights = [], []
    for _, mlat, mlon, members in METROS[:n_metros]:
        for cname, state, share, prefix in members:
            lat, lon = mlat + rng.gauss(0, 0.10), mlon + rng.gauss(0, 0.10)
            n_city = n_rows * share / (sum(s for m in METROS[:n_metros] for _, _, s, _ in m[3]))
            street_ids = rng.sample(range(len(STREETS)), 8)
            streets = [STREETS[i] for i in street_ids]
            if prefix[0].isalpha():
                streets = [f"{rng.randint(50, 180)} {rng.choice(['Ave', 'St'])}" for _ in range(4)] + streets[:4]
            cities.append((cname, state, lat, lon, _postcodes(rng, prefix, int(n_city)), streets))
            weights.append(share)
    rows = []
    chain_sites = int(n_rows * CHAIN_SHARE)
    n_chains = min(len(CHAINS), max(4, chain_sites // 6))
    for i in range(chain_sites):  # each chain in several cities, sometimes twice in one city
        name, categories = CHAINS[i % n_chains]
        rows.append(_business(rng, rng.choices(cities, weights)[0], name, categories, 0.05))
    for _ in range(n_rows - chain_sites):
        family = rng.choices(FAMILIES, FAMILY_WEIGHTS)[0]
        top, leaves, nouns, appointment_p = family
        picked = rng.sample(leaves, rng.choice([1, 1, 2, 2, 3]))
        categories = ", ".join(rng.sample([top, *picked], len(picked) + 1)) if rng.random() > 0.02 else None
        rows.append(_business(rng, rng.choices(cities, weights)[0], _name(rng, nouns, picked[0]), categories,
                              appointment_p))
    rng.shuffle(rows)
    text = "".join(json.dumps(row) + "\n" for row in rows)
    write_atomic(Path(root) / "data" / "external_corpus" / FILE, text)
    return {FILE: len(rows)}


# -- shared answer helpers ----------------------------------------------------------------------
def _in_category(df: pd.DataFrame, category: str) -> pd.DataFrame:
    return df[df["categories"].str.contains(category, regex=False)]


def _box(df: pd.DataFrame, lat: float, lon: float) -> pd.DataFrame:
    """Rows inside the ``RADIUS_MILES`` box around (lat, lon), as the hints teach."""
    dlat, dlon = RADIUS_MILES / 69, RADIUS_MILES / (69 * math.cos(math.radians(lat)))
    lats, lons = df["latitude"].astype(float), df["longitude"].astype(float)
    return df[(lats >= lat - dlat) & (lats <= lat + dlat) & (lons >= lon - dlon) & (lons <= lon + dlon)]


def _unique_top(values: pd.Series) -> bool:
    """The maximum is reached once (so "the first name with the maximum" is unambiguous)."""
    return len(values) > 1 and int((values == values.max()).sum()) == 1


def _plain_category(category: str) -> bool:
    return not REGEX_CHARS & set(category)


def _categories_of(row: pd.Series) -> list[str]:
    return [] if row["categories"] == "None" else row["categories"].split(", ")


def _sample_category_city(corpus: Any, rng: random.Random) -> Slots | None:
    """A category of a random business, with its city and state."""
    df = corpus.table("yelp")
    row = pick(df, rng)
    cats = [c for c in _categories_of(row) if _plain_category(c)]
    if not cats or not filterable(row["city"]):
        return None
    return {"category": rng.choice(cats), "city": row["city"], "state": row["state"]}


BOX_CODE = """dlat, dlon = 5 / 69, 5 / (69 * math.cos(math.radians(lat)))
lats, lons = df['latitude'].astype(float), df['longitude'].astype(float)
box = df[(lats >= lat - dlat) & (lats <= lat + dlat) & (lons >= lon - dlon) & (lons <= lon + dlon)]"""


LAT_LON_CODE = "lat, lon = float(get_value(row, 'latitude')), float(get_value(row, 'longitude'))\n"


def _cond(**where: str) -> str:
    """The ``data_filter`` argument for equality conditions, as a Python literal for expert code."""
    return repr(filter_argument(where))


def _in_city(slots: Slots) -> dict[str, str]:
    """The city (and state, when the question names it) of a category question."""
    return {k: slots[k] for k in ("city", "state") if k in slots}


def _category_in_city(corpus: Any, slots: Slots) -> pd.DataFrame:
    return _in_category(select(corpus.table("yelp"), _in_city(slots)), slots["category"])


def _category_in_city_code(slots: Slots) -> str:
    """Expert code that leaves the category's businesses of the city in ``hits``."""
    return (f"df = load_db('yelp')\ncity = data_filter(df, {_cond(**_in_city(slots))})\n"
            f"hits = city[city['categories'].str.contains({slots['category']!r}, regex=False)]\n")


# -- templates ----------------------------------------------------------------------------------
BY_LOCATION = ("name", "postal_code", "city", "state")  # slot names that identify one business
LOCATED = r"in (?:the )?area with postal code (?P<postal_code>.+?), (?P<city>[^,]+), (?P<state>[A-Z]{2})"


class YelpTemplate(ConfiguredTemplate):
    group = "yelp"


class FieldLookup(YelpTemplate):
    """Questions that name businesses by the slots ``keys`` (columns of the same names) and read ``field``."""

    def __init__(self, name: str, qtype: str, pattern: str, wording: str, format_tip: str,
                 keys: tuple[str, ...], field: str, unseen: bool = False) -> None:
        super().__init__(name, qtype, pattern, wording, format_tip, unseen)
        self.keys, self.field = keys, field

    def keyed_row(self, df: pd.DataFrame, rng: random.Random) -> tuple[pd.Series, Slots]:
        """A random row and its key slots."""
        row = pick(df, rng)
        return row, {k: row[k] for k in self.keys}

    def condition(self, slots: Slots) -> str:
        return _cond(**{k: slots[k] for k in self.keys})


class BusinessField(FieldLookup):
    """Easy lookups: one business identified by name (+ postcode, city, state), one field read."""

    def sample_slots(self, corpus: Any, rng: random.Random) -> Slots | None:
        df = corpus.table("yelp")
        row, slots = self.keyed_row(df, rng)
        if not all(filterable(v) for v in slots.values()) or len(select(df, slots)) != 1:
            return None
        if self.field in ("hours", "categories") and row[self.field] == "None":
            return None
        if self.field in ("is_open", "appointment") and self.answer(corpus, slots) != rng.choice(["Yes", "No"]):
            return None  # balance Yes and No
        return slots

    def answer(self, corpus: Any, slots: Slots) -> str:
        row = select(corpus.table("yelp"), {k: slots[k] for k in self.keys}).iloc[0]
        if self.field == "is_open":
            return "Yes" if row["is_open"] == "1" else "No"
        if self.field == "appointment":
            attrs = ast.literal_eval(row["attributes"])
            return "Yes" if attrs and attrs.get("ByAppointmentOnly") == "True" else "No"
        if self.field == "hours":
            return ", ".join(f"{day}: {span}" for day, span in ast.literal_eval(row["hours"]).items())
        if self.field == "coordinates":
            return f"{row['latitude']}, {row['longitude']}"
        return row[self.field]

    def solution(self, slots: Slots) -> list[ExpertStep]:
        condition = self.condition(slots)
        what = {"is_open": "is_open", "appointment": "attributes", "hours": "hours",
                "coordinates": "latitude and longitude"}.get(self.field, self.field)
        lookup = f"df = load_db('yelp')\nrow = data_filter(df, {condition})\n"
        if self.field == "is_open":
            code = "answer = 'Yes' if get_value(row, 'is_open') == '1' else 'No'"
        elif self.field == "appointment":
            code = ("attrs = get_value(row, 'attributes')\nprint(attrs)\n"
                    "attrs = ast.literal_eval(attrs)\n"
                    "answer = 'Yes' if attrs and attrs.get('ByAppointmentOnly') == 'True' else 'No'")
        elif self.field == "hours":
            code = ("hours = ast.literal_eval(get_value(row, 'hours'))\n"
                    "answer = ', '.join(f'{day}: {span}' for day, span in hours.items())")
        elif self.field == "coordinates":
            code = "answer = get_value(row, 'latitude') + ', ' + get_value(row, 'longitude')"
        else:
            code = f"answer = get_value(row, {self.field!r})"
        imports = "import ast\n" if self.field in ("appointment", "hours") else ""
        return [ExpertStep(f"I will load the yelp database, filter the row of {slots['name']} by "
                           f"{', '.join(self.keys)} and read its {what}.",
                           imports + lookup + code + "\nprint(answer)"),
                report_step(f"The {what} of {slots['name']} is {{answer}}.")]


class NameLookup(FieldLookup):
    """Lookups by name that may return several rows: address (name, pc), city (name, state), state."""

    def sample_slots(self, corpus: Any, rng: random.Random) -> Slots | None:
        df = corpus.table("yelp")
        _, slots = self.keyed_row(df, rng)
        if not all(filterable(v) for v in slots.values()):
            return None
        values = select(df, slots)[self.field]
        if (values == "").any() or (self.field == "state" and values.nunique() != 1):
            return None
        return slots

    def answer(self, corpus: Any, slots: Slots) -> str:
        return ", ".join(select(corpus.table("yelp"), slots)[self.field].unique())

    def solution(self, slots: Slots) -> list[ExpertStep]:
        return [ExpertStep(f"I will load the yelp database, filter {slots['name']} by {', '.join(self.keys)} and "
                           f"list the unique values of {self.field} in row order.",
                           f"df = load_db('yelp')\nrows = data_filter(df, {self.condition(slots)})\n"
                           f"answer = ', '.join(dict.fromkeys(rows[{self.field!r}]))\nprint(len(rows), answer)"),
                report_step(f"The {self.field} of {slots['name']}: {{answer}}.")]


class CategoryCount(YelpTemplate):
    """How many businesses of a category (substring of ``categories``) are in a city."""

    def sample_slots(self, corpus: Any, rng: random.Random) -> Slots | None:
        return _sample_category_city(corpus, rng)

    def answer(self, corpus: Any, slots: Slots) -> str:
        return str(len(_category_in_city(corpus, slots)))

    def solution(self, slots: Slots) -> list[ExpertStep]:
        return [ExpertStep(f"I will filter {slots['city']}, {slots['state']} with data_filter and then the "
                           f"category {slots['category']} with pandas str.contains on the categories column.",
                           _category_in_city_code(slots) +
                           "answer = str(len(hits))\nprint(answer)"),
                report_step(f"There are {{answer}} {slots['category']} businesses in {slots['city']}.")]


class PostcodeCount(YelpTemplate):
    def sample_slots(self, corpus: Any, rng: random.Random) -> Slots | None:
        row = pick(corpus.table("yelp"), rng)
        return {"postal_code": row["postal_code"], "city": row["city"], "state": row["state"]}

    def answer(self, corpus: Any, slots: Slots) -> str:
        return str(len(select(corpus.table("yelp"), dict(postal_code=slots["postal_code"]))))

    def solution(self, slots: Slots) -> list[ExpertStep]:
        return [ExpertStep(f"I will filter the yelp database by postal code {slots['postal_code']} and count rows.",
                           f"df = load_db('yelp')\nrows = data_filter(df, {_cond(postal_code=slots['postal_code'])})\n"
                           "answer = str(len(rows))\nprint(answer)"),
                report_step(f"There are {{answer}} businesses with postal code {slots['postal_code']}.")]


class CategoryBest(YelpTemplate):
    """The first business of a category in a city with the highest stars / review count."""

    def __init__(self, name: str, qtype: str, pattern: str, wording: str, format_tip: str, column: str) -> None:
        super().__init__(name, qtype, pattern, wording, format_tip)
        self.column = column

    def sample_slots(self, corpus: Any, rng: random.Random) -> Slots | None:
        slots = _sample_category_city(corpus, rng)
        if slots is None:
            return None
        values = _category_in_city(corpus, slots)[self.column].astype(float)
        return slots if _unique_top(values) else None

    def answer(self, corpus: Any, slots: Slots) -> str:
        hits = _category_in_city(corpus, slots)
        return hits["name"].iloc[int(hits[self.column].astype(float).to_numpy().argmax())]

    def solution(self, slots: Slots) -> list[ExpertStep]:
        return [ExpertStep(f"I will filter {slots['city']}, {slots['state']}, keep {slots['category']} businesses "
                           f"with str.contains, convert {self.column} to numbers and take the maximum.",
                           _category_in_city_code(slots) +
                           f"values = hits[{self.column!r}].astype(float)\n"
                           "print(hits[['name', " + repr(self.column) + "]])\n"
                           "answer = hits['name'].iloc[int(values.to_numpy().argmax())]\nprint(answer)"),
                report_step(f"The {slots['category']} business with the highest {self.column} is {{answer}}.")]


class RadiusAverage(YelpTemplate):
    """Mean review count of the businesses in the 5-mile box around a uniquely named business."""

    def sample_slots(self, corpus: Any, rng: random.Random) -> Slots | None:
        df = corpus.table("yelp")
        name = pick(df["name"], rng)
        return {"name": name} if filterable(name) and len(select(df, dict(name=name))) == 1 else None

    def answer(self, corpus: Any, slots: Slots) -> str:
        df = corpus.table("yelp")
        row = select(df, dict(name=slots["name"])).iloc[0]
        return f"{_box(df, float(row['latitude']), float(row['longitude']))['review_count'].astype(int).mean():.2f}"

    def solution(self, slots: Slots) -> list[ExpertStep]:
        return [ExpertStep(f"I will find {slots['name']}, build the 5-mile box (lat ± 5/69, lon ± 5/(69·cos lat)) "
                           "and average the review counts inside it.",
                           f"import math\ndf = load_db('yelp')\nrow = data_filter(df, {_cond(name=slots['name'])})\n"
                           f"{LAT_LON_CODE}"
                           f"{BOX_CODE}\nanswer = f\"{{box['review_count'].astype(int).mean():.2f}}\"\n"
                           "print(len(box), answer)"),
                report_step(f"The average review count within 5 miles of {slots['name']} is {{answer}}.")]


class Nearest(YelpTemplate):
    """The category business closest (squared-degree distance) to a uniquely named business."""

    def _distances(self, corpus: Any, slots: Slots) -> tuple[pd.DataFrame, pd.Series]:
        df = corpus.table("yelp")
        row = select(df, dict(name=slots["name"])).iloc[0]
        hits = _in_category(df, slots["category"])
        d = ((hits["latitude"].astype(float) - float(row["latitude"])) ** 2
             + (hits["longitude"].astype(float) - float(row["longitude"])) ** 2)
        return hits, d

    def sample_slots(self, corpus: Any, rng: random.Random) -> Slots | None:
        df = corpus.table("yelp")
        row, other = pick(df, rng), pick(df, rng)
        cats = [c for c in _categories_of(other) if _plain_category(c) and c not in row["categories"]]
        if not cats or not filterable(row["name"]) or len(select(df, dict(name=row["name"]))) != 1:
            return None
        slots = {"category": rng.choice(cats), "name": row["name"]}
        _, d = self._distances(corpus, slots)
        return slots if int((d == d.min()).sum()) == 1 else None

    def answer(self, corpus: Any, slots: Slots) -> str:
        hits, d = self._distances(corpus, slots)
        return hits["name"].iloc[int(d.to_numpy().argmin())]

    def solution(self, slots: Slots) -> list[ExpertStep]:
        return [ExpertStep(f"I will locate {slots['name']}, keep {slots['category']} businesses with str.contains "
                           "and pick the one with the smallest squared distance in degrees.",
                           f"df = load_db('yelp')\nrow = data_filter(df, {_cond(name=slots['name'])})\n"
                           f"{LAT_LON_CODE}"
                           f"hits = df[df['categories'].str.contains({slots['category']!r}, regex=False)]\n"
                           "d = (hits['latitude'].astype(float) - lat) ** 2 + (hits['longitude'].astype(float) - lon) ** 2\n"
                           "answer = hits['name'].iloc[int(d.to_numpy().argmin())]\nprint(answer, d.min())"),
                report_step(f"The nearest {slots['category']} business to {slots['name']} is {{answer}}.")]


class Recommend(YelpTemplate):
    """The category business with the highest stars in the 5-mile box around an address."""

    def _candidates(self, corpus: Any, slots: Slots) -> pd.DataFrame:
        df = corpus.table("yelp")
        row = select(df, dict(address=slots["address"])).iloc[0]
        return _in_category(_box(df, float(row["latitude"]), float(row["longitude"])), slots["category"])

    def sample_slots(self, corpus: Any, rng: random.Random) -> Slots | None:
        df = corpus.table("yelp")
        row = pick(df, rng)
        if not filterable(row["address"]) or len(select(df, dict(address=row["address"]))) != 1:
            return None
        box = _box(df, float(row["latitude"]), float(row["longitude"]))
        neighbour = pick(box, rng)
        cats = [c for c in _categories_of(neighbour) if _plain_category(c)]
        if not cats:
            return None
        slots = {"category": rng.choice(cats), "address": row["address"]}
        return slots if _unique_top(self._candidates(corpus, slots)["stars"].astype(float)) else None

    def answer(self, corpus: Any, slots: Slots) -> str:
        hits = self._candidates(corpus, slots)
        return hits["name"].iloc[int(hits["stars"].astype(float).to_numpy().argmax())]

    def solution(self, slots: Slots) -> list[ExpertStep]:
        return [ExpertStep(f"I will locate {slots['address']}, build the 5-mile box, keep {slots['category']} "
                           "businesses with str.contains and take the highest star rating.",
                           f"import math\ndf = load_db('yelp')\nrow = data_filter(df, {_cond(address=slots['address'])})\n"
                           f"{LAT_LON_CODE}"
                           f"{BOX_CODE}\n"
                           f"hits = box[box['categories'].str.contains({slots['category']!r}, regex=False)]\n"
                           "print(hits[['name', 'stars']])\n"
                           "answer = hits['name'].iloc[int(hits['stars'].astype(float).to_numpy().argmax())]\n"
                           "print(answer)"),
                report_step("I recommend {answer}.")]


class NotOpen(YelpTemplate):
    def sample_slots(self, corpus: Any, rng: random.Random) -> Slots | None:
        city = pick(corpus.table("yelp")["city"], rng)
        return {"city": city} if filterable(city) else None

    def answer(self, corpus: Any, slots: Slots) -> str:
        return str(len(select(corpus.table("yelp"), dict(city=slots["city"], is_open="0"))))

    def solution(self, slots: Slots) -> list[ExpertStep]:
        return [ExpertStep(f"I will filter {slots['city']} and count the rows with is_open equal to 0.",
                           f"df = load_db('yelp')\ncity = data_filter(df, {_cond(city=slots['city'])})\n"
                           "answer = str(int((city['is_open'] == '0').sum()))\nprint(len(city), answer)"),
                report_step(f"{{answer}} businesses are not open in {slots['city']}.")]


class AverageStars(YelpTemplate):
    def sample_slots(self, corpus: Any, rng: random.Random) -> Slots | None:
        slots = _sample_category_city(corpus, rng)
        return None if slots is None else {"category": slots["category"], "city": slots["city"]}

    def answer(self, corpus: Any, slots: Slots) -> str:
        hits = _category_in_city(corpus, slots)
        return f"{hits['stars'].astype(float).mean():.1f}"

    def solution(self, slots: Slots) -> list[ExpertStep]:
        return [ExpertStep(f"I will filter {slots['city']}, keep {slots['category']} businesses with str.contains "
                           "and average their stars.",
                           _category_in_city_code(slots) +
                           "answer = f\"{hits['stars'].astype(float).mean():.1f}\"\nprint(len(hits), answer)"),
                report_step(f"The average star rating of {slots['category']} businesses in {slots['city']} is {{answer}}.")]


_AT = "in area with postal code {postal_code}, {city}, {state}"
TEMPLATES: list[Template] = [
    NameLookup("address", "address", r"What is the address of (?P<name>.+) in area with postal code (?P<postal_code>[^,?]+)\?",
               "What is the address of {name} in area with postal code {postal_code}?",
               "Format tip: give the street address; if there are several, separate the unique addresses with ', '.",
               ("name", "postal_code"), "address", unseen=True),
    NameLookup("city", "city", r"Which city is (?P<name>.+) located in (?P<state>[A-Z]{2})\?",
               "Which city is {name} located in {state}?",
               "Format tip: give the city name; if there are several, separate the unique cities with ', '.",
               ("name", "state"), "city"),
    NameLookup("state", "state", r"What state is (?P<name>.+) located in\?", "What state is {name} located in?",
               "Format tip: give the two-letter state code, e.g. PA.", ("name",), "state"),
    BusinessField("postal-code", "postal code",
                  r"What is the postal code of (?P<name>.+) in (?P<city>[^,]+), (?P<state>[A-Z]{2})\?",
                  "What is the postal code of {name} in {city}, {state}?",
                  "Format tip: give the postal code as stored, e.g. 08083 or T5V 1H9.", ("name", "city", "state"),
                  "postal_code"),
    BusinessField("star-rating", "star rating", rf"What is the star rating of (?P<name>.+) {LOCATED}\?",
                  f"What is the star rating of {{name}} {_AT}?", "Format tip: give the rating as stored, e.g. 4.5.",
                  BY_LOCATION, "stars", unseen=True),
    BusinessField("review-count", "how many reviews",
                  rf"How many reviews does (?P<name>.+) receive {LOCATED}, received\?",
                  "How many reviews does {name} receive in the area with postal code {postal_code}, {city}, "
                  "{state}, received?", "Format tip: give an integer.", BY_LOCATION, "review_count"),
    BusinessField("is-open", "yes or no - openning", rf"Is (?P<name>.+) still open {LOCATED}\?",
                  f"Is {{name}} still open {_AT}?", "Format tip: answer Yes or No.", BY_LOCATION, "is_open"),
    BusinessField("appointment", "yes or no - appointment", rf"Does (?P<name>.+) require appointment {LOCATED}\?",
                  f"Does {{name}} require appointment {_AT}?", "Format tip: answer Yes or No.", BY_LOCATION,
                  "appointment"),
    BusinessField("hours", "hours of operation", rf"What are the hours of operation for (?P<name>.+) {LOCATED}\?",
                  f"What are the hours of operation for {{name}} {_AT}?",
                  "Format tip: list the days as stored, e.g. 'Monday: 11:0-15:0, Tuesday: 11:0-15:0'.",
                  BY_LOCATION, "hours"),
    BusinessField("categories", "categories", rf"What categories does (?P<name>.+) belong to, {LOCATED}\?",
                  f"What categories does {{name}} belong to, {_AT}?",
                  "Format tip: give the categories string as stored, separated by ', '.", BY_LOCATION,
                  "categories"),
    BusinessField("coordinates", "coordinates", rf"What are the coordinates of (?P<name>.+) {LOCATED}\?",
                  f"What are the coordinates of {{name}} {_AT}?",
                  "Format tip: give 'latitude, longitude' as stored, e.g. '40.2893931, -75.1994282'.",
                  BY_LOCATION, "coordinates", unseen=True),
    CategoryCount("business-count", "how many business",
                  r"How many (?P<category>.+) businesses are there in (?P<city>[^,]+), (?P<state>[A-Z]{2})\?",
                  "How many {category} businesses are there in {city}, {state}?", "Format tip: give an integer."),
    PostcodeCount("postcode-count", "business in total",
                  r"How many businesses are there in (?P<postal_code>.+?) area of (?P<city>[^,]+), (?P<state>[A-Z]{2})\?",
                  "How many businesses are there in {postal_code} area of {city}, {state}?",
                  "Format tip: give an integer.", unseen=True),
    CategoryBest("highest-stars", "highest star rating",
                 r"Which (?P<category>.+) business has the highest star rating in (?P<city>[^,]+), (?P<state>[A-Z]{2})\?",
                 "Which {category} business has the highest star rating in {city}, {state}?",
                 "Format tip: give the business name.", "stars"),
    CategoryBest("highest-reviews", "highest review count",
                 r"Which (?P<category>.+) business has the highest review count in (?P<city>[^,]+), (?P<state>[A-Z]{2})\?",
                 "Which {category} business has the highest review count in {city}, {state}?",
                 "Format tip: give the business name.", "review_count"),
    RadiusAverage("radius-average-reviews", "average review counts",
                  r"What is the average review counts of businesses within a 5-mile radius from (?P<name>.+)\?",
                  "What is the average review counts of businesses within a 5-mile radius from {name}?",
                  "Format tip: give a number with two decimals, e.g. 45.92.", unseen=True),
    Nearest("nearest", "nearest business", r"Which is the nearest (?P<category>.+?) business to (?P<name>.+)\?",
            "Which is the nearest {category} business to {name}?", "Format tip: give the business name."),
    Recommend("recommend", "business recommendation",
              r"Can you recommend a (?P<category>.+) business with the highest star rating within a 5-mile radius of "
              r"(?P<address>.+)\?",
              "Can you recommend a {category} business with the highest star rating within a 5-mile radius of "
              "{address}?", "Format tip: give the business name."),
    NotOpen("not-open", "business not open", r"How many businesses are not open currently in (?P<city>.+)\?",
            "How many businesses are not open currently in {city}?", "Format tip: give an integer."),
    AverageStars("average-stars", "average star rating",
                 r"What is the average star rating of (?P<category>.+) businesses in (?P<city>.+)\?",
                 "What is the average star rating of {category} businesses in {city}?",
                 "Format tip: give a number with one decimal, e.g. 3.5.", unseen=True),
]
