"""The run-time side of every builtin: one implementation per name.

Input: a checked call (`tree.Builtin`) and the compiled closures of its arguments.
Output: the closure that computes the call. `engine.checking.builtins` declares the same
names with their arity and type rules; a test keeps the two tables' names equal.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any

from engine.checking import tree
from engine.running.values import rounded

Env = dict[str, Any]
Trace = list[dict[str, Any]]
Fn = Callable[[Env, Trace], Any]
Implementation = Callable[[tree.Builtin, list[Fn]], Fn]


def _extreme(node: tree.Builtin, args: list[Fn]) -> Fn:
    pick = min if node.name == "min" else max
    if node.order is not None:
        index = {m: i for i, m in enumerate(node.order)}
        return lambda env, tr: pick((f(env, tr) for f in args), key=index.__getitem__)
    if len(args) == 2:
        a, b = args
        return lambda env, tr: pick(a(env, tr), b(env, tr))
    return lambda env, tr: pick([f(env, tr) for f in args])


_MODES = {"floor": ROUND_FLOOR, "ceil": ROUND_CEILING, "round": ROUND_HALF_UP}


def _rounding(node: tree.Builtin, args: list[Fn]) -> Fn:
    f, mode = args[0], _MODES[node.name]
    places = 0
    if len(node.args) == 2:
        given = node.args[1]
        assert isinstance(given, tree.Const | tree.Param)  # a whole number, checked
        places = int(given.value)
    if places == 0:
        return lambda env, tr: rounded(f(env, tr), mode)
    step = Decimal(1).scaleb(-places)
    return lambda env, tr: Decimal(f(env, tr)).quantize(step, rounding=mode)


def _neighbour(node: tree.Builtin, args: list[Fn]) -> Fn:
    order = node.order or ()
    step = -1 if node.name == "lower" else 1
    moves = {m: order[i + step] for i, m in enumerate(order) if 0 <= i + step < len(order)}
    f = args[0]
    return lambda env, tr: moves[f(env, tr)]


def _read(node: tree.Builtin, args: list[Fn]) -> Fn:
    return args[0]  # a total or a year's outcome, read from the summary's environment


IMPLEMENTATIONS: dict[str, Implementation] = {
    "min": _extreme,
    "max": _extreme,
    "floor": _rounding,
    "ceil": _rounding,
    "round": _rounding,
    "lower": _neighbour,
    "higher": _neighbour,
    "sum": _read,
    "count": _read,
    "met": _read,
}
