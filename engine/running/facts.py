"""A person-year's facts: the records of `facts` kinds, kept and settled for its summary.

Input: each fact record of a person-year (its checked fields) and its kind's `FactSpec`.
Output: the values its year summary reads (`KIND.FIELD`), and whether the person-year
fails for the kind's declared reason — no record (`without: not qualified R`), or several
that disagree (`several: not qualified R`). Without a `several:` choice, a record that
disagrees with the person-year's first is refused.
"""

from __future__ import annotations

from typing import Any

from engine.checking.aggregate import fact_key
from engine.checking.model import KindSpec
from engine.running.values import value_text

Facts = list[dict[str, Any]]  # one person-year's distinct records of one `facts` kind


def slot(kind: str) -> tuple[str, str]:
    """Where a person-year's totals keep its records of `kind`."""
    return ("facts", kind)


def keep(kept: Facts, fields: dict[str, Any], spec: KindSpec) -> str | None:
    """Add a record's facts to the person-year's; a refusal message if it is refused."""
    facts = {name: value for name, value in fields.items() if name != "year"}
    if facts in kept:
        return None  # the same facts again
    assert spec.facts is not None
    if kept and spec.facts.several is None:
        first = ", ".join(f"{name} = {value_text(value)}" for name, value in kept[0].items())
        return (
            f"the person already has a `{spec.name}` record for this year ({first}); "
            f"`facts {spec.name}` declares no choice between several (`several: …`)"
        )
    kept.append(facts)
    return None


def settle(kept: Facts, spec: KindSpec) -> tuple[dict[str, Any], tuple[bool, str] | None]:
    """The values a summary reads of `spec`'s facts, and, where the kind declares a reason,
    whether the person-year meets it and that reason."""
    rules = spec.facts
    assert rules is not None
    several = rules.several
    outcome: tuple[bool, str] | None = None
    if rules.missing_reason is not None:
        outcome = (bool(kept), rules.missing_reason)
    chosen = kept[0] if len(kept) == 1 else None
    if len(kept) > 1 and several is not None:
        how, name = several
        if how == "reason":
            outcome = (False, name)
        else:
            chosen = (max if how == "highest" else min)(kept, key=_rank(name, rules.order))
    elif several is not None and several[0] == "reason" and outcome is None:
        outcome = (True, several[1])
    values = {**rules.defaults, **(chosen or {})}
    return {fact_key(spec.name, name): values[name] for name in values}, outcome


def _rank(name: str, order: tuple[Any, ...] | None) -> Any:
    if order is None:
        return lambda facts: facts.get(name, 0)
    return lambda facts: order.index(facts[name]) if name in facts else -1
