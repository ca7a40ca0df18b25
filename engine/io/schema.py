"""JSON Schema (draft 2020-12) of a policy's records, derived from its kinds.

Input: a checked `Model`. Output: a schema that accepts exactly the records the
validator accepts, with two documented exceptions that JSON Schema cannot express
exactly: a cross-field `require` condition (e.g. `position <= authors`), listed under
`x-constraints`, and the limit of 12 decimal places; the engine alone checks them.
"""

from __future__ import annotations

from typing import Any

from engine.checking.model import FieldSpec, KindSpec, Model
from engine.checking.types import Interval, intersect
from engine.running.records import LIMIT
from engine.syntax import ast
from engine.syntax.printer import expr_text

DRAFT = "https://json-schema.org/draft/2020-12/schema"


def _words(names: list[str], labels: dict[str, str | None]) -> list[str]:
    return names + [labels[n] for n in names if labels.get(n)]  # type: ignore[misc]


def field_schema(spec: FieldSpec, labels: dict[str, str | None]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if spec.label:
        out["title"] = spec.label
    base = spec.ty.base
    if base in ("int", "number"):
        out["type"] = "integer" if base == "int" else "number"
        interval = intersect(spec.interval, _magnitude(base))
        if interval.low is not None:
            out["minimum" if interval.low_closed else "exclusiveMinimum"] = interval.low
        if interval.high is not None:
            out["maximum" if interval.high_closed else "exclusiveMaximum"] = interval.high
    elif base == "bool":
        out["type"] = "boolean"
    elif base == "text":
        out["type"] = "string"
    elif base == "enum":
        out["enum"] = _words(list(spec.members or ()), labels)
    else:
        out.update(
            type="array", uniqueItems=True, items={"enum": _words(list(spec.members or ()), labels)}
        )
    if base in ("enum", "set"):  # each member's label, for forms and readers
        out["x-labels"] = {m: labels.get(m) or m for m in spec.members or ()}
    if spec.default is not None:
        out["default"] = spec.default
    return out


def _magnitude(base: str) -> Interval:
    """The engine's limits on numbers in records (see `records.LIMIT`)."""
    if base == "int":
        return Interval(-(LIMIT - 1), True, LIMIT - 1, True)
    return Interval(-LIMIT, False, LIMIT, False)


def kind_schema(kind: KindSpec, model: Model, years: dict[str, Any]) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "id": {"type": "string", "description": "echoed in the result"},
        "person": {"type": "string"},
        "year": {"type": "integer", **years},
        "kind": {"enum": [kind.name] + ([kind.label] if kind.label else [])},
    }
    required = ["kind", "year"]
    for spec in kind.fields.values():
        properties[spec.name] = field_schema(spec, model.symbols.labels(spec.ty.enum))
        if not spec.optional:
            required.append(spec.name)
    out: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }
    if kind.label:
        out["title"] = kind.label
    groups = kind.exactly_one_groups()
    if groups:
        out["allOf"] = [{"oneOf": [{"required": [f]} for f in group]} for group in groups]
    constraints = [expr_text(r.condition) for r in kind.requires if isinstance(r, ast.Require)]
    if constraints:
        out["x-constraints"] = constraints
    return out


def _years(regimes: list[ast.Regime]) -> dict[str, Any]:
    """Years from 1 to 9999, narrowed to those some regime covers."""
    firsts = [r.first for r in regimes]
    lasts = [r.last for r in regimes]
    low, high = 1, 9999
    if regimes and None not in firsts:
        low = max(low, min(f for f in firsts if f is not None))
    if regimes and None not in lasts:
        high = min(high, max(x for x in lasts if x is not None))
    return {"minimum": low, "maximum": high}


def record_schema(
    name: str, model: Model, regimes: list[ast.Regime], kind: str | None = None
) -> dict[str, Any]:
    """The schema of every kind (`oneOf`), or of one kind by name or label."""
    years = _years(regimes)
    kinds = [k for k in model.kinds.values() if kind is None or kind in (k.name, k.label)]
    if kind is not None and not kinds:
        raise KeyError(kind)
    if kind is not None:
        return {
            "$schema": DRAFT,
            "$id": f"urn:rules:{name}:{kinds[0].name}",
            **kind_schema(kinds[0], model, years),
        }
    return {
        "$schema": DRAFT,
        "$id": f"urn:rules:{name}",
        "title": f"records of policy {name}",
        "type": "object",
        "required": ["kind"],
        "properties": {
            "kind": {
                "enum": _words(list(model.kinds), {k.name: k.label for k in model.kinds.values()})
            }
        },
        "oneOf": [kind_schema(k, model, years) for k in model.kinds.values()],
    }
