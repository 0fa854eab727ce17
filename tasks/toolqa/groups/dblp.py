"""ToolQA DBLP: a synthetic citation network in the six real pickles, and the 15 question templates.

The generator mimics the AMiner-v14 build: in-scope papers (2021-2023) are PaperNet nodes with the
full attributes and an edge to each reference; older references are nodes too (some bare). AuthorNet
is built in ascending ``n_citation`` order with the original duplicate semantics: a pair's first
shared paper is added once, every later one twice, so after n papers ``weight = 2n - 1`` and
``papers = [p1, p2, p2, p3, p3, ...]`` (hence "remove duplicates" in the hints). ``title2id`` and
``author2id`` keep the last id seen for a name (homonyms collide); ``id2title``/``id2author`` are their
exact inverses, so an earlier homonym's id is dropped from ``check_neighbours``.
"""

from __future__ import annotations

import pickle
import random
from pathlib import Path
from typing import Any

import networkx as nx

from core.store import write_atomic
from tasks.toolqa.template import ConfiguredTemplate, ExpertStep, Slots, Template, report_step

PROFILES = {"tiny": (300, 600, 150), "standard": (6_000, 9_000, 3_000)}  # papers, authors, old references
PICKLES = ("paper_net", "author_net", "title2id_dict", "author2id_dict", "id2author_dict", "id2title_dict")
PROTOCOL = 4

FIRST = ["Wei", "Xi", "Jing", "Yang", "Hao", "Min", "Li", "Jun", "Yuki", "Hiroshi", "Sanjay", "Priya", "Arjun",
         "Anna", "Maria", "Thomas", "Jonathan", "Emma", "Lukas", "Sofia", "Mélodie", "Jürgen", "Zoë", "Søren",
         "Łukasz", "José", "Ikuro", "Teppei", "Georges", "Ghassan", "Omid", "Tengchan", "Andres", "Florian",
         "Camille", "Iris", "Richard", "Christine", "Moustafa", "Emma", "Kaiqi", "Rama", "Deanna", "Hedda",
         "Matthias", "Arthur", "Geerten", "Nikos", "Chengbin", "Larry", "Riley", "Daewon", "Giuseppe", "Meric"]
LAST = ["Wang", "Chen", "Zhang", "Liu", "Li", "Sato", "Tanaka", "Gupta", "Sharma", "Müller", "Schmidt", "Rossi",
        "García", "Dubois", "Kowalski", "Nielsen", "Lapointe", "Kaddoum", "Semiari", "Quinkert", "Holz", "Noel",
        "Dvorak", "Lejeune", "Xiong", "Pang", "Foti", "Srokosz", "Jackel", "Heimbrecht", "Papachristos",
        "Triandopoulos", "Barch", "Bakken", "Servant", "Shafiq", "Potapczynski", "Cunningham", "Mitra", "Poitau",
        "Grover", "Aly", "Howard", "Simmons-Edler", "Zeng", "Huang", "Zhao", "Deng", "Qiu", "Vesga"]
INITIALS = ["", "", "", "", "A. ", "M. ", "J. ", "S. "]
INSTITUTIONS = [("Univ Utrecht", "Utrecht, Netherlands"), ("Tiangong University", "Tianjin, China"),
                ("Beihang University", "Beijing, China"), ("Nara Inst Sci & Technol", "Nara, Japan"),
                ("Queens Univ Belfast", "Belfast BT7 1NN, Antrim, North Ireland"), ("Univ Freiburg", "Freiburg, Germany"),
                ("Hunan Normal University", "Changsha, China"), ("Texas A&M University at Qatar", "Doha, Qatar"),
                ("DigiPen Inst Technol Singapore", "Singapore 139660, Singapore"), ("ETH Zurich", "Zurich, Switzerland"),
                ("Univ Toronto", "Toronto, ON, Canada"), ("Aalto University", "Espoo, Finland"),
                ("Indian Institute of Science", "Bangalore, India"), ("Tsinghua University", "Beijing, China"),
                ("Univ Calif Berkeley", "Berkeley, CA, USA"), ("KTH Royal Institute of Technology", "Stockholm, Sweden"),
                ("Politecnico di Milano", "Milan, Italy"), ("Seoul National University", "Seoul, South Korea"),
                ("Univ Sao Paulo", "Sao Paulo, Brazil"), ("École Polytechnique", "Palaiseau, France")]
DEPARTMENTS = ["Dept Comp Sci", "School of Computer Science and Technology", "Dept Math & Phys",
               "Sch Elect Elect Engn & Comp Sci", "Department of Electrical Engineering", "Institute of Automation",
               "Key Laboratory of Intelligent Computing", "Dept Informat", "Faculty of Engineering"]
COMPANIES = ["Amazon Web Services", "Microsoft Research", "Google Research", "IBM Research", "Huawei Technologies",
             "Nokia Bell Labs", "Siemens AG"]
METHODS = ["Graph Neural Networks", "Federated Learning", "Contrastive Learning", "Deep Reinforcement Learning",
           "Transformer Models", "Bayesian Optimization", "Sparse Coding", "Diffusion Models", "Kernel Methods",
           "Attention Mechanisms", "Knowledge Distillation", "Game Theory", "Convex Relaxation", "Meta-Learning",
           "Large Language Models", "Spiking Neural Networks", "Compressed Sensing", "Model Predictive Control"]
TASKS = ["Traffic Forecasting", "Medical Image Segmentation", "Recommendation", "Anomaly Detection",
         "Edge Computing", "Cognitive Radio Networks", "Defect Prediction", "Autonomous Driving", "Speech Recognition",
         "Drug-Drug Interaction Screening", "Smart Grids", "Q&A Communities", "Point Cloud Registration",
         "Code Search", "Sentiment Analysis", "UAV Trajectory Design", "Power Allocation in NOMA", "Robot Grasping",
         "Hate Speech Detection", "Protein Structure Prediction", "H ∞ Output Synchronization", "Text-to-SQL"]
ADJECTIVES = ["Robust", "Efficient", "Scalable", "Explainable", "Adaptive", "Privacy-Preserving", "Lightweight",
              "Hierarchical", "Self-Supervised", "Distributed", "Energy-Aware", "Uncertainty-Aware", "Fast"]
FORMS = ["{adj} {method} for {task}", "{method} for {adj} {task}", "Towards {adj} {task} with {method}",
         "On the Convergence of {method} in {task}", "{task} via {adj} {method}",
         "A Survey of {method} for {task}", "Rethinking {method} for {task}", "{adj} {task}: A {method} Approach",
         "Does {method} Help {task}?", "Learning {adj} Representations for {task}"]
VENUES = ["IEEE Access", "NeurIPS", "ICML", "IEEE Trans. Wirel. Commun.", "CVPR", "AAAI", "Inf. Sci.", "KDD",
          "IEEE Trans. Ind. Informatics", "ACL", "Neurocomputing", "WWW", "ICASSP", "Sensors"]
KEYWORDS = ["deep learning", "optimization", "graph", "privacy", "wireless", "security", "vision", "language",
            "control", "robotics", "networks", "benchmark", "theory", "healthcare", "energy"]


# -- generator ----------------------------------------------------------------------------------
def _hex_id(rng: random.Random) -> str:
    return f"{rng.getrandbits(96):024x}"


def _org(rng: random.Random) -> str:
    if rng.random() < 0.12:
        return rng.choice(COMPANIES)
    name, place = rng.choice(INSTITUTIONS)
    if rng.random() < 0.5:
        return f"{name}, {place}"
    return f"{rng.choice(DEPARTMENTS)}, {name}, {place}"


def _authors(rng: random.Random, n_authors: int) -> list[dict[str, Any]]:
    """Authors in labs of ~30: id, name (some homonyms), lab index, org string."""
    n_labs = max(4, n_authors // 30)
    orgs = [_org(rng) for _ in range(n_labs)]
    names: set[str] = set()
    authors = []
    while len(authors) < n_authors:
        name = f"{rng.choice(FIRST)} {rng.choice(INITIALS)}{rng.choice(LAST)}"
        if name in names:
            continue
        names.add(name)
        lab = rng.randrange(n_labs)
        authors.append({"id": _hex_id(rng), "name": name, "lab": lab, "org": orgs[lab]})
    for a in rng.sample(authors, max(2, n_authors // 100)):  # homonyms: a second person, same name
        twin = rng.choice(authors)
        if twin is not a and twin["lab"] != a["lab"]:
            a["name"] = twin["name"]
    return authors


def _title(rng: random.Random, used: set[str]) -> str:
    while True:
        title = rng.choice(FORMS).format(adj=rng.choice(ADJECTIVES), method=rng.choice(METHODS),
                                         task=rng.choice(TASKS))
        if title not in used:
            used.add(title)
            return title


def _team(rng: random.Random, authors: list[dict], by_lab: dict[int, list[dict]]) -> list[dict]:
    lead = rng.choice(authors)
    size = rng.choice([1, 2, 2, 3, 3, 3, 4, 4, 5, 6, 8])
    pool = by_lab[lead["lab"]]
    team = [lead] + rng.sample([a for a in pool if a is not lead], min(size - 1, len(pool) - 1))
    if rng.random() < 0.2:
        outsider = rng.choice(authors)
        if outsider not in team:
            team.insert(rng.randrange(len(team) + 1), outsider)
    return team


def _n_citation(rng: random.Random) -> int:
    return 0 if rng.random() < 0.25 else int(rng.lognormvariate(1.6, 1.2))


def _paper_record(rng: random.Random, pid: str, title: str, team: list[dict]) -> dict[str, Any]:
    authors = []
    for a in team:
        org = a["org"] if rng.random() > 0.08 else ""
        authors.append({"id": a["id"] if rng.random() > 0.05 else "", "name": a["name"], "org": org})
    start = rng.randint(1, 3000)
    pages = ("", "") if rng.random() < 0.1 else (str(start), str(start + rng.randint(3, 30)))
    return {"id": pid, "title": title, "authors": authors, "year": rng.choice([2021, 2022, 2023]),
            "venue": {"raw": rng.choice(VENUES)}, "n_citation": _n_citation(rng),
            "keywords": rng.sample(KEYWORDS, rng.randint(2, 5)),
            "doc_type": rng.choice(["Journal", "Conference"]), "page_start": pages[0], "page_end": pages[1]}


def _author_net(papers: list[dict]) -> tuple[nx.Graph, dict[str, str]]:
    """AuthorNet with the original 2n-1 duplicate semantics; also ``author2id`` (last id per name)."""
    net = nx.Graph()
    author2id: dict[str, str] = {}
    for paper in sorted(papers, key=lambda p: p["n_citation"]):
        ids = []
        for a in paper["authors"]:
            if not a["id"]:
                continue
            if a["id"] not in net:
                net.add_node(a["id"], org=a["org"])
            author2id[a["name"]] = a["id"]
            ids.append(a["id"])
        for i, a1 in enumerate(ids):
            for a2 in ids[i + 1:]:
                if net.has_edge(a1, a2):  # the original adds each pair in both directions
                    edge = net.edges[a1, a2]
                    edge["weight"] += 2
                    edge["papers"] += [paper["id"], paper["id"]]
                    edge["n_citation"] += [paper["n_citation"], paper["n_citation"]]
                else:
                    net.add_edge(a1, a2, weight=1, papers=[paper["id"]], n_citation=[paper["n_citation"]])
    return net, author2id


def generate(root: Path, profile: str, rng: random.Random) -> dict[str, int]:
    """Write the six DBLP pickles for ``profile`` ("tiny" or "standard"); deterministic bytes."""
    n_papers, n_authors, n_old = PROFILES[profile]
    authors = _authors(rng, n_authors)
    by_lab: dict[int, list[dict]] = {}
    for a in authors:
        by_lab.setdefault(a["lab"], []).append(a)
    used: set[str] = set()
    papers = [_paper_record(rng, _hex_id(rng), _title(rng, used), _team(rng, authors, by_lab))
              for _ in range(n_papers)]
    old = [_hex_id(rng) for _ in range(n_old)]
    paper_net = nx.DiGraph()
    for paper in sorted(papers, key=lambda p: p["n_citation"]):
        paper_net.add_node(paper["id"], **{k: v for k, v in paper.items() if k != "id"})
    for i, pid in enumerate(old):
        if i % 5:  # 20 % of the older references stay bare
            paper_net.add_node(pid, title=_title(rng, used), year=rng.randint(1995, 2020),
                               n_citation=int(rng.lognormvariate(2.5, 1.3)))
    for paper in papers:
        cited = rng.sample(old, rng.randint(0, min(8, len(old))))
        cited += [p["id"] for p in rng.sample(papers, rng.randint(0, 4)) if p is not paper]
        paper_net.add_edges_from((paper["id"], ref) for ref in cited)
    author_net, author2id = _author_net(papers)
    title2id = {p["title"]: p["id"] for p in sorted(papers, key=lambda p: p["n_citation"])}
    objects = {"paper_net": paper_net, "author_net": author_net, "title2id_dict": title2id,
               "author2id_dict": author2id, "id2author_dict": {i: n for n, i in author2id.items()},
               "id2title_dict": {i: t for t, i in title2id.items()}}
    base = Path(root) / "data" / "external_corpus" / "dblp"
    for name in PICKLES:
        write_atomic(base / f"{name}.pkl", pickle.dumps(objects[name], protocol=PROTOCOL))
    return {"dblp/paper_net.pkl": paper_net.number_of_nodes(), "dblp/author_net.pkl": author_net.number_of_nodes(),
            "dblp/title2id_dict.pkl": len(title2id), "dblp/author2id_dict.pkl": len(author2id)}


# -- graph helpers used by the answers (the same semantics as the agent's tools) -----------------
def _coauthors(data: tuple, name: str) -> list[str]:
    """Co-author names as ``check_neighbours`` returns them: ids kept by ``id2author``."""
    _, author_net, _, author2id, id2author, _ = data
    return [id2author[n] for n in author_net.neighbors(author2id[name]) if n in id2author]


def _joint(data: tuple, a: str, b: str) -> dict[str, int]:
    """Deduplicated joint titles of a and b with their citation counts, in edge order."""
    _, author_net, _, author2id, _, id2title = data
    edge = author_net.edges[author2id[a], author2id[b]]
    return {id2title[p]: c for p, c in zip(edge["papers"], edge["n_citation"], strict=True)}


def _papers_of(data: tuple, name: str) -> dict[str, int]:
    titles: dict[str, int] = {}
    for co in _coauthors(data, name):
        titles.update(_joint(data, name, co))
    return titles


def _paper(data: tuple, title: str) -> dict[str, Any]:
    return data[0].nodes[data[2][title]]


def _random_author(data: tuple, rng: random.Random) -> str | None:
    """A name resolving to an AuthorNet node with at least one kept co-author."""
    _, author_net, _, author2id, id2author, _ = data
    name = id2author[rng.choice(list(id2author))]
    return name if author2id[name] in author_net and _coauthors(data, name) else None


def _ties(scores: dict[str, int]) -> list[str]:
    best = max(scores.values())
    return [k for k, v in scores.items() if v == best]


# -- expert code fragments ----------------------------------------------------------------------
LOAD = "g = load_graph()\n"
PAPERS_OF = """titles = {{}}
for co in check_neighbours(g, 'AuthorNet', {a!r}):
    edge = check_edges(g, 'AuthorNet', {a!r}, co)
    titles.update(zip(edge['papers'], edge['number of citations for this paper']))
"""
JOINT = """edge = check_edges(g, 'AuthorNet', {a!r}, {b!r})
joint = dict(zip(edge['papers'], edge['number of citations for this paper']))  # remove duplicates
"""
PER_COAUTHOR = """scores = {{}}
for co in check_neighbours(g, 'AuthorNet', {a!r}):
    edge = check_edges(g, 'AuthorNet', {a!r}, co)
    scores[co] = {score}
best = max(scores.values())
answer = '; '.join(co for co, s in scores.items() if s == best)
print(scores)
"""


def _steps(monologue: str, code: str, report: str) -> list[ExpertStep]:
    return [ExpertStep(monologue, LOAD + code + "print(answer)"), report_step(report)]


# -- templates ----------------------------------------------------------------------------------
SAME_TITLE = "Papers with the same title are considered the same."


class DblpTemplate(ConfiguredTemplate):
    """A DBLP template; ``kind`` selects what its subclass computes (no format tip)."""

    group = "dblp"

    def __init__(self, name: str, qtype: str, pattern: str, wording: str, kind: str, unseen: bool = False) -> None:
        super().__init__(name, qtype, pattern, wording, unseen=unseen)
        self.kind = kind


class PaperTemplate(DblpTemplate):
    """Questions about one in-scope paper, named by its title: authors, pages, citations, institutions."""

    def sample_slots(self, corpus: Any, rng: random.Random) -> Slots | None:
        data = corpus.dblp()
        title = rng.choice(list(data[2]))
        node = _paper(data, title)
        if self.kind == "pages" and not (node["page_start"].isdigit() and node["page_end"].isdigit()
                                         and int(node["page_end"]) >= int(node["page_start"])):
            return None
        if self.kind == "citations" and node["n_citation"] <= 0:
            return None
        if self.kind == "institutions" and (len(node["authors"]) > 4 or not any(a["org"] for a in node["authors"])):
            return None
        return {"title": title}

    def answer(self, corpus: Any, slots: Slots) -> str:
        node = _paper(corpus.dblp(), slots["title"])
        if self.kind == "authors":
            return ", ".join(a["name"] for a in node["authors"])
        if self.kind == "pages":
            return str(int(node["page_end"]) - int(node["page_start"]) + 1)
        if self.kind == "citations":
            return str(node["n_citation"])
        return "; ".join(dict.fromkeys(a["org"] for a in node["authors"] if a["org"]))

    def solution(self, slots: Slots) -> list[ExpertStep]:
        code = f"paper = check_nodes(g, 'PaperNet', {slots['title']!r})\n"
        if self.kind == "authors":
            code += "answer = ', '.join(a['name'] for a in paper['authors'])\n"
            what = "the author names from its node"
        elif self.kind == "pages":
            code += "answer = str(int(paper['page_end']) - int(paper['page_start']) + 1)\n"
            what = "page_end - page_start + 1"
        elif self.kind == "citations":
            code += "answer = str(paper['number of citations for this paper'])\n"
            what = "its number of citations"
        else:
            code += "answer = '; '.join(dict.fromkeys(a['org'] for a in paper['authors'] if a['org']))\n"
            what = "the distinct non-empty organisations of its authors"
        return _steps(f"I will load the DBLP graphs, check the PaperNet node of the paper and compute {what}.",
                      code, "The answer for the paper is {answer}.")


class AuthorTemplate(DblpTemplate):
    """Questions about one author (and maybe a second one) computed from AuthorNet edges."""

    def __init__(self, name: str, qtype: str, pattern: str, wording: str, kind: str, unseen: bool = False) -> None:
        super().__init__(name, qtype, pattern, wording, kind, unseen)
        self.pair = "author2" in self.pattern.groupindex

    def sample_slots(self, corpus: Any, rng: random.Random) -> Slots | None:
        data = corpus.dblp()
        a = _random_author(data, rng)
        if a is None:
            return None
        slots = {"author": a}
        co = _coauthors(data, a)
        if self.kind == "common":
            second = _coauthors(data, rng.choice(co))
            b = rng.choice(second)
            if b == a:
                return None
            slots["author2"] = b
        elif self.pair:
            slots["author2"] = rng.choice(co)
        if self.kind == "org" and not data[1].nodes[data[3][a]]["org"]:
            return None
        if self.kind in ("top-coauthor", "collaborate-most"):
            if not 2 <= len(co) <= 3 or len(_ties(self._scores(data, a))) > 3:
                return None
        if self.kind == "network" and not (1 <= len(co) <= 3 and self._network(data, a) <= 50):
            return None
        if self.kind == "papers" and len(_papers_of(data, a)) > 12:
            return None
        if self.kind == "common" and self._answer(data, slots) == "0":
            return None
        return slots

    def _scores(self, data: tuple, a: str) -> dict[str, int]:
        joint = {co: _joint(data, a, co) for co in _coauthors(data, a)}
        if self.kind == "top-coauthor":
            return {co: sum(titles.values()) for co, titles in joint.items()}
        return {co: len(titles) for co, titles in joint.items()}

    def _network(self, data: tuple, a: str) -> int:
        titles = set(_papers_of(data, a))
        for co in _coauthors(data, a):
            titles |= set(_papers_of(data, co))
        return len(titles)

    def _answer(self, data: tuple, slots: Slots) -> str:
        a, b = slots["author"], slots.get("author2", "")
        if self.kind == "org":
            return data[1].nodes[data[3][a]]["org"]
        if self.kind == "collaborators":
            return str(len(_coauthors(data, a)))
        if self.kind == "together":
            return str(len(_joint(data, a, b)))
        if self.kind == "accumulated":
            return str(sum(_joint(data, a, b).values()))
        if self.kind == "papers":
            return "; ".join(_papers_of(data, a))
        if self.kind == "n-papers":
            return str(len(_papers_of(data, a)))
        if self.kind == "common":
            return str(len(set(_coauthors(data, a)) & set(_coauthors(data, b))))
        if self.kind == "most-cited":
            return "; ".join(_ties(_papers_of(data, a)))
        if self.kind == "network":
            return str(self._network(data, a))
        return "; ".join(_ties(self._scores(data, a)))

    def answer(self, corpus: Any, slots: Slots) -> str:
        return self._answer(corpus.dblp(), slots)

    def solution(self, slots: Slots) -> list[ExpertStep]:
        a, b = slots["author"], slots.get("author2", "")
        if self.kind == "org":
            return _steps(f"I will check the AuthorNet node of {a} and read its organisation.",
                          f"answer = check_nodes(g, 'AuthorNet', {a!r})['org']\n", f"{a} is from {{answer}}.")
        if self.kind == "collaborators":
            return _steps(f"I will count the AuthorNet neighbours of {a}.",
                          f"answer = str(len(check_neighbours(g, 'AuthorNet', {a!r})))\n",
                          f"{a} has {{answer}} collaborators.")
        if self.kind in ("together", "accumulated"):
            expr = "len(joint)" if self.kind == "together" else "sum(joint.values())"
            return _steps(f"I will check the AuthorNet edge between {a} and {b}, remove duplicate titles and "
                          f"compute {expr}.", JOINT.format(a=a, b=b) + f"answer = str({expr})\n",
                          "The answer is {answer}.")
        if self.kind in ("papers", "n-papers", "most-cited"):
            final = {"papers": "answer = '; '.join(titles)\n", "n-papers": "answer = str(len(titles))\n",
                     "most-cited": "best = max(titles.values())\n"
                                   "answer = '; '.join(t for t, c in titles.items() if c == best)\n"}[self.kind]
            return _steps(f"I will collect the titles on every AuthorNet edge of {a}, without duplicates.",
                          PAPERS_OF.format(a=a) + final, f"For {a}: {{answer}}.")
        if self.kind == "common":
            return _steps(f"I will intersect the AuthorNet neighbours of {a} and {b}.",
                          f"common = set(check_neighbours(g, 'AuthorNet', {a!r})) & "
                          f"set(check_neighbours(g, 'AuthorNet', {b!r}))\nanswer = str(len(common))\n",
                          f"{a} and {b} have {{answer}} common collaborators.")
        if self.kind == "network":
            code = PAPERS_OF.format(a=a) + (
                "everything = set(titles)\n"
                f"for co in check_neighbours(g, 'AuthorNet', {a!r}):\n"
                "    for other in check_neighbours(g, 'AuthorNet', co):\n"
                "        everything |= set(check_edges(g, 'AuthorNet', co, other)['papers'])\n"
                "answer = str(len(everything))\n")
            return _steps(f"I will take the titles on the edges of {a} and on every edge of each co-author, "
                          "as one set of titles.", code, "The total number of papers is {answer}.")
        score = ("sum(dict(zip(edge['papers'], edge['number of citations for this paper'])).values())"
                 if self.kind == "top-coauthor" else "len(set(edge['papers']))")
        return _steps(f"For each co-author of {a} I will score the joint titles without duplicates and keep the best.",
                      PER_COAUTHOR.format(a=a, score=score), f"The co-author(s) of {a}: {{answer}}.")


TEMPLATES: list[Template] = [
    PaperTemplate("author", "author",
                  r'Who are the authors of "(?P<title>.+)"\? Seperate the authors with comma and space \', \'\.',
                  "Who are the authors of \"{title}\"? Seperate the authors with comma and space ', '.", "authors"),
    AuthorTemplate("organization", "organization", r"What organization is (?P<author>.+) from\?",
                   "What organization is {author} from?", "org", unseen=True),
    PaperTemplate("pages", "pages", r'How many pages is "(?P<title>.+)"\?', 'How many pages is "{title}"?',
                  "pages", unseen=True),
    PaperTemplate("citations", "how many papers", r'How many papers in the DBLP citation network cited "(?P<title>.+)"\?',
                  'How many papers in the DBLP citation network cited "{title}"?', "citations"),
    AuthorTemplate("collaborators", "how many collaborators",
                   r"How many collaborators does (?P<author>.+) have in the DBLP citation network\?",
                   "How many collaborators does {author} have in the DBLP citation network?", "collaborators"),
    AuthorTemplate("together", "papers write together",
                   r"How many papers did (?P<author>.+) and (?P<author2>.+) write together in the DBLP citation "
                   r"network\? Papers with the same title are considered the same\.",
                   f"How many papers did {{author}} and {{author2}} write together in the DBLP citation network? "
                   f"{SAME_TITLE}", "together"),
    AuthorTemplate("papers", "papers written by A",
                   r"What papers did (?P<author>.+) write in the DBLP citation network\? Seperate the papers with "
                   r"semicolon and space '; '\. Papers with the same title are considered the same\.",
                   "What papers did {author} write in the DBLP citation network? Seperate the papers with semicolon "
                   f"and space '; '. {SAME_TITLE}", "papers", unseen=True),
    AuthorTemplate("n-papers", "number of papers written by A",
                   r"How many papers did (?P<author>.+) write in the DBLP citation network\? Papers with the same "
                   r"title are considered the same\.",
                   f"How many papers did {{author}} write in the DBLP citation network? {SAME_TITLE}", "n-papers"),
    AuthorTemplate("common", "common collaborators",
                   r"How many common collaborators does (?P<author>.+) have with (?P<author2>.+)\?",
                   "How many common collaborators does {author} have with {author2}?", "common"),
    AuthorTemplate("most-cited", "most cited paper",
                   r"Which is/are the most cited paper\(s\) written by (?P<author>.+) in the DBLP citation network\? "
                   r"Papers with the same title are considered the same\. If there are multiple papers with the same "
                   r"citations, separate them with semicolon and space '; '\.",
                   "Which is/are the most cited paper(s) written by {author} in the DBLP citation network? "
                   f"{SAME_TITLE} If there are multiple papers with the same citations, separate them with semicolon "
                   "and space '; '.", "most-cited"),
    AuthorTemplate("top-coauthor", "co-author with the highest citation",
                   r"Which co-author of (?P<author>.+) has the highest total citations for all their co-authored "
                   r"papers in the DBLP citation network\?  Papers with the same title are considered the same\. If "
                   r"there are multiple collaborators with the same citations, separate them with semicolon and space "
                   r"'; '\.",
                   "Which co-author of {author} has the highest total citations for all their co-authored papers in "
                   f"the DBLP citation network?  {SAME_TITLE} If there are multiple collaborators with the same "
                   "citations, separate them with semicolon and space '; '.", "top-coauthor", unseen=True),
    AuthorTemplate("accumulated", "accumulated citations",
                   r"How many accumulated citations do papers collaborated by (?P<author>.+) and (?P<author2>.+) have "
                   r"in the DBLP citation network\? Papers with the same title are considered the same\.",
                   "How many accumulated citations do papers collaborated by {author} and {author2} have in the DBLP "
                   f"citation network? {SAME_TITLE}", "accumulated"),
    AuthorTemplate("network", "papers by collaborators and others",
                   r"What is the total number of papers authored by (?P<author>.+) and collaborators plus those "
                   r"written by collaborators and other people\? Papers with the same title are considered the same\.",
                   "What is the total number of papers authored by {author} and collaborators plus those written by "
                   f"collaborators and other people? {SAME_TITLE}", "network"),
    AuthorTemplate("collaborate-most", "collaborate most",
                   r"Who collaborated with (?P<author>.+) most in the DBLP citation network\? Papers with the same "
                   r"title are considered the same\. If there are multiple authors with the same number of "
                   r"collaborations, separate them with semicolon and space '; '\.",
                   f"Who collaborated with {{author}} most in the DBLP citation network? {SAME_TITLE} If there are "
                   "multiple authors with the same number of collaborations, separate them with semicolon and space "
                   "'; '.", "collaborate-most", unseen=True),
    PaperTemplate("institution", "institution",
                  r"What institutions participated in the study of '(?P<title>.+)' in the DBLP citation network\? "
                  r"Same institutions are considered the same\. If there are multiple institutions, separate them "
                  r"with semicolon and space '; '\.",
                  "What institutions participated in the study of '{title}' in the DBLP citation network? Same "
                  "institutions are considered the same. If there are multiple institutions, separate them with "
                  "semicolon and space '; '.", "institutions"),
]
