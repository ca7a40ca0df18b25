"""Printing expressions back as source text, for traces and messages.

Input: an `ast` expression. Output: its canonical one-line text, with the fewest
parentheses that keep its meaning (`parse(print(e)) == e`).
"""

from __future__ import annotations

from decimal import Decimal

from engine.syntax import ast

_BINARY = {"or": 1, "and": 2, "+": 5, "-": 5, "*": 6, "/": 6, "//": 6, "%": 6}


def number_text(value: int | Decimal) -> str:
    return format(value, "f") if isinstance(value, Decimal) else str(value)


def quote(text: str) -> str:
    """A text as a quoted literal of the language."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def precedence(expr: ast.Expr) -> int:
    match expr:
        case ast.If():
            return 0
        case ast.Binary(op):
            return _BINARY[op]
        case ast.Unary("not", _):
            return 3
        case ast.Compare() | ast.Membership():
            return 4
        case ast.Unary("-", _):
            return 7
        case ast.Number(value) if value < 0:
            return 7
    return 8


def expr_text(expr: ast.Expr) -> str:
    """The expression as an officer would write it."""
    match expr:
        case ast.Number(value):
            return number_text(value)
        case ast.Text(value):
            return quote(value)
        case ast.Bool(value):
            return "true" if value else "false"
        case ast.Name(name):
            return name
        case ast.Qualified(enum, member):
            return f"{enum}.{member}"
        case ast.Call(function, args, where, by, cap):
            inner = ", ".join(expr_text(a) for a in args)
            if where is not None:
                inner += f" where {expr_text(where)}"
            if by is not None:
                inner += f" by {by.name}"
            if cap is not None:
                inner += f" capped {expr_text(cap)}"
            return f"{function}({inner})"
        case ast.Lookup(table, keys):
            return f"{table}[{', '.join(expr_text(k) for k in keys)}]"
        case ast.Unary("-", operand):
            return "-" + _wrap(operand, 7)
        case ast.Unary(_, operand):
            return "not " + _wrap(operand, 3)
        case ast.Binary(op, left, right):
            p = _BINARY[op]
            return f"{_wrap(left, p)} {op} {_wrap(right, p + 1)}"
        case ast.Compare(op, left, right):
            return f"{_wrap(left, 5)} {op} {_wrap(right, 5)}"
        case ast.Membership(item, collection, negated):
            return f"{_wrap(item, 5)} {'not in' if negated else 'in'} {_wrap(collection, 5)}"
        case ast.If(condition, then, otherwise):
            return f"if {expr_text(condition)} then {expr_text(then)} else {expr_text(otherwise)}"
        case ast.Uncounted(reason):
            return f"not counted {reason}"
        case ast.Has(name):
            return f"has {name}"
        case ast.SetLiteral(members):
            return "{" + ", ".join(members) + "}"
    raise AssertionError(expr)


def _wrap(expr: ast.Expr, minimum: int) -> str:
    text = expr_text(expr)
    return f"({text})" if precedence(expr) < minimum else text


def type_text(spec: ast.TypeSpec) -> str:
    """A field's or parameter's type as written: `int >= 1`, `level in city..national`."""
    if spec.is_set:
        return f"set of {spec.name}"
    text = spec.name
    if spec.bounds:
        text += " " + " and ".join(f"{b.op} {expr_text(b.value)}" for b in spec.bounds)
    if spec.range is not None:
        text += f" in {expr_text(spec.range.low)}..{expr_text(spec.range.high)}"
    if spec.members is not None:
        text += " in " + expr_text(spec.members)
    return text


def cell_text(cell: ast.Cell) -> str:
    """A table cell as written in a grid (a range as `[1, 2)`, `>= 4`)."""
    match cell:
        case ast.Hole(reason):
            return "—" if reason is None else f"— {reason}"
        case ast.Name(name):
            return name
        case ast.Text(value):
            return quote(value)
        case ast.Number(value) | ast.Bool(value):
            return expr_text(cell)
        case ast.Bracket(low, low_closed, high, high_closed):
            if low is not None and high is not None:
                if low == high and low_closed and high_closed:
                    return f"== {number_text(low)}"
                left, right = "[" if low_closed else "(", "]" if high_closed else ")"
                return f"{left}{number_text(low)}, {number_text(high)}{right}"
            if low is not None:
                return f"{'>=' if low_closed else '>'} {number_text(low)}"
            return f"{'<=' if high_closed else '<'} {number_text(high)}"  # type: ignore[arg-type]
    raise AssertionError(cell)


def credit_text(credit: ast.Credit) -> str:
    """`credit 50 to year, rest to year + 1`, or `credit to each year from A to B`."""
    if credit.each is not None:
        first, last = credit.each
        return f"credit to each year from {expr_text(first)} to {expr_text(last)}"
    parts = [
        f"{'rest' if p.amount is None else expr_text(p.amount)} to {expr_text(p.year)}"
        for p in credit.parts
    ]
    return "credit " + ", ".join(parts)


def anchor_text(anchor: ast.Anchor) -> str:
    """`3 before application`, `3 through promotion`, `from term.first to term.last`."""
    if anchor.fields is not None:
        first, last = anchor.fields
        return f"from {anchor.kind}.{first} to {anchor.kind}.{last}"
    return f"{anchor.count} {'through' if anchor.through else 'before'} {anchor.kind}"


def cite_text(cite: ast.Cite | None) -> str:
    """A citation as one text: `§1`, or `R1：§1；R2：§2` when it differs by regime."""
    if cite is None:
        return ""
    return "；".join(f"{r}：{k}" if r else k for r, k in cite.keys)
