"""ToolQA Agenda: synthetic 2022 events, their documents in words, and the 7 question templates.

Each event (person, event, location, half-hour start and end) becomes one short document written
with one of ~20 paraphrases and the date in words ("On January 29, 2022, there will be ..."); a few
documents describe two events of the same person and day. The raw events go to
``agenda_events.jsonl`` (the ground truth), the documents to ``agenda_descriptions_merged.jsonl``.

Expert solutions retrieve many documents (k = 1000, two queries), keep those that name the person
(or the event) and the date in words, then parse each event description with ``EVENT_RE`` and
filter the parsed events exactly, so they do not depend on the retrieval ranking.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path
from typing import Any

from core.store import write_atomic
from tasks.toolqa.template import ConfiguredTemplate, ExpertStep, Slots, Template

DOCS_FILE = "agenda/agenda_descriptions_merged.jsonl"
EVENTS_FILE = "agenda/agenda_events.jsonl"
PROFILES = {"tiny": (500, 20), "standard": (10_000, 120)}  # events, people
MERGED_SHARE = 0.03
WINDOW = ("9:00 AM", "6:00 PM")
K = 1000

PEOPLE = ["Henry", "Daisy", "Brian", "George", "Daniel", "Joshua", "Aidan", "Matilda", "Aurora", "Faith", "Millie",
          "Charles", "Natalie", "Willow", "Adam", "Anthony", "Charlotte", "Albert", "Andrew", "Grace", "Elizabeth",
          "Ava", "Emily", "Lily", "Georgina", "James", "Amelia", "Thomas", "Isabella", "Alice", "Richard", "Joseph",
          "Chloe", "Benjamin", "Sophia", "Freya", "Molly", "Ruby", "Esme", "Zara", "Hector", "Adrian", "Mia",
          "Robert", "Georgia", "Elsie", "Phillip", "Felix", "Phoebe", "Layla", "William", "Madison", "Patrick",
          "Jessica", "Victoria", "Lucy", "Emma", "Imogen", "Jasmine", "Jade", "Stephen", "Summer", "David",
          "Oliver", "Harry", "Jacob", "Noah", "Leo", "Oscar", "Arthur", "Theo", "Isla", "Ivy", "Rosie", "Poppy",
          "Evelyn", "Hannah", "Scarlett", "Eleanor", "Harriet", "Samuel", "Edward", "Louis", "Max", "Sebastian",
          "Nathan", "Ethan", "Lucas", "Mason", "Logan", "Caleb", "Owen", "Isaac", "Gabriel", "Julian", "Miles",
          "Clara", "Violet", "Hazel", "Nora", "Stella", "Maya", "Naomi", "Sarah", "Rachel", "Leah", "Abigail",
          "Penelope", "Beatrice", "Florence", "Matthew", "Christopher", "Dominic", "Vincent", "Simon", "Peter",
          "Martin", "Gregory", "Kevin", "Tobias"]

# event: (name, locations, start window in hours [from, to), durations in half hours)
MORNING, AFTERNOON, EVENING, DAYTIME = (7, 11), (12, 16), (17, 21), (9, 10)
EVENTS: list[tuple[str, list[str], tuple[int, int], list[int]]] = [
    ("Opera Performance", ["Lyric Opera House", "Metropolitan Opera House"], EVENING, [4, 5, 6]),
    ("Broadway Show", ["Majestic Theatre", "Gershwin Theatre"], EVENING, [5, 6]),
    ("Jazz Performance", ["Blue Note Jazz Club", "Village Vanguard"], EVENING, [4, 6]),
    ("Wine Tasting", ["City Winery", "Napa Valley Wine Bar"], EVENING, [2, 4]),
    ("Happy Hour", ["The Standard Hotel", "Rooftop Lounge"], EVENING, [2, 4]),
    ("Book club meeting", ["Public Library", "Barnes & Noble Cafe"], EVENING, [2, 3]),
    ("Poetry reading", ["The Poetry Foundation", "Beyond Baroque"], EVENING, [2, 4]),
    ("Stand-up comedy show", ["Comedy Cellar", "The Laugh Factory"], EVENING, [3, 4]),
    ("Movie night", ["AMC Theatre", "Community Center"], EVENING, [4, 5]),
    ("Dinner Party", ["Riverside Bistro", "The Grand Hotel Ballroom"], EVENING, [4, 6]),
    ("Star Gazing", ["Griffith Park Observatory", "Hilltop Observatory"], EVENING, [4, 6]),
    ("Speed dating event", ["The Wine Loft", "Union Pub"], EVENING, [3, 4]),
    ("Ice hockey game", ["Madison Square Garden", "Ice Arena"], EVENING, [5, 6]),
    ("Boxing match", ["Madison Square Garden", "Barclays Center"], EVENING, [5, 6]),
    ("Casino night", ["Grand Casino", "Community Hall"], EVENING, [4, 6]),
    ("Live podcast", ["The Bell House", "City Theater"], EVENING, [3, 4]),
    ("Theatre play", ["Shakespeare Theatre", "Ballet Theater"], EVENING, [4, 5]),
    ("Piano Recital", ["Carnegie Hall", "Music Conservatory Hall"], EVENING, [3, 4]),
    ("Art exhibit opening reception", ["Locust Projects", "Modern Art Gallery"], EVENING, [3, 4]),
    ("Cooking class", ["Sur La Table", "Culinary Institute Kitchen"], EVENING, [3, 4]),
    ("Artisanal Pizza Making", ["Pizza Academy", "Little Italy Kitchen"], EVENING, [3, 4]),
    ("Creative writing workshop", ["Writers Guild Studio", "Public Library"], EVENING, [3, 4]),
    ("Salsa dancing class", ["Dance Studio 54", "Latin Dance Center"], EVENING, [2, 3]),
    ("Trivia night", ["O'Malley's Pub", "Brooklyn Brewery"], EVENING, [3, 4]),
    ("Team meeting", ["Office Conference Room", "XYZ Company"], MORNING, [1, 2]),
    ("Business meeting", ["Downtown Office", "XYZ Company"], MORNING, [2, 4]),
    ("Breakfast meeting", ["Sunrise Cafe", "The Breakfast Club"], MORNING, [2, 3]),
    ("Video Conference", ["Home Office", "Co-working Space"], MORNING, [1, 2]),
    ("Yoga class", ["Zen Yoga Studio", "Central Park"], MORNING, [2, 3]),
    ("Morning Swim", ["LA Fitness Aquatic Center", "Community Pool"], MORNING, [2, 3]),
    ("Tennis lesson", ["City Tennis Club", "Riverside Courts"], MORNING, [2, 3]),
    ("Farmers Market Visit", ["Union Square Greenmarket", "Ferry Building Market"], MORNING, [2, 4]),
    ("Bird-watching tour", ["Audubon Center", "Wetlands Reserve"], MORNING, [4, 6]),
    ("Landscape photography workshop", ["Bear Mountain State Park", "Botanical Garden"], MORNING, [4, 6]),
    ("Car maintenance check", ["Jiffy Lube", "Downtown Auto Service"], MORNING, [2, 3]),
    ("Dentist appointment", ["Bright Smile Dental", "City Dental Clinic"], MORNING, [1, 2]),
    ("Job interview", ["XYZ Company", "Tech Startup Office"], MORNING, [2, 3]),
    ("Online Course", ["Home Office", "Public Library"], MORNING, [2, 3]),
    ("Horseback riding", ["Sunset Stables", "Meadow Ranch"], MORNING, [3, 4, 5]),
    ("Stand-up paddleboarding lesson", ["Lake Harbor Marina", "Bay Watersports"], MORNING, [2, 3]),
    ("Intermediate Spanish lesson", ["Instituto Cervantes", "Language Exchange Cafe"], MORNING, [2, 3]),
    ("Volunteer work", ["Food Bank", "Animal Shelter"], MORNING, [6, 8]),
    ("Lunch Date", ["Olive Garden", "The Corner Bistro"], (12, 13), [2, 3]),
    ("Photography Class", ["The Camera Store", "Art Institute"], AFTERNOON, [3, 4]),
    ("Gym workout", ["CrossFit Fitness", "Gold's Gym"], AFTERNOON, [2, 3]),
    ("Coffee tasting", ["Cafe Grumpy", "Blue Bottle Coffee"], AFTERNOON, [2]),
    ("Horse race", ["Santa Anita Park", "Belmont Park"], AFTERNOON, [5, 6]),
    ("Pet grooming session", ["Happy Paws Grooming", "PetSmart"], AFTERNOON, [2, 3]),
    ("Museum visit", ["Local History Museum", "Museum of Natural History"], AFTERNOON, [4, 5]),
    ("Historical Tour", ["Local History Museum", "Old Town Square"], AFTERNOON, [3, 4]),
    ("Floral design session", ["Garden Collage", "Flower Studio"], AFTERNOON, [3, 4]),
    ("Chess club meeting", ["The New York Chess and Games venue", "Community Center"], AFTERNOON, [3, 4]),
    ("Robotics seminar", ["University Auditorium", "Tech Hub"], AFTERNOON, [3, 4]),
    ("Swim meet", ["Aquatic Center", "High School Pool"], AFTERNOON, [5, 6]),
    ("Street art tour", ["Wynwood Walls", "Arts District"], AFTERNOON, [3, 4]),
    ("Art walk", ["Gallery Row", "Design District"], AFTERNOON, [3, 4]),
    ("Book signing", ["Barnes & Noble", "Strand Bookstore"], AFTERNOON, [2, 3]),
    ("Escape Room", ["Escape the Room", "Puzzle Quest"], AFTERNOON, [2, 3]),
    ("Pottery class", ["Clay Studio", "Art Center"], AFTERNOON, [3, 4]),
    ("Soccer match", ["Central Park Field", "City Stadium"], AFTERNOON, [4]),
    ("Watch a baseball game", ["Yankee Stadium", "Fenway Park"], AFTERNOON, [6]),
    ("Volleyball Tournament", ["Beach Volleyball Courts", "Sports Complex"], AFTERNOON, [6, 8]),
    ("Food truck festival", ["Waterfront Park", "City Square"], AFTERNOON, [6, 8, 10]),
    ("Aquarium visit", ["New England Aquarium", "City Aquarium"], MORNING, [6, 8, 10]),
    ("Graduation ceremony", ["University Stadium", "Convention Center"], AFTERNOON, [4]),
    ("Charity auction", ["Sotheby's Auction House", "Grand Ballroom"], EVENING, [4, 5]),
    ("Public policy conference", ["Convention Center", "Hilton Conference Hall"], DAYTIME, [16]),
    ("Leadership training", ["Corporate Training Center", "XYZ Company"], DAYTIME, [16]),
    ("Adventure Tour", ["Grand Canyon Visitor Center", "Adventure Park"], DAYTIME, [16]),
    ("Corporate Social Responsibility Conference", ["Hilton Conference Hall", "Convention Center"], DAYTIME, [14, 16]),
    ("Dance Class", ["Dance Studio 54", "Ballet Academy"], AFTERNOON, [2]),
    ("Choral Performance", ["Saint Mark's Church", "Symphony Hall"], AFTERNOON, [2, 3]),
    ("Model airplane flying", ["Flying Field", "Community Park"], MORNING, [3, 4]),
    ("Music concert", ["Madison Square Garden", "Hollywood Bowl"], EVENING, [5, 6]),
    ("Mindfulness meditation class", ["Zen Center", "Yoga Studio"], MORNING, [2, 3]),
    ("Kids concert", ["Children's Museum", "Community Park"], AFTERNOON, [2, 3]),
    ("Fitness bootcamp", ["Gold's Gym", "Central Park"], MORNING, [2, 3]),
    ("Employee team building event", ["XYZ Company", "Adventure Park"], AFTERNOON, [4, 6]),
    ("Vegan Food Festival", ["Waterfront Park", "Union Square"], AFTERNOON, [4, 6]),
    ("Cheese + Wine festival", ["City Winery", "Convention Center"], AFTERNOON, [4, 6]),
    ("Speech therapy session", ["Speech Clinic", "Health Center"], MORNING, [2]),
    ("Haircut appointment", ["Great Clips", "Downtown Barber Shop"], AFTERNOON, [1, 2]),
    ("Parent-teacher conference", ["Lincoln Elementary School", "Springfield High School"], AFTERNOON, [1, 2]),
]
# A document = opener + date + person + verb + event + " at " + location + times (+ closer): 6 x 10 x 7
# paraphrases, always in that order, so one regex (EVENT_RE, also used by the experts) reads them back.
OPENERS = ["On", "Mark your calendar: on", "Reminder: on", "Please note that on", "Heads up! On", "As planned, on"]
VERBS = ["will attend", "has", "is going to", "joins", "signed up for", "will take part in", "is attending",
         "has booked", "plans to go to", "is heading to"]
TIMINGS = [", from {start} to {end}.", ". It starts at {start} and ends at {end}.",
           ", starting at {start} and finishing at {end}.", "; the session runs from {start} until {end}.",
           ". Doors open at {start}, and it wraps up by {end}.", ", between {start} and {end}.",
           ". The event will start at {start} and end at {end}."]
CLOSERS = ["", "", "", " Don't be late!", " It should be fun.", " Bring a friend along.", " Tickets are booked."]
EVENT_RE = (r"(?P<date>[A-Z][a-z]+ \d{1,2}, 2022), (?P<person>[A-Z][a-z]+) [a-z ]+ (?P<event>[A-Z][^.;]*?) at "
            r"(?P<location>[^,.;]+)[,.;][^0-9]*?(?P<start>\d{1,2}:\d\d [AP]M)[^0-9]*?(?P<end>\d{1,2}:\d\d [AP]M)")


# -- times and dates ----------------------------------------------------------------------------
def clock(minutes: int) -> str:
    """Minutes after midnight as "9:00 AM"."""
    h, m = divmod(minutes, 60)
    return f"{(h - 1) % 12 + 1}:{m:02d} {'AM' if h < 12 else 'PM'}"


def minutes(text: str) -> int:
    t = dt.datetime.strptime(text, "%I:%M %p")
    return t.hour * 60 + t.minute


def random_date(rng: random.Random) -> str:
    """A uniformly random day of 2022 as "2022/02/17"."""
    return (dt.date(2022, 1, 1) + dt.timedelta(days=rng.randrange(365))).strftime("%Y/%m/%d")


def date_in_words(date: str) -> str:
    """"2022/02/17" -> "February 17, 2022"."""
    d = dt.datetime.strptime(date, "%Y/%m/%d")
    return f"{d:%B} {d.day}, {d.year}"


def free_slots(busy: list[tuple[int, int]]) -> str:
    """Free intervals of the 9:00 AM-6:00 PM window around ``busy`` (minutes), or "" when none."""
    start, stop = minutes(WINDOW[0]), minutes(WINDOW[1])
    out, cursor = [], start
    for b, e in sorted(busy):
        if b > cursor:
            out.append((cursor, min(b, stop)))
        cursor = max(cursor, e)
    if cursor < stop:
        out.append((cursor, stop))
    return ", ".join(f"{clock(b)}-{clock(e)}" for b, e in out if e > b)


# -- generator ----------------------------------------------------------------------------------
def _document(rng: random.Random, e: dict[str, str]) -> str:
    timing = rng.choice(TIMINGS).format(start=e["start_time"], end=e["end_time"])
    return (f"{rng.choice(OPENERS)} {date_in_words(e['date'])}, {e['person']} {rng.choice(VERBS)} {e['event']} at "
            f"{e['location']}{timing}{rng.choice(CLOSERS)}")


def _day_events(rng: random.Random, person: str, date: str, count: int) -> list[dict[str, str]]:
    """Up to ``count`` non-overlapping events with distinct names for one person and day."""
    taken: list[tuple[int, int]] = []
    out: list[dict[str, str]] = []
    for _ in range(count * 6):
        if len(out) == count:
            break
        name, locations, (lo, hi), durations = rng.choice(EVENTS)
        begin = rng.randrange(lo * 2, hi * 2) * 30
        end = begin + rng.choice(durations) * 30
        if end > 23 * 60 + 30 or any(begin < e and b < end for b, e in taken) or any(x["event"] == name for x in out):
            continue
        taken.append((begin, end))
        out.append({"event": name, "start_time": clock(begin), "end_time": clock(end),
                    "location": rng.choice(locations), "person": person, "date": date})
    return sorted(out, key=lambda x: minutes(x["start_time"]))


def generate(root: Path, profile: str, rng: random.Random) -> dict[str, int]:
    """Write the agenda documents and the raw ``agenda_events.jsonl`` for ``profile``."""
    n_events, n_people = PROFILES[profile]
    people = PEOPLE[:n_people]
    days: set[tuple[str, str]] = set()
    groups: list[list[dict[str, str]]] = []
    total = 0
    while total < n_events:
        person = rng.choice(people)
        date = random_date(rng)
        if (person, date) in days:
            continue
        days.add((person, date))
        day = _day_events(rng, person, date, min(n_events - total, 1 if rng.random() < 0.7 else rng.randint(2, 4)))
        groups.append(day)
        total += len(day)
    events, documents = [], []
    for day in groups:
        texts = [_document(rng, e) for e in day]
        if len(texts) > 1 and rng.random() < MERGED_SHARE * 4:  # ~3 % of all events share a document
            texts[:2] = [texts[0] + " " + texts[1]]
        documents += texts
        events += day
    for i, e in enumerate(events):
        e["id"] = f"agenda-{i:04d}"
    base = Path(root) / "data" / "external_corpus"
    write_atomic(base / EVENTS_FILE, "".join(json.dumps(e) + "\n" for e in events))
    write_atomic(base / DOCS_FILE, "".join(json.dumps({"event": d}) + "\n" for d in documents))
    return {EVENTS_FILE: len(events), DOCS_FILE: len(documents)}


# -- templates ----------------------------------------------------------------------------------
TIME = r"\d{1,2}:\d\d [AP]M"
DATE = r"\d{4}/\d\d/\d\d"


def _day(corpus: Any, person: str, date: str) -> list[dict[str, str]]:
    return sorted((e for e in corpus.agenda_events() if e["person"] == person and e["date"] == date),
                  key=lambda e: minutes(e["start_time"]))


def _find_step(date: str, query: str, keep: str, about: str) -> ExpertStep:
    """Retrieve many documents with two queries, keep those naming the date in words and ``keep``."""
    words = date_in_words(date)
    code = (f"import re\ndocs = retrieve_agenda({f'{query} {words}'!r}, {K}) + "
            f"retrieve_agenda({f'{about} on {words}'!r}, {K})\n"
            f"hits = [d for d in dict.fromkeys(docs) if {words!r} in d and {keep}]\n"
            "for d in hits:\n    print(d)")
    return ExpertStep(f"I will retrieve many agenda documents and keep those that mention {about} and the "
                      f"date in words, {words}.", code)


def _read_step(monologue: str, select: str, compute: str, report: str) -> ExpertStep:
    """Parse every event description in the kept documents, select the relevant ones and answer."""
    code = (f"pattern = re.compile(r'{EVENT_RE}')\n"
            "events = [m.groupdict() for d in hits for m in pattern.finditer(d)]\n"
            f"{select}\nprint(selected)\n{compute}\nprint(answer)\ncomplete_task(f{report!r}, answer)")
    return ExpertStep(monologue, code)


def _person_filter(person: str) -> str:
    return f"re.search(r'\\b{person}\\b', d)"


class AgendaTemplate(ConfiguredTemplate):
    """Questions about one event of one person and day (what, where, when, how)."""

    group = "agenda"

    def sample_slots(self, corpus: Any, rng: random.Random) -> Slots | None:
        e = rng.choice(corpus.agenda_events())
        if self.name == "what":
            return {"person": e["person"], "start": e["start_time"], "end": e["end_time"], "date": e["date"]}
        return {"person": e["person"], "event": e["event"], "date": e["date"]}

    def _event(self, corpus: Any, slots: Slots) -> dict[str, str]:
        for e in _day(corpus, slots["person"], slots["date"]):
            if (self.name == "what" and (e["start_time"], e["end_time"]) == (slots["start"], slots["end"])
                    or self.name != "what" and e["event"] == slots["event"]):
                return e
        raise KeyError(f"no agenda event for {slots}")

    def answer(self, corpus: Any, slots: Slots) -> str:
        e = self._event(corpus, slots)
        if self.name == "what":
            return e["event"]
        if self.name == "where":
            return e["location"]
        if self.name == "when":
            return e["start_time"]
        return str(dt.timedelta(minutes=minutes(e["end_time"]) - minutes(e["start_time"])))

    def solution(self, slots: Slots) -> list[ExpertStep]:
        person, words = slots["person"], date_in_words(slots["date"])
        mine = f"e['person'] == {person!r} and e['date'] == {words!r}"
        if self.name == "what":
            find = _find_step(slots["date"], person, _person_filter(person), person)
            select = (f"selected = [e for e in events if {mine} and (e['start'], e['end']) == "
                      f"({slots['start']!r}, {slots['end']!r})]")
            compute, what = "answer = selected[0]['event']", f"the event from {slots['start']} to {slots['end']}"
        else:
            find = _find_step(slots["date"], f"{person} {slots['event']}", _person_filter(person), person)
            select = f"selected = [e for e in events if {mine} and e['event'] == {slots['event']!r}]"
            what = f"{slots['event']}"
            compute = {"where": "answer = selected[0]['location']", "when": "answer = selected[0]['start']",
                       "how": "t = lambda s: datetime.strptime(s, '%I:%M %p')\n"
                              "answer = str(t(selected[0]['end']) - t(selected[0]['start']))"}[self.name]
            if self.name == "how":
                compute = "from datetime import datetime\n" + compute
        return [find, _read_step(f"I will parse the event descriptions, keep {person}'s {what} on {words} and "
                                 f"read the {self.type} answer from it.", select, compute,
                                 f"{self.type.capitalize()}: {{answer}}.")]


class WhoTemplate(AgendaTemplate):
    """Who attended an event: the question names everything but the person, who must be unique."""

    @staticmethod
    def _attendees(corpus: Any, slots: Slots) -> list[str]:
        key = (slots["event"], slots["date"], slots["start"], slots["end"], slots["location"])
        return [e["person"] for e in corpus.agenda_events()
                if (e["event"], e["date"], e["start_time"], e["end_time"], e["location"]) == key]

    def sample_slots(self, corpus: Any, rng: random.Random) -> Slots | None:
        e = rng.choice(corpus.agenda_events())
        slots = {"event": e["event"], "start": e["start_time"], "end": e["end_time"], "date": e["date"],
                 "location": e["location"]}
        return slots if len(self._attendees(corpus, slots)) == 1 else None

    def answer(self, corpus: Any, slots: Slots) -> str:
        return self._attendees(corpus, slots)[0]

    def solution(self, slots: Slots) -> list[ExpertStep]:
        event, words = slots["event"], date_in_words(slots["date"])
        find = _find_step(slots["date"], f"{event} at {slots['location']}", f"{event.lower()!r} in d.lower()", event)
        key = (event, words, slots["start"], slots["end"], slots["location"])
        select = (f"selected = [e for e in events if (e['event'], e['date'], e['start'], e['end'], e['location']) "
                  f"== {key!r}]")
        return [find, _read_step(f"I will parse the event descriptions and keep the {event} at {slots['location']} "
                                 f"from {slots['start']} to {slots['end']} on {words}.", select,
                                 "answer = selected[0]['person']", "{answer} attended it.")]


class DayTemplate(AgendaTemplate):
    """Questions about a whole day of one person: free meeting slots, or all event names."""

    def sample_slots(self, corpus: Any, rng: random.Random) -> Slots | None:
        e = rng.choice(corpus.agenda_events())
        person, date = e["person"], e["date"]
        if self.name == "schedule" and rng.random() < 0.15:  # sometimes a free day
            date = random_date(rng)
        slots = {"person": person, "date": date}
        return slots if self.answer(corpus, slots) else None

    def answer(self, corpus: Any, slots: Slots) -> str:
        day = _day(corpus, slots["person"], slots["date"])
        if self.name == "schedule":
            return free_slots([(minutes(x["start_time"]), minutes(x["end_time"])) for x in day])
        return ", ".join(dict.fromkeys(x["event"] for x in day))

    def solution(self, slots: Slots) -> list[ExpertStep]:
        person, words = slots["person"], date_in_words(slots["date"])
        find = _find_step(slots["date"], f"{person} agenda", _person_filter(person), person)
        select = ("t = lambda s: datetime.strptime(s, '%I:%M %p')\n"
                  f"selected = sorted((e for e in events if e['person'] == {person!r} and e['date'] == {words!r}), "
                  "key=lambda e: t(e['start']))")
        if self.name == "all-events":
            return [find, _read_step(f"I will parse the event descriptions and list {person}'s events on {words} "
                                     "in time order.", "from datetime import datetime\n" + select,
                                     "answer = ', '.join(dict.fromkeys(e['event'] for e in selected))",
                                     f"{person} has: {{answer}}.")]
        compute = ("fmt = lambda d: d.strftime('%I:%M %p').lstrip('0')\n"
                   f"cursor, stop, free = t({WINDOW[0]!r}), t({WINDOW[1]!r}), []\n"
                   "for e in selected:\n"
                   "    b, end = t(e['start']), t(e['end'])\n"
                   "    if min(b, stop) > cursor:\n"
                   "        free.append(f'{fmt(cursor)}-{fmt(min(b, stop))}')\n"
                   "    cursor = max(cursor, end)\n"
                   "if cursor < stop:\n"
                   "    free.append(f'{fmt(cursor)}-{fmt(stop)}')\n"
                   "answer = ', '.join(free)")
        return [find, _read_step(f"I will parse {person}'s events on {words} and compute the free intervals between "
                                 f"{WINDOW[0]} and {WINDOW[1]}.", "from datetime import datetime\n" + select, compute,
                                 f"{person} is free {{answer}}.")]


TEMPLATES: list[Template] = [
    AgendaTemplate("what", "what",
                   rf"What (?:event )?did (?P<person>\S+) (?:do|host) (?:from (?P<start>{TIME}) to (?P<end>{TIME}) "
                   rf"on (?P<date>{DATE})|(?P<context>[^?]+))\?",
                   "What did {person} do from {start} to {end} on {date}?", "Format tip: give the event name."),
    AgendaTemplate("where", "where",
                   rf"Where did (?P<event>.+) that (?P<person>\S+) attended take place on (?P<date>{DATE})\?",
                   "Where did {event} that {person} attended take place on {date}?",
                   "Format tip: give the location name.", unseen=True),
    AgendaTemplate("when", "when", rf"When did (?P<person>\S+) attend (?P<event>.+) on (?P<date>{DATE})\?",
                   "When did {person} attend {event} on {date}?",
                   "Format tip: give the start time like 8:00 PM.", unseen=True),
    AgendaTemplate("how", "how", rf"How long did (?P<person>\S+) attend (?P<event>.+) on (?P<date>{DATE})\?",
                   "How long did {person} attend {event} on {date}?",
                   "Format tip: give the duration as H:MM:SS, e.g. 2:30:00."),
    WhoTemplate("who", "who",
                rf"Who attended (?P<event>.+) between (?P<start>{TIME}) and (?P<end>{TIME}) on (?P<date>{DATE}) "
                r"in (?P<location>.+?) ?\?",
                "Who attended {event} between {start} and {end} on {date} in {location}?",
                "Format tip: give the person's name."),
    DayTemplate("schedule", "schedule",
                rf"When should I schedule a meeting with (?P<person>\S+) from 9:00 AM to 6:00 PM on (?P<date>{DATE}) "
                r"in the agenda table\?",
                "When should I schedule a meeting with {person} from 9:00 AM to 6:00 PM on {date} in the agenda table?",
                "Format tip: list the free time slots like '10:00 AM-12:00 PM, 2:00 PM-4:00 PM'."),
    DayTemplate("all-events", "all events",
                rf"What events does (?P<person>\S+) have on (?P<date>{DATE}) in the agenda table\?",
                "What events does {person} have on {date} in the agenda table?",
                "Format tip: list the event names separated by ', '.", unseen=True),
]
