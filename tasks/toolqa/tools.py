"""The ToolQA agent tools, their documentation, and their binding into a workspace.

The tool methods' docstrings are the tool documentation shown to the agent (``tool_docs``). The
workspace builds the tools with :func:`preload` (once per server: reads the tables, graphs and the
agenda index, shared copy-on-write by the forked workers) and :func:`bind` (per episode: the tool
functions of a group, or all eight with other groups' tools inert). ``complete_task`` belongs to
the workspace itself; only its documentation lives here. :func:`make_tools` gives the same tools
in-process (tests, solvers).
"""

from __future__ import annotations

import copy
import functools
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

import networkx as nx
import pandas as pd

from core.errors import DataError
from tasks.toolqa.corpus import Corpus, DblpData
from tasks.toolqa.questions import GROUPS, TABLE_GROUPS, check_group

TABLE_TOOLS = ("load_db", "data_filter", "get_value")
GRAPH_TOOLS = ("load_graph", "check_neighbours", "check_nodes", "check_edges")
AGENDA_TOOLS = ("retrieve_agenda",)
ALL_TOOLS = TABLE_TOOLS + GRAPH_TOOLS + AGENDA_TOOLS
GROUP_TOOLS = {**{g: TABLE_TOOLS for g in TABLE_GROUPS}, "dblp": GRAPH_TOOLS, "agenda": AGENDA_TOOLS}
FILTER_OPERATORS = (">=", "<=", ">", "<", "=")
CITATIONS = "number of citations for this paper"


class ToolQAData:
    """What the tools read: a corpus and, for agenda, a retriever (both loaded lazily, then cached)."""

    def __init__(self, corpus: Corpus, retriever_model: str | None = None, retriever: Any = None) -> None:
        self.corpus = corpus
        self.retriever_model = retriever_model
        self._retriever = retriever

    def retriever(self) -> Any:
        if self._retriever is None:
            from tasks.toolqa.retrieval import AgendaRetriever
            self._retriever = AgendaRetriever.for_corpus(self.corpus, model=self.retriever_model)
        return self._retriever

    def load(self, groups: list[str] | tuple[str, ...]) -> ToolQAData:
        """Read everything the tools of ``groups`` need now (before forking workers)."""
        self.corpus.check(groups)
        for group in groups:
            if group in TABLE_GROUPS:
                self.corpus.table(group)
            elif group == "dblp":
                self.corpus.dblp()
            else:
                self.retriever().search("warm-up", 1)  # lazy model initialisation happens before forking
        return self


class Toolbox:
    """The eight data tools over one :class:`ToolQAData`; bound methods are what the agent calls."""

    def __init__(self, data: ToolQAData) -> None:
        self._data = data

    def load_db(self, db_variant: str) -> pd.DataFrame:
        """Load one of the databases (flights, coffee, airbnb, yelp) as a pandas DataFrame.

        Every value in the DataFrame is a string, numbers included (e.g. '1752.0', '4.5'); missing
        values are the string 'nan' (or 'None'). Convert columns before computing with them.
        Prints the names of the columns.

        Args:
            db_variant: 'flights', 'coffee', 'airbnb' or 'yelp'.

        Returns:
            The whole table as a DataFrame of strings.

        Raises:
            ValueError: the name is not one of the four databases.
        """
        _check_db(db_variant)
        df = self._data.corpus.table(db_variant).copy(deep=False)
        print(f"{db_variant} database has been successfully loaded, which includes the following "
              f"columns: {', '.join(df.columns)}.")
        return df

    def data_filter(self, database: pd.DataFrame, argument: str) -> pd.DataFrame:
        """Keep the rows of a DataFrame that satisfy all conditions, e.g. 'Origin=ATL; FlightDate=2022-01-05'.

        Conditions are separated by '; ' (semicolon and space). Each condition is
        '<column><operator><value>' with no spaces around the operator; the operator is the first
        of >=, <=, >, <, = found in the condition. Values are compared as strings: '=' is exact
        string equality, and >, <, >=, <= compare alphabetically, which works for dates written
        YYYY-MM-DD but not for numbers ('10' < '9'); compare numbers in pandas after converting
        them. Prints the number of rows kept.

        Args:
            database: a DataFrame from load_db or from an earlier data_filter.
            argument: the conditions, e.g. 'Date>=2013-01-01; Date<=2013-01-31'.

        Returns:
            A copy of the matching rows.

        Raises:
            KeyError: a condition names a column that does not exist.
            ValueError: "The filtering query <condition> is incorrect. Please modify the
                condition." when a condition leaves no rows.
        """
        for condition in argument.split("; "):
            op = next((o for o in FILTER_OPERATORS if o in condition), None)
            if op is None:
                raise ValueError(f"The filtering query {condition} is incorrect. Please modify the condition.")
            column, _, value = condition.partition(op)
            if column not in database.columns:
                raise KeyError(f"{column!r} is not a column; columns: {', '.join(map(str, database.columns))}")
            values = database[column]
            keep = {">=": values >= value, "<=": values <= value, ">": values > value,
                    "<": values < value, "=": values == value}[op]
            database = database[keep]
            if len(database) == 0:
                raise ValueError(f"The filtering query {condition} is incorrect. Please modify the condition.")
        print(f"We have successfully filtered the data ({len(database)} rows).")
        return database.copy()

    def get_value(self, data: pd.DataFrame, name: str) -> str:
        """Return the values of one column as a single string.

        With one row: that row's value (e.g. '1752.0'). With several rows: all values joined by
        ', ' in row order (split on ', ' to get a list back; this is ambiguous when the values
        themselves contain ', '). Prints nothing: print the result to see it.

        Args:
            data: a DataFrame from load_db or data_filter.
            name: the column name.

        Returns:
            The value(s) as one string.

        Raises:
            KeyError: the column does not exist.
        """
        if name not in data.columns:
            raise KeyError(f"{name!r} is not a column; columns: {', '.join(map(str, data.columns))}")
        values = data[name].tolist()
        return str(values[0]) if len(values) == 1 else ", ".join(map(str, values))

    def load_graph(self) -> DblpData:
        """Load the DBLP citation data.

        Returns the tuple (paper_net, author_net, title2id, author2id, id2author, id2title):
        PaperNet, a networkx DiGraph of papers (an edge goes from a paper to each paper it cites);
        AuthorNet, a networkx Graph of authors (an edge joins two authors who wrote papers
        together); and the dictionaries between paper titles / author names and node ids. Pass
        the whole tuple as GRAPH_DATA to check_neighbours, check_nodes and check_edges.
        """
        data = self._data.corpus.dblp()
        print("DBLP graph data is loaded, including two graphs: AuthorNet and PaperNet.")
        return data

    def check_neighbours(self, GRAPH_DATA: DblpData, graph_type: str, node: str) -> list[str]:
        """List the neighbours of a node in PaperNet or AuthorNet, and print them.

        Args:
            GRAPH_DATA: the tuple returned by load_graph().
            graph_type: 'PaperNet' or 'AuthorNet'.
            node: PaperNet: a paper title; AuthorNet: an author name.

        Returns:
            PaperNet: the titles of the papers that the paper cites. AuthorNet: the names of the
            author's collaborators (co-authors).

        Raises:
            KeyError: the title or name is not in the data.
            ValueError: graph_type is neither 'PaperNet' nor 'AuthorNet'.
        """
        paper_net, author_net, title2id, author2id, id2author, id2title = GRAPH_DATA
        if _graph(graph_type) == "PaperNet":
            pid = _lookup(title2id, node, "paper title")
            neighbours = [_lookup(id2title, n, "paper id") for n in _node_neighbours(paper_net, pid, node)]
        else:
            aid = _lookup(author2id, node, "author name")
            neighbours = [id2author[n] for n in _node_neighbours(author_net, aid, node) if n in id2author]
        print(neighbours)
        return neighbours

    def check_nodes(self, GRAPH_DATA: DblpData, graph_type: str, node: str) -> dict:
        """Return the attributes of a node, and print them.

        Args:
            GRAPH_DATA: the tuple returned by load_graph().
            graph_type: 'PaperNet' or 'AuthorNet'.
            node: PaperNet: a paper title; AuthorNet: an author name.

        Returns:
            PaperNet: a dict with the paper's 'title', 'authors' (a list of dicts with 'id', 'name'
            and 'org'), 'year', 'venue', 'number of citations for this paper', 'keywords',
            'doc_type', 'page_start' and 'page_end'. AuthorNet: {'org': the author's organisation}.

        Raises:
            KeyError: the title or name is not in the data.
            ValueError: graph_type is neither 'PaperNet' nor 'AuthorNet'.
        """
        paper_net, author_net, title2id, author2id, _, _ = GRAPH_DATA
        if _graph(graph_type) == "PaperNet":
            attrs = copy.deepcopy(paper_net.nodes[_in_graph(paper_net, _lookup(title2id, node, "paper title"), node)])
            if "n_citation" in attrs:
                attrs[CITATIONS] = attrs.pop("n_citation")
        else:
            aid = _in_graph(author_net, _lookup(author2id, node, "author name"), node)
            attrs = {"org": author_net.nodes[aid].get("org", "")}
        print(attrs)
        return attrs

    def check_edges(self, GRAPH_DATA: DblpData, graph_type: str, node1: str, node2: str) -> dict:
        """Return the attributes of the edge between two nodes, and print them.

        Args:
            GRAPH_DATA: the tuple returned by load_graph().
            graph_type: 'AuthorNet' (the collaboration of two authors) or 'PaperNet'.
            node1: PaperNet: a paper title; AuthorNet: an author name.
            node2: idem.

        Returns:
            AuthorNet: {'weight': ..., 'papers': the titles of the papers the two authors wrote
            together (the same title can appear several times: remove duplicates), 'number of
            citations for this paper': the list of those papers' citation counts}. PaperNet: {}.

        Raises:
            KeyError: a name is not in the data, or the two authors never collaborated.
            ValueError: graph_type is neither 'PaperNet' nor 'AuthorNet'.
        """
        _, author_net, _, author2id, _, id2title = GRAPH_DATA
        if _graph(graph_type) == "PaperNet":
            print({})
            return {}
        a = _lookup(author2id, node1, "author name")
        b = _lookup(author2id, node2, "author name")
        if not author_net.has_edge(a, b):
            raise KeyError(f"there is no edge between {node1!r} and {node2!r} in AuthorNet")
        attrs = copy.deepcopy(author_net.edges[a, b])
        attrs["papers"] = [_lookup(id2title, p, "paper id") for p in attrs.get("papers", [])]
        if "n_citation" in attrs:
            attrs[CITATIONS] = attrs.pop("n_citation")
        print(attrs)
        return attrs

    def retrieve_agenda(self, query: str, num_docs: int) -> list[str]:
        """Return the num_docs agenda documents most similar in meaning to query, best first.

        Each document is a short text about one or more events of 2022 with the date written in
        words ("On January 29, 2022, there will be ..."), the people, place and times. The
        ranking is by semantic similarity, not exact match: retrieve generously and then filter
        the returned strings in Python (for example on a person's name and on the date in words).

        Args:
            query: a description of what you are looking for.
            num_docs: how many documents to return (up to 1000 or more).

        Returns:
            A list of document strings.
        """
        if isinstance(num_docs, bool) or not isinstance(num_docs, int) or num_docs < 1:
            raise ValueError(f"num_docs must be a positive integer, got {num_docs!r}")
        return self._data.retriever().search(str(query), num_docs)


COMPLETE_TASK_DOC = """complete_task(final_report: str, return_value: str) -> None
    Finish the task by giving a short final report and the answer; this ends the episode.

    Args:
        final_report: a brief summary of what you did and found.
        return_value: the answer as a str, in exactly the format the task asks for.

    Raises:
        TypeError: return_value is not a str (fix it and call complete_task again)."""


def _check_db(name: str) -> None:
    if name not in TABLE_GROUPS:
        raise ValueError(f"{name!r} is not a database; choose one of {', '.join(TABLE_GROUPS)}.")


def _graph(graph_type: str) -> str:
    if graph_type not in ("PaperNet", "AuthorNet"):
        raise ValueError(f"graph_type must be 'PaperNet' or 'AuthorNet', got {graph_type!r}")
    return graph_type


def _lookup(mapping: dict, key: Any, what: str) -> Any:
    try:
        return mapping[key]
    except (KeyError, TypeError):
        raise KeyError(f"{key!r} is not a known {what}") from None


def _in_graph(graph: nx.Graph, node_id: Any, name: str) -> Any:
    if node_id not in graph:
        raise KeyError(f"{name!r} is not a node of the graph")
    return node_id


def _node_neighbours(graph: nx.Graph, node_id: Any, name: str) -> list:
    return list(graph.neighbors(_in_graph(graph, node_id, name)))


# -- binding ----------------------------------------------------------------------------------

def _inert(tool: Callable) -> Callable:
    """Another group's tool in the all-tools configuration: same signature and docs, returns None."""
    @functools.wraps(tool)
    def inert(*args: Any, **kwargs: Any) -> None:
        if tool.__name__ == "load_db":
            bound = inspect.signature(tool).bind(*args, **kwargs)
            _check_db(bound.arguments["db_variant"])
        return None
    return inert


def tools_for(data: ToolQAData, group: str, toolset: str = "relevant") -> dict[str, Callable]:
    """The tool functions of ``group``; with ``toolset='all'`` also other groups' tools, inert."""
    check_group(group)
    if toolset not in ("relevant", "all"):
        raise DataError(f"unknown toolset {toolset!r}; expected 'relevant' or 'all'")
    box = Toolbox(data)
    names = ALL_TOOLS if toolset == "all" else GROUP_TOOLS[group]
    return {n: getattr(box, n) if n in GROUP_TOOLS[group] else _inert(getattr(box, n)) for n in names}


def preload(root: str | None = None, groups: list[str] | None = None,
            retriever_model: str | None = None) -> ToolQAData:
    """Workspace preload: read the data of ``groups`` (default all six) once, before forking."""
    corpus = Corpus(Path(root) if root else None)
    return ToolQAData(corpus, retriever_model).load(groups or list(GROUPS))


def bind(shared: ToolQAData, group: str, toolset: str = "relevant") -> dict[str, Callable]:
    """Workspace bind: the episode's tool namespace over the preloaded data."""
    return tools_for(shared, group, toolset)


def make_tools(source: Corpus | ToolQAData, group: str, toolset: str = "relevant") -> dict[str, Callable]:
    """The tools in-process (tests, solvers); pass a :class:`ToolQAData` to reuse its retriever."""
    data = source if isinstance(source, ToolQAData) else ToolQAData(source)
    return tools_for(data, group, toolset)


# -- documentation ----------------------------------------------------------------------------

_SHOWN_TYPES = {"pd.DataFrame": "pandas.DataFrame", "DblpData": "tuple"}


def _signature(fn: Callable) -> str:
    sig = inspect.signature(fn)
    params = [f"{p.name}: {_SHOWN_TYPES.get(p.annotation, p.annotation)}"
              for p in sig.parameters.values() if p.name != "self"]
    ret = _SHOWN_TYPES.get(sig.return_annotation, sig.return_annotation)
    return f"{fn.__name__}({', '.join(params)}) -> {ret}"


def _doc(fn: Callable, mode: str) -> str:
    doc = inspect.cleandoc(fn.__doc__ or "")
    body = doc.splitlines()[0] if mode == "short" else doc
    return _signature(fn) + "\n" + "\n".join(f"    {line}" if line else "" for line in body.splitlines())


def tool_docs(group: str, mode: str) -> str:
    """Tool documentation for the prompt: ``group`` (its tools) or ``'all'`` (all nine), ``complete_task``
    last; ``mode`` is ``none`` (empty), ``short`` (first docstring line) or ``long`` (full docstrings)."""
    if mode not in ("none", "short", "long"):
        raise DataError(f"unknown tool docs mode {mode!r}; expected none, short or long")
    if mode == "none":
        return ""
    names = ALL_TOOLS if group == "all" else GROUP_TOOLS[check_group(group)]
    complete = COMPLETE_TASK_DOC if mode == "long" else "\n".join(COMPLETE_TASK_DOC.splitlines()[:2])
    return "\n\n".join([_doc(getattr(Toolbox, n), mode) for n in names] + [complete])
