"""Printing expressions back as source text, for traces and messages.

Input: an `ast` expression. Output: its canonical one-line text, with the fewest
parentheses that keep its meaning (`parse(print(e)) == e`).
"""

from __future__ import annotations

from decimal import Decimal

from engine import ast

_BINARY = {"or": 1, "and": 2, "+": 5, "-": 5, "*": 6, "/": 6, "//": 6, "%": 6}


def number_text(value: int | Decimal) -> str:
    return format(value, "f") if isinstance(value, Decimal) else str(value)


def _quote(text: str) -> str:
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
            return _quote(value)
        case ast.Bool(value):
            return "true" if value else "false"
        case ast.Name(name):
            return name
        case ast.Qualified(enum, member):
            return f"{enum}.{member}"
        case ast.Call(function, args):
            return f"{function}({', '.join(expr_text(a) for a in args)})"
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
