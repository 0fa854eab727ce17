"""Rule-based filters: checks over a step's code cell (its AST), monologue and observations.

Each rule is ``rule(trajectory, step, **args) -> reason | None``: a one-line reason when step
``step`` makes the mistake, ``None`` when it does not. Rules are referenced by name from filter
files (``rule: unprinted_answer``) and take their ``args`` from there.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator, Sequence

from core.trajectory import Trajectory

Rule = Callable[..., "str | None"]

# data_filter checks operators in this order and splits at the first match (see docs/toolqa.md §2)
FILTER_OPERATORS = (">=", "<=", ">", "<", "=")
_CELL_FRAME = re.compile(r'File "<cell-\d+>", line (\d+)')
_ERROR_WORDS = ("error", "exception", "fail", "wrong", "mistake", "instead", "fix", "did not work",
                "didn't work", "traceback", "raised")


def parse_cell(code: str) -> ast.Module | None:
    try:
        return ast.parse(code)
    except SyntaxError:
        return None


def calls(tree: ast.AST, name: str) -> Iterator[ast.Call]:
    """Calls of ``name(...)`` or ``x.name(...)`` anywhere in ``tree``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            if (isinstance(f, ast.Name) and f.id == name) or (isinstance(f, ast.Attribute) and f.attr == name):
                yield node


def argument(call: ast.Call, position: int, keyword: str) -> ast.expr | None:
    if len(call.args) > position:
        return call.args[position]
    return next((k.value for k in call.keywords if k.arg == keyword), None)


def string_value(node: ast.expr | None, tree: ast.Module) -> str | None:
    """The text of a string expression: a constant, an f-string (placeholders as ``{}``), or a
    name assigned a constant string in the same cell."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
    if isinstance(node, ast.Name):
        for stmt in ast.walk(tree):
            if (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
                    and isinstance(stmt.targets[0], ast.Name) and stmt.targets[0].id == node.id):
                return string_value(stmt.value, tree)
    return None


def filter_conditions(argument_text: str) -> list[tuple[str, str, str]]:
    """``'A>=1; B=x'`` -> ``[('A', '>=', '1'), ('B', '=', 'x')]``, split as ``data_filter`` does."""
    out = []
    for cond in argument_text.split("; "):
        for op in FILTER_OPERATORS:
            if op in cond:
                column, value = cond.split(op, 1)
                out.append((column.strip(), op, value.strip()))
                break
    return out


def _earlier_output(traj: Trajectory, step: int) -> str:
    return "\n".join(s.observation for s in traj.steps[:step])


def unprinted_answer(traj: Trajectory, step: int, same_cell: bool = False) -> str | None:
    """Calls ``complete_task`` with a computed value that no earlier output showed.

    A literal answer written in the code passes (the agent typed what it saw). With
    ``same_cell`` an answer printed by the completing cell itself also passes.
    """
    s = traj.steps[step]
    tree = parse_cell(s.code)
    if tree is None or s.status != "completed" or traj.outcome.answer is None:
        return None
    done = next(calls(tree, "complete_task"), None)
    value = argument(done, 1, "return_value") if done else None
    if value is None or isinstance(value, ast.Constant):
        return None
    answer = str(traj.outcome.answer)
    seen = _earlier_output(traj, step) + (s.observation if same_cell else "")
    if answer in seen:
        return None
    return f"returns {answer!r} from `{ast.unparse(value)}` without having printed it first"


def data_filter_on_column(traj: Trajectory, step: int, columns: Sequence[str] = ("categories",),
                          operators: Sequence[str] = FILTER_OPERATORS) -> str | None:
    """Calls ``data_filter`` with a condition on one of ``columns`` using one of ``operators``."""
    tree = parse_cell(traj.steps[step].code)
    if tree is None:
        return None
    for call in calls(tree, "data_filter"):
        text = string_value(argument(call, 1, "argument"), tree)
        for column, op, value in filter_conditions(text or ""):
            if column in columns and op in operators:
                return f"data_filter condition `{column}{op}{value}` on column {column!r}"
    return None


def column_case(traj: Trajectory, step: int, columns: Sequence[str] = ()) -> str | None:
    """Calls ``get_value`` with a column that is one of ``columns`` written in another case."""
    tree = parse_cell(traj.steps[step].code)
    if tree is None:
        return None
    by_lower = {c.lower(): c for c in columns}
    for call in calls(tree, "get_value"):
        name = string_value(argument(call, 1, "name"), tree)
        if name is not None and name not in columns and name.lower() in by_lower:
            return f"get_value column {name!r} is named {by_lower[name.lower()]!r}"
    return None


def _normalized(code: str) -> str:
    tree = parse_cell(code)
    return ast.dump(tree) if tree is not None else "\n".join(line.rstrip() for line in code.strip().splitlines())


def repeats_previous_cell(traj: Trajectory, step: int) -> str | None:
    """Runs the same code as the previous step (ignoring formatting and comments)."""
    if step == 0:
        return None
    prev, cur = traj.steps[step - 1], traj.steps[step]
    if cur.code.strip() and _normalized(cur.code) == _normalized(prev.code):
        return f"repeats the cell of step {step} verbatim"
    return None


def failing_line(code: str, exception: str) -> str | None:
    """The line of ``code`` where the traceback's last frame inside the cell points."""
    lines = _CELL_FRAME.findall(exception)
    if not lines:
        return None
    number = int(lines[-1])
    code_lines = code.splitlines()
    return code_lines[number - 1].strip() if 0 < number <= len(code_lines) else None


def _exception_name(observation: str) -> str | None:
    m = re.search(r"^(\w+(?:Error|Exception|Exit|Interrupt))\b", observation, re.MULTILINE)
    return m.group(1) if m else None


def ignores_exception(traj: Trajectory, step: int) -> str | None:
    """The previous cell raised, and this step re-runs the failing line or never mentions the error."""
    if step == 0 or traj.steps[step - 1].status != "exception":
        return None
    prev, cur = traj.steps[step - 1], traj.steps[step]
    line = failing_line(prev.code, prev.observation)
    if line and line in (x.strip() for x in cur.code.splitlines()):
        return f"re-runs the failing line `{line}` unchanged"
    name = _exception_name(prev.observation)
    words = _ERROR_WORDS + ((name.lower(),) if name else ())
    if not any(w in cur.monologue.lower() for w in words):
        return f"the monologue does not react to the {name or 'exception'} of step {step}"
    return None


def small_agenda_retrieval(traj: Trajectory, step: int, min_docs: int = 100) -> str | None:
    """Calls ``retrieve_agenda`` with a constant ``num_docs`` below ``min_docs``."""
    tree = parse_cell(traj.steps[step].code)
    if tree is None:
        return None
    for call in calls(tree, "retrieve_agenda"):
        n = argument(call, 1, "num_docs")
        if isinstance(n, ast.Constant) and isinstance(n.value, int) and n.value < min_docs:
            return f"retrieve_agenda with num_docs={n.value} (< {min_docs})"
    return None


RULES: dict[str, Rule] = {
    "unprinted_answer": unprinted_answer,
    "data_filter_on_column": data_filter_on_column,
    "column_case": column_case,
    "repeats_previous_cell": repeats_previous_cell,
    "ignores_exception": ignores_exception,
    "small_agenda_retrieval": small_agenda_retrieval,
}
