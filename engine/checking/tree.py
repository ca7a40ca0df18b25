"""The checked tree: what the checker hands to every later stage.

Input: built only by `engine.checking.typecheck`, once per context (a kind's `require`
lines, a rule, a function, a summary, a window), so a kind declared `like` another gets
its own copies. Output: expressions with every name resolved to what it denotes (a
field, a `let`, a function parameter, a policy parameter, a member, a summary total),
each carrying its source node (for text and location) and its domain (type, members,
interval). Nodes are frozen; no later stage writes to them or keys anything by `id()`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.checking.types import Abstract
from engine.syntax import ast
from engine.syntax.printer import expr_text


@dataclass(frozen=True, slots=True, eq=False)
class Node:
    source: ast.Expr
    domain: Abstract


@dataclass(frozen=True, slots=True, eq=False)
class Const(Node):
    """A literal, or a member written by name or as `enum.member`."""

    value: Any


@dataclass(frozen=True, slots=True, eq=False)
class Param(Node):
    """A policy parameter: a constant with a name."""

    name: str
    value: Any


@dataclass(frozen=True, slots=True, eq=False)
class Var(Node):
    """A value of the record or the body: `origin` is field, let, parameter or year."""

    name: str
    origin: str


@dataclass(frozen=True, slots=True, eq=False)
class Total(Node):
    """What a summary adds up (`sum`) or counts (`count`), `over` one of: a category's or a
    kind's records (a year summary), a year summary's value or its years (a window); only
    those for which `condition` holds (the record's fields, or the year's outcomes); with
    `group`, each group of records with one value of the field adds at most `cap`."""

    name: str
    function: str = "sum"
    over: str = "category"  # category | kind | value | years
    condition: Node | None = None
    group: str | None = None  # `by FIELD`: added up by the field's value ("": by record)
    cap: Node | None = None  # `capped CAP`: what each group may add at most

    @property
    def key(self) -> tuple[str, str, str | None, str | None]:
        """Where the summary's environment holds this total."""
        where = None if self.condition is None else expr_text(self.condition.source)
        capped = None if self.cap is None else f"{self.group} {expr_text(self.cap.source)}"
        return (self.function, self.name, where, capped)


@dataclass(frozen=True, slots=True, eq=False)
class Unary(Node):
    op: str  # `-` or `not`
    operand: Node


@dataclass(frozen=True, slots=True, eq=False)
class Binary(Node):
    """Arithmetic (`+ - * / // %`) or logic (`and`, `or`)."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True, slots=True, eq=False)
class Compare(Node):
    """`order` is the ordered enum's members when members are compared by rank."""

    op: str
    left: Node
    right: Node
    order: tuple[str, ...] | None


@dataclass(frozen=True, slots=True, eq=False)
class Membership(Node):
    """`item in {a, b}` (`members`) or `item in collection` (a set value)."""

    item: Node
    members: frozenset[str] | None
    collection: Node | None
    negated: bool


@dataclass(frozen=True, slots=True, eq=False)
class If(Node):
    condition: Node
    then: Node
    otherwise: Node


@dataclass(frozen=True, slots=True, eq=False)
class Uncounted(Node):
    reason: str


@dataclass(frozen=True, slots=True, eq=False)
class Has(Node):
    name: str


@dataclass(frozen=True, slots=True, eq=False)
class Builtin(Node):
    """A call of a builtin (`engine.checking.builtins`); `order` as for `Compare`."""

    name: str
    args: tuple[Node, ...]
    order: tuple[str, ...] | None


@dataclass(frozen=True, slots=True, eq=False)
class Call(Node):
    """A call of a policy function."""

    function: str
    args: tuple[Node, ...]


@dataclass(frozen=True, slots=True, eq=False)
class Lookup(Node):
    table: str
    keys: tuple[Node, ...]


# ── statements ───────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True, eq=False)
class Let:
    name: str
    value: Node
    source: ast.Let | ast.Show


@dataclass(frozen=True, slots=True, eq=False)
class When:
    condition: Node
    result: Node
    source: ast.When


@dataclass(frozen=True, slots=True, eq=False)
class Credit:
    """The years a rule's amount goes to: each part `(amount, year)` (amount None: the
    rest), or each year `from`..`to` the whole amount (`each`)."""

    parts: tuple[tuple[Node | None, Node], ...]
    each: tuple[Node, Node] | None
    source: ast.Credit


@dataclass(frozen=True, slots=True, eq=False)
class Body:
    """A rule's or function's statements, in order, its final result, and (a rule's)
    the years it credits the result to."""

    statements: tuple[Let | When, ...]
    result: Node
    credit: Credit | None = None


@dataclass(frozen=True, slots=True, eq=False)
class Show:
    """A value a summary shows (`let` values are `Let`s)."""

    name: str
    value: Node
    source: ast.Show


@dataclass(frozen=True, slots=True, eq=False)
class Requirement:
    """`achieved >= required` (or `>` when `strict`); with `reason`, `achieved` is a
    condition, `required` None, and the requirement fails for that reason."""

    name: str | None
    achieved: Node
    required: Node | None
    strict: bool
    source: ast.Requirement
    reason: str | None = None


SummaryStatement = Let | Show | Requirement


@dataclass(frozen=True, slots=True, eq=False)
class Summary:
    """A checked year summary or window: statements, the names it shows, what it sums."""

    decl: ast.Summary | ast.Window
    statements: tuple[SummaryStatement, ...]
    shown: tuple[str, ...]
    sums: tuple[Total, ...]
    facts: tuple[str, ...] = ()  # the `facts` kinds it reads


def children(node: Node) -> tuple[Node, ...]:
    """The expressions directly inside `node`."""
    match node:
        case Unary(operand=operand):
            return (operand,)
        case Binary(left=left, right=right) | Compare(left=left, right=right):
            return (left, right)
        case Membership(item=item, collection=collection):
            return (item,) if collection is None else (item, collection)
        case If(condition=c, then=t, otherwise=o):
            return (c, t, o)
        case Builtin(args=args) | Call(args=args):
            return args
        case Lookup(keys=keys):
            return keys
    return ()


def nodes(node: Node) -> list[Node]:
    """`node` and every expression inside it, outermost first."""
    out, todo = [], [node]
    while todo:
        current = todo.pop()
        out.append(current)
        todo.extend(reversed(children(current)))
    return out
