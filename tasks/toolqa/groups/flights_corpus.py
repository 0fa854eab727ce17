"""ToolQA flights: the generator of the synthetic ``Combined_Flights_2022.csv``.

It writes the real 61 columns in the real order with the dtypes that decide the string forms the
agent sees: hhmm actual times are floats (``'1752.0'``), scheduled times ints, cancelled flights have
NaN actual times, ``Distance`` is a float. Airports carry consistent ids, city, state, FIPS and WAC
codes; flight numbers repeat daily, about 10 % fly two legs, regional carriers operate about a third
of the flights under a mainline marketing code (a question's flight id is always the *marketing*
``IATA_Code_Marketing_Airline`` + ``Flight_Number_Marketing_Airline``).
"""

from __future__ import annotations

import datetime as dt
import math
import random
from pathlib import Path

import pandas as pd

from core.store import write_atomic

FILE = "flights/Combined_Flights_2022.csv"
COLUMNS = (
    "FlightDate Airline Origin Dest Cancelled Diverted CRSDepTime DepTime DepDelayMinutes DepDelay ArrTime "
    "ArrDelayMinutes AirTime CRSElapsedTime ActualElapsedTime Distance Year Quarter Month DayofMonth DayOfWeek "
    "Marketing_Airline_Network Operated_or_Branded_Code_Share_Partners DOT_ID_Marketing_Airline "
    "IATA_Code_Marketing_Airline Flight_Number_Marketing_Airline Operating_Airline DOT_ID_Operating_Airline "
    "IATA_Code_Operating_Airline Tail_Number Flight_Number_Operating_Airline OriginAirportID OriginAirportSeqID "
    "OriginCityMarketID OriginCityName OriginState OriginStateFips OriginStateName OriginWac DestAirportID "
    "DestAirportSeqID DestCityMarketID DestCityName DestState DestStateFips DestStateName DestWac DepDel15 "
    "DepartureDelayGroups DepTimeBlk TaxiOut WheelsOff WheelsOn TaxiIn CRSArrTime ArrDelay ArrDel15 "
    "ArrivalDelayGroups ArrTimeBlk DistanceGroup DivAirportLandings"
).split()

# state: (name, FIPS, world area code)
STATES = {
    "AK": ("Alaska", 2, 1), "HI": ("Hawaii", 15, 2), "PR": ("Puerto Rico", 72, 3), "ME": ("Maine", 23, 11),
    "MA": ("Massachusetts", 25, 13), "NJ": ("New Jersey", 34, 21), "NY": ("New York", 36, 22),
    "PA": ("Pennsylvania", 42, 23), "FL": ("Florida", 12, 33), "GA": ("Georgia", 13, 34),
    "MD": ("Maryland", 24, 35), "NC": ("North Carolina", 37, 36), "SC": ("South Carolina", 45, 37),
    "VA": ("Virginia", 51, 38), "IL": ("Illinois", 17, 41), "IN": ("Indiana", 18, 42), "MI": ("Michigan", 26, 43),
    "OH": ("Ohio", 39, 44), "WI": ("Wisconsin", 55, 45), "TN": ("Tennessee", 47, 54), "IA": ("Iowa", 19, 61),
    "KS": ("Kansas", 20, 62), "MN": ("Minnesota", 27, 63), "MO": ("Missouri", 29, 64), "NE": ("Nebraska", 31, 67),
    "AR": ("Arkansas", 5, 71), "LA": ("Louisiana", 22, 72), "OK": ("Oklahoma", 40, 73), "TX": ("Texas", 48, 74),
    "AZ": ("Arizona", 4, 81), "CO": ("Colorado", 8, 82), "ID": ("Idaho", 16, 83), "NV": ("Nevada", 32, 85),
    "NM": ("New Mexico", 35, 86), "UT": ("Utah", 49, 87), "CA": ("California", 6, 91), "OR": ("Oregon", 41, 92),
    "WA": ("Washington", 53, 93),
}
# code, city, state, UTC offset (h), lat, lon; the first 8 are hubs
AIRPORTS = [line.split(";") for line in """\
ATL;Atlanta;GA;-5;33.64;-84.43
ORD;Chicago;IL;-6;41.98;-87.90
DFW;Dallas/Fort Worth;TX;-6;32.90;-97.04
DEN;Denver;CO;-7;39.86;-104.67
CLT;Charlotte;NC;-5;35.21;-80.94
LAX;Los Angeles;CA;-8;33.94;-118.41
IAH;Houston;TX;-6;29.98;-95.34
MSP;Minneapolis;MN;-6;44.88;-93.22
JFK;New York;NY;-5;40.64;-73.78
LGA;New York;NY;-5;40.78;-73.87
EWR;Newark;NJ;-5;40.69;-74.17
BOS;Boston;MA;-5;42.36;-71.01
DCA;Washington;VA;-5;38.85;-77.04
IAD;Washington;VA;-5;38.95;-77.46
PHL;Philadelphia;PA;-5;39.87;-75.24
MIA;Miami;FL;-5;25.80;-80.29
MCO;Orlando;FL;-5;28.43;-81.31
TPA;Tampa;FL;-5;27.98;-82.53
FLL;Fort Lauderdale;FL;-5;26.07;-80.15
DTW;Detroit;MI;-5;42.21;-83.35
SEA;Seattle;WA;-8;47.45;-122.31
SFO;San Francisco;CA;-8;37.62;-122.38
SAN;San Diego;CA;-8;32.73;-117.19
LAS;Las Vegas;NV;-8;36.08;-115.15
PHX;Phoenix;AZ;-7;33.43;-112.01
SLC;Salt Lake City;UT;-7;40.79;-111.98
PDX;Portland;OR;-8;45.59;-122.60
BWI;Baltimore;MD;-5;39.18;-76.67
MDW;Chicago;IL;-6;41.79;-87.75
BNA;Nashville;TN;-6;36.12;-86.68
AUS;Austin;TX;-6;30.19;-97.67
SAT;San Antonio;TX;-6;29.53;-98.47
RDU;Raleigh/Durham;NC;-5;35.88;-78.79
STL;St. Louis;MO;-6;38.75;-90.37
MCI;Kansas City;MO;-6;39.30;-94.71
CLE;Cleveland;OH;-5;41.41;-81.85
CMH;Columbus;OH;-5;39.99;-82.89
IND;Indianapolis;IN;-5;39.72;-86.29
PIT;Pittsburgh;PA;-5;40.49;-80.23
MSY;New Orleans;LA;-6;29.99;-90.26
SJU;San Juan;PR;-4;18.44;-66.00
HNL;Honolulu;HI;-10;21.32;-157.92
ANC;Anchorage;AK;-9;61.17;-149.99
BUF;Buffalo;NY;-5;42.94;-78.73
SYR;Syracuse;NY;-5;43.11;-76.11
PWM;Portland;ME;-5;43.65;-70.31
CHS;Charleston;SC;-5;32.90;-80.04
SAV;Savannah;GA;-5;32.13;-81.20
GSP;Greer;SC;-5;34.90;-82.22
AVL;Asheville;NC;-5;35.44;-82.54
CHO;Charlottesville;VA;-5;38.14;-78.45
TYS;Knoxville;TN;-5;35.81;-83.99
XNA;Fayetteville;AR;-6;36.28;-94.31
DSM;Des Moines;IA;-6;41.53;-93.66
OMA;Omaha;NE;-6;41.30;-95.89
ICT;Wichita;KS;-6;37.65;-97.43
OKC;Oklahoma City;OK;-6;35.39;-97.60
ABQ;Albuquerque;NM;-7;35.04;-106.61
BOI;Boise;ID;-7;43.56;-116.22
MKE;Milwaukee;WI;-6;42.95;-87.90""".splitlines()]

# marketing code: (DOT id, mainline operator name, preferred hubs)
MARKETING = {
    "AA": (19805, "American Airlines Inc.", ("DFW", "CLT", "ORD", "PHL", "MIA")),
    "DL": (19790, "Delta Air Lines Inc.", ("ATL", "MSP", "DTW", "JFK")),
    "UA": (19977, "United Air Lines Inc.", ("ORD", "DEN", "IAH", "EWR", "SFO", "IAD")),
    "WN": (19393, "Southwest Airlines Co.", ("MDW", "DEN", "LAS", "BWI", "PHX")),
    "B6": (20409, "JetBlue Airways", ("JFK", "BOS", "FLL", "MCO")),
    "AS": (19930, "Alaska Airlines Inc.", ("SEA", "PDX", "ANC", "SFO")),
    "NK": (20416, "Spirit Air Lines", ("FLL", "LAS", "MCO", "DTW")),
    "F9": (20436, "Frontier Airlines Inc.", ("DEN", "MCO", "LAS")),
    "G4": (20368, "Allegiant Air", ("LAS", "TPA", "AVL")),
    "HA": (19690, "Hawaiian Airlines Inc.", ("HNL", "LAX")),
}
# regional operator: (DOT id, name, marketing partners)
REGIONAL = {
    "OO": (20304, "SkyWest Airlines Inc.", ("AA", "DL", "UA", "AS")),
    "YX": (20452, "Republic Airlines", ("AA", "DL", "UA")),
    "MQ": (20398, "Envoy Air", ("AA",)),
    "9E": (20363, "Endeavor Air Inc.", ("DL",)),
    "G7": (20500, "GoJet Airlines, LLC d/b/a United Express", ("UA",)),
    "C5": (20445, "Commutair Aka Champlain Enterprises, Inc.", ("UA",)),
}
NATIONAL = ("AA", "DL", "UA", "WN", "B6", "NK", "F9", "G4")  # carriers flying anywhere, not only from hubs
PROFILES = {  # days from 2022-01-03, airports, routes, scheduled legs per day, storm days
    "tiny": dict(days=7, airports=20, routes=40, legs=62, storms=(1,)),  # 7 days: every weekday, 5+ dates
    "standard": dict(days=28, airports=60, routes=350, legs=1500, storms=(9, 20)),
}


def _miles(a: list[str], b: list[str]) -> float:
    la1, lo1, la2, lo2 = map(math.radians, (float(a[4]), float(a[5]), float(b[4]), float(b[5])))
    h = math.sin((la2 - la1) / 2) ** 2 + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    return 3958.8 * 2 * math.asin(math.sqrt(h))


def _hhmm(minutes: int) -> int:
    minutes %= 1440
    return minutes // 60 * 100 + minutes % 60


def _block(hhmm: int) -> str:
    h = hhmm // 100
    return "0001-0559" if h < 6 else f"{h:02d}00-{h:02d}59"


def _airport_info(rng: random.Random, airports: list[list[str]]) -> dict[str, dict]:
    ids = rng.sample(range(10135, 16000), len(airports))
    markets: dict[str, int] = {}
    info = {}
    for (code, city, state, tz, *_), aid in zip(airports, ids, strict=True):
        name, fips, wac = STATES[state]
        market = markets.setdefault(f"{city}, {state}", 30000 + rng.randrange(100, 5000))
        info[code] = dict(ID=aid, SeqID=aid * 100 + rng.randrange(1, 10), CityMarketID=market,
                          CityName=f"{city}, {state}", State=state, StateFips=fips, StateName=name, Wac=wac,
                          tz=int(tz))
    return info


def _routes(rng: random.Random, airports: list[list[str]], n: int) -> list[tuple[str, str, float]]:
    """Directed routes (both directions of each pair), mostly from hubs, 70-2,700 miles, ~20 % short hops."""
    pairs: dict[tuple[str, str], float] = {}
    while len(pairs) < n // 2:
        a = rng.choice(airports[:8]) if rng.random() < 0.8 else rng.choice(airports)
        near = [b for b in airports if 70 <= _miles(a, b) <= 300]
        b = rng.choice(near) if near and rng.random() < 0.2 else rng.choice(airports)
        miles = _miles(a, b)
        key = tuple(sorted((a[0], b[0])))
        if 70 <= miles <= 2700 and key not in pairs:
            pairs[key] = round(miles)
    return [(o, d, float(m)) for (x, y), m in sorted(pairs.items()) for o, d in ((x, y), (y, x))]


def _legs(rng: random.Random, routes: list[tuple[str, str, float]], n_legs: int) -> list[dict]:
    """The daily schedule: legs with marketing id, operator, scheduled times; some two-leg numbers."""
    by_origin: dict[str, list[tuple[str, str, float]]] = {}
    for r in routes:
        by_origin.setdefault(r[0], []).append(r)
    used: set[tuple[str, int]] = set()
    legs: list[dict] = []
    while len(legs) < n_legs:
        origin, dest, miles = rng.choice(routes)
        hubbed = [c for c, (_, _, hubs) in MARKETING.items() if origin in hubs or dest in hubs]
        carrier = rng.choice(hubbed) if hubbed and rng.random() < 0.8 else rng.choice(NATIONAL)
        partners = [op for op, (_, _, mk) in REGIONAL.items() if carrier in mk]
        operator = rng.choice(partners) if partners and miles < 1300 and rng.random() < 0.5 else carrier
        low, high = (3000, 6999) if operator != carrier else (1, 2999)
        number = rng.randint(low, high)
        if (carrier, number) in used:
            continue
        used.add((carrier, number))
        dep = rng.randrange(330, 1380, 5) + rng.choice((0, 0, 0, 1, 2, 3, 4))
        for _ in range(2 if rng.random() < 0.1 else 1):
            air = miles / 7.6 + 14
            elapsed = int(round((air + 27) / 5) * 5)
            legs.append(dict(carrier=carrier, number=number, operator=operator, origin=origin, dest=dest,
                             miles=miles, air=air, dep=dep, elapsed=elapsed))
            onward = [r for r in by_origin.get(dest, []) if r[1] != origin]
            if not onward:
                break
            dep += elapsed + rng.randrange(40, 95, 5)
            origin, dest, miles = rng.choice(onward)
    return legs


def _delay(rng: random.Random, storm: bool) -> int:
    u = rng.random()
    if u < (0.45 if storm else 0.6):
        return -rng.randint(0, 10)
    if u < 0.85:
        return rng.randint(1, 14)
    return int(rng.expovariate(1 / (90 if storm else 45))) + 15 if u < 0.97 else int(rng.expovariate(1 / 160)) + 15


def _row(rng: random.Random, leg: dict, day: dt.date, storm: bool, fate: str, ports: dict, tails: dict) -> dict:
    o, d = ports[leg["origin"]], ports[leg["dest"]]
    carrier, operator = leg["carrier"], leg["operator"]
    mk_dot, _, _ = MARKETING[carrier]
    op_dot, op_name = (REGIONAL[operator][:2] if operator in REGIONAL else MARKETING[operator][:2])
    shift = (d["tz"] - o["tz"]) * 60
    crs_dep = _hhmm(leg["dep"])
    crs_arr = _hhmm(leg["dep"] + leg["elapsed"] + shift)
    nan = float("nan")
    row = dict(
        FlightDate=day.isoformat(), Airline=op_name, Origin=leg["origin"], Dest=leg["dest"],
        Cancelled=fate == "cancelled", Diverted=fate == "diverted", CRSDepTime=crs_dep,
        CRSElapsedTime=float(leg["elapsed"]), Distance=leg["miles"], Year=day.year, Quarter=(day.month - 1) // 3 + 1,
        Month=day.month, DayofMonth=day.day, DayOfWeek=day.isoweekday(), Marketing_Airline_Network=carrier,
        Operated_or_Branded_Code_Share_Partners=carrier if operator == carrier else f"{carrier}_CODESHARE",
        DOT_ID_Marketing_Airline=mk_dot, IATA_Code_Marketing_Airline=carrier,
        Flight_Number_Marketing_Airline=leg["number"], Operating_Airline=operator, DOT_ID_Operating_Airline=op_dot,
        IATA_Code_Operating_Airline=operator, Tail_Number=rng.choice(tails[operator]),
        Flight_Number_Operating_Airline=leg["number"], DepTimeBlk=_block(crs_dep), CRSArrTime=crs_arr,
        ArrTimeBlk=_block(crs_arr), DistanceGroup=min(11, int(leg["miles"] // 250) + 1),
        DivAirportLandings=int(fate == "diverted"),
    )
    for side, p in (("Origin", o), ("Dest", d)):
        for key in ("AirportID", "AirportSeqID", "CityMarketID", "CityName", "State", "StateFips", "StateName",
                    "Wac"):
            row[side + key] = p[key.replace("Airport", "")] if key.startswith("Airport") else p[key]
    late = ("DepTime DepDelayMinutes DepDelay ArrTime ArrDelayMinutes AirTime ActualElapsedTime DepDel15 "
            "DepartureDelayGroups TaxiOut WheelsOff WheelsOn TaxiIn ArrDelay ArrDel15 ArrivalDelayGroups").split()
    row.update(dict.fromkeys(late, nan))
    if fate == "cancelled":
        return row
    delay = _delay(rng, storm)
    taxi_out = rng.randint(8, 24) + (rng.randint(0, 25) if storm else 0)
    dep = leg["dep"] + delay
    row.update(DepTime=float(_hhmm(dep)), DepDelay=float(delay), DepDelayMinutes=float(max(0, delay)),
               DepDel15=float(delay >= 15), DepartureDelayGroups=float(max(-2, min(12, math.floor(delay / 15)))),
               TaxiOut=float(taxi_out), WheelsOff=float(_hhmm(dep + taxi_out)))
    if fate == "diverted":
        return row
    air = max(20, int(round(leg["air"] * rng.uniform(0.9, 1.08) + rng.gauss(0, 3))))
    taxi_in = rng.randint(3, 14) + (rng.randint(0, 20) if rng.random() < 0.1 else 0)
    actual = taxi_out + air + taxi_in
    arr_delay = delay + actual - leg["elapsed"]
    row.update(AirTime=float(air), WheelsOn=float(_hhmm(dep + taxi_out + air + shift)), TaxiIn=float(taxi_in),
               ArrTime=float(_hhmm(dep + actual + shift)), ActualElapsedTime=float(actual),
               ArrDelay=float(arr_delay), ArrDelayMinutes=float(max(0, arr_delay)), ArrDel15=float(arr_delay >= 15),
               ArrivalDelayGroups=float(max(-2, min(12, math.floor(arr_delay / 15)))))
    return row


def generate(root: Path, profile: str, rng: random.Random) -> dict[str, int]:
    """Write ``<root>/data/external_corpus/flights/Combined_Flights_2022.csv``; returns its row count."""
    p = PROFILES[profile]
    airports = AIRPORTS[: p["airports"]]
    ports = _airport_info(rng, airports)
    legs = _legs(rng, _routes(rng, airports, p["routes"]), p["legs"])
    operators = sorted({leg["operator"] for leg in legs})
    tails = {op: [f"N{rng.randint(100, 999)}{rng.choice('ABCDEFGHJKLMNPRSTUVWXYZ')}{op[0]}" for _ in range(80)]
             for op in operators}
    rows = []
    for i in range(p["days"]):
        day = dt.date(2022, 1, 3) + dt.timedelta(days=i)
        storm = i in p["storms"]
        todays = [leg for leg in legs if rng.random() < 0.95]
        fates = ["cancelled" if rng.random() < (0.15 if storm else 0.02) else "flown" for _ in todays]
        flown = [k for k, f in enumerate(fates) if f == "flown"]
        diverted = max(1, sum(rng.random() < (0.006 if storm else 0.0025) for _ in flown))
        for k in rng.sample(flown, diverted):
            fates[k] = "diverted"
        day_rows = [_row(rng, leg, day, storm, fate, ports, tails) for leg, fate in zip(todays, fates, strict=True)]
        order = {op: rng.random() for op in operators}
        day_rows.sort(key=lambda r: (order[r["Operating_Airline"]], r["Origin"], r["CRSDepTime"]))
        rows += day_rows
    frame = pd.DataFrame(rows, columns=COLUMNS)
    path = root / "data" / "external_corpus" / FILE
    write_atomic(path, frame.to_csv(index=False))
    return {FILE: len(frame)}
