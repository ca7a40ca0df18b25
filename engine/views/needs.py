"""What a partial record still needs: the inputs left to give, those that can change the
amount, and what the amount would be for each choice of the next one.

Input: a record that may lack fields, and a policy. Output: `{"needed": […], "matters":
[…], "next": FIELD, "choices": {value: outcome}}` — derived from the kind's declared fields
and the fields its checked rule reads, never listed by hand. A record that is complete
gets `needed: []` and its outcome.
"""

from __future__ import annotations

from typing import Any

from engine.checking import tree
from engine.checking.model import FieldSpec
from engine.running.protocol import Decides
from engine.running.records import RecordError

MAX_CHOICES = 12  # choices worked out for the next field (an enum's members, yes/no)


def needs(policy: Decides, record: dict[str, Any]) -> dict[str, Any]:
    """What `record` still needs to be decided, and what each choice would give."""
    for common in ("kind", "year"):
        if common not in record:
            return {"needed": [common], "matters": [common]}
    member = policy.member_for(record["year"]) if type(record["year"]) is int else None
    named = record["kind"] if type(record["kind"]) is str else None
    kind = member.model.kinds.get(named) if member is not None and named else None
    if member is None or kind is None:
        return {"needed": [], "matters": [], "outcome": _outcome(policy, record)}
    regime = member.regime_for(record["year"])
    rule = member.model.rules.get((kind.name, regime or ""))
    read = _fields_read(rule.body) if rule is not None else set()
    groups = [list(g) for g in kind.exactly_one_groups() if not set(g) & set(record)]
    needed = [n for n, spec in kind.fields.items() if n not in record and not spec.optional]
    matters = [n for n in [*needed, *(f for g in groups for f in g)] if n in read]
    unit = member.model.symbols.regimes[regime].unit if regime else None
    out: dict[str, Any] = {"needed": needed, "matters": matters, "unit": unit}
    if groups:
        out["one_of"] = groups  # give exactly one field of each
    if not needed and not groups:
        out["outcome"] = _outcome(policy, record)
        return out
    if matters:
        field = kind.fields[matters[0]]
        out["next"] = field.name
        values = _choices(field)
        if values is not None and len(needed) + len(groups) == 1:
            out["choices"] = {str(v): _outcome(policy, {**record, field.name: v}) for v in values}
    return out


def _fields_read(body: tree.Body) -> set[str]:
    """The record's fields a rule's body reads (through its lets, whens and result)."""
    roots: list[tree.Node] = [body.result]
    for stmt in body.statements:
        roots += [stmt.value] if isinstance(stmt, tree.Let) else [stmt.condition, stmt.result]
    return {
        n.name
        for root in roots
        for n in tree.nodes(root)
        if isinstance(n, tree.Var | tree.Has) and getattr(n, "origin", "field") == "field"
    }


def _choices(spec: FieldSpec) -> list[Any] | None:
    if spec.ty.base == "bool":
        return [True, False]
    if spec.members is not None and len(spec.members) <= MAX_CHOICES:
        return list(spec.members)
    return None


def _outcome(policy: Decides, record: dict[str, Any]) -> Any:
    """The amount, `not counted: REASON`, or `error: CODE` of a record."""
    try:
        result = policy.evaluate(record)
    except RecordError as error:
        return f"error: {error.code}"
    if "fact" in result:
        return "fact"
    if not result["counted"]:
        return f"not counted: {result['reason']}"
    return result["amount"]


def needs_text(policy: Decides, record: dict[str, Any], found: dict[str, Any]) -> str:
    """`needs` in words: what is left to fill in, what changes the amount, each choice."""
    member = policy.member_for(record["year"]) if type(record.get("year")) is int else None
    kind = member.model.kinds.get(str(record.get("kind"))) if member is not None else None
    fields = kind.fields if kind is not None else {}

    def label(name: str) -> str:
        spec = fields.get(name)
        return f"{spec.label}（{name}）" if spec is not None and spec.label else name

    symbols = member.model.symbols if member is not None else None
    regime = member.regime_for(record["year"]) if member is not None else None
    unit = symbols.regimes[regime].unit_label or "" if symbols and regime else ""
    reasons = {n: r.label or n for n, r in symbols.reasons.items()} if symbols else {}

    def said(outcome: Any) -> str:
        if isinstance(outcome, str) and outcome.startswith("not counted: "):
            reason = outcome.removeprefix("not counted: ")
            return f"不计（{reasons.get(reason, reason)}）"
        if isinstance(outcome, str) and outcome.startswith("error: "):
            return f"记录无效（{outcome.removeprefix('error: ')}）"
        return f"{outcome} {unit}".rstrip()

    def shown(value: str) -> str:
        spec = fields.get(found.get("next", ""))
        if spec is not None and spec.ty.base == "bool":
            return "是" if value == "True" else "否"
        labels = symbols.labels(spec.ty.enum) if symbols and spec and spec.ty.enum else {}
        return labels.get(value) or value

    if not found["needed"] and not found.get("one_of"):
        return f"已可判定：{said(found.get('outcome'))}"
    lines = ["还需填写：" + "、".join(label(n) for n in found["needed"])] if found["needed"] else []
    lines += ["以下填写其中一项：" + "、".join(map(label, g)) for g in found.get("one_of", [])]
    if found["matters"]:
        lines.append("其中会影响数额的：" + "、".join(label(n) for n in found["matters"]))
    else:
        lines.append("这些都不影响数额")
    for value, outcome in found.get("choices", {}).items():
        lines.append(f"  若{label(found['next'])}为{shown(value)}：{said(outcome)}")
    return "\n".join(lines)
