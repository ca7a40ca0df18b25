"""`rules diff`: what changes between two policies, and what that does to records.

Input: two loaded policies and, optionally, records. Output: plain data — the structural
difference (regimes, years and a declared gap, parameters, tables cell by cell with a
changed cell's own cite and a split row's origin, rules, functions, kinds and fields,
enums, summaries) and, given records, the impact: each record whose result
changes, each person-year or window whose qualification changes, and totals by kind.
Rendering (text, JSON, XLSX) is in `engine.views.diffout`.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

from engine.assembly.grid import VALUE, Grid
from engine.assembly.inherit import gap_text, years_text
from engine.checking.types import Interval, gaps
from engine.running.protocol import Decides, Member
from engine.running.values import value_text
from engine.syntax import ast
from engine.syntax.format import declaration
from engine.syntax.printer import cell_text, cite_text, expr_text, type_text

Change = dict[str, Any]


def _who(policy: Member) -> dict[str, Any]:
    return {
        "name": policy.name,
        "label": policy.label,
        "version": policy.version,
        "years": years_text(policy.years),
    }


def _source(decl: Any) -> list[str]:
    return [text for _, text in declaration(decl)]


def _text_diff(old: ast.Declaration, new: ast.Declaration) -> list[str]:
    """The changed lines of a declaration, as a unified diff without its file header."""
    lines = difflib.unified_diff(_source(old), _source(new), lineterm="", n=1)
    return [line for line in lines if not line.startswith(("---", "+++"))]


def _named(kind: str, old: dict[str, Any], new: dict[str, Any], same: Any) -> list[Change]:
    """Added, removed and changed declarations of one sort, by name."""
    out: list[Change] = []
    for name in [*old, *(n for n in new if n not in old)]:
        a, b = old.get(name), new.get(name)
        if a is None:
            out.append({"what": kind, "name": name, "change": "added", "label": _label(b)})
        elif b is None:
            out.append({"what": kind, "name": name, "change": "removed", "label": _label(a)})
        elif not same(a, b):
            out.append(
                {
                    "what": kind,
                    "name": name,
                    "change": "changed",
                    "label": _label(b),
                    "diff": _text_diff(a, b),
                }
            )
    return out


def _label(decl: Any) -> str | None:
    return getattr(decl, "label", None)


def _equal(a: Any, b: Any) -> bool:
    return bool(a == b)


def _same_rule(a: ast.Rule, b: ast.Rule) -> bool:
    keep = ("category", "cite", "body", "result", "credit")
    return all(getattr(a, k) == getattr(b, k) for k in keep)


# ── structure ────────────────────────────────────────────────────────────
def structure(old: Member, new: Member) -> dict[str, list[Change]]:
    """Every declaration added, removed or changed from `old` to `new`."""
    a, b = old.model, new.model
    sa, sb = a.symbols, b.symbols
    regimes = _gap(old, new) + _named("regime", sa.regimes, sb.regimes, _equal)
    if old.years != new.years:
        regimes.insert(
            0,
            {
                "what": "policy",
                "name": "years",
                "change": "changed",
                "old": years_text(old.years),
                "new": years_text(new.years),
            },
        )
    return {
        "regimes": regimes,
        "params": _params(sa.params, sb.params),
        "tables": _tables(old, new),
        "rules": _rules(_in_force(old), _in_force(new)),
        "functions": _named("function", sa.functions, sb.functions, _equal),
        "kinds": _kinds(a, b),
        "enums": _enums(sa.enums, sb.enums),
        "summaries": _named(
            "summary",
            {", ".join(s.regimes): s for s in sa.summaries},
            {", ".join(s.regimes): s for s in sb.summaries},
            _equal,
        )
        + _named("window", sa.windows, sb.windows, _equal),
        "categories": _named("category", sa.categories, sb.categories, _equal)
        + _named("reason", sa.reasons, sb.reasons, _equal),
    }


def _gap(old: Member, new: Member) -> list[Change]:
    """The years a policy declares between its base's and its own, if that changed."""
    a, b = (p.lineage.gap if p.lineage else None for p in (old, new))
    if a == b:
        return []
    change = {"what": "policy", "name": "gap", "label": "两套政策都不适用的年度"}
    change["change"] = "added" if a is None else "removed" if b is None else "changed"
    if a is not None:
        change["old"] = gap_text(a)
    if b is not None:
        change["new"] = gap_text(b)
    return [change]


def _params(old: dict[str, ast.Param], new: dict[str, ast.Param]) -> list[Change]:
    out = []
    for change in _named("param", old, new, lambda x, y: x.value == y.value):
        name = change.pop("name")
        change.pop("diff", None)
        change = {"what": "param", "name": name, **change}
        if name in old:
            change["old"] = expr_text(old[name].value)
        if name in new:
            change["new"] = expr_text(new[name].value)
            cite = new[name].cite
            if cite is not None and (name not in old or old[name].cite != cite):
                change["cite"] = cite_text(cite)
        out.append(change)
    return out


def _in_force(policy: Member) -> tuple[dict[tuple[str, str], Any], set[str]]:
    rules = {key: checked.decl for key, checked in policy.model.rules.items()}
    return rules, {r.name for r in policy.regimes}


def _rules(
    old: tuple[dict[tuple[str, str], Any], set[str]],
    new: tuple[dict[tuple[str, str], Any], set[str]],
) -> list[Change]:
    """Rules by kind and regime; one that only one side has counts where that side's regime
    is in force (an inherited regime outside a policy's years has no say)."""
    (old_rules, old_force), (new_rules, new_force) = old, new
    out = []
    keys = [*old_rules, *(k for k in new_rules if k not in old_rules)]
    for key in keys:
        a, b = old_rules.get(key), new_rules.get(key)
        if (b is None and key[1] not in old_force) or (a is None and key[1] not in new_force):
            continue
        kind, regime = key
        base = {"what": "rule", "name": f"{kind} in {regime}", "kind": kind, "regime": regime}
        if a is None:
            assert b is not None
            out.append({**base, "change": "added", "label": b.label, "source": _source(b)})
        elif b is None:
            out.append({**base, "change": "removed", "label": a.label})
        elif not _same_rule(a, b):
            out.append({**base, "change": "changed", "label": b.label, "diff": _text_diff(a, b)})
    return out


def _fields(spec: Any) -> dict[str, str]:
    out = {}
    if spec.facts is not None:  # what a year without one, or with several, means
        facts = spec.facts
        without = [f"not qualified {facts.missing_reason}"] if facts.missing_reason else []
        without += [f"{name} = {value_text(value)}" for name, value in facts.defaults.items()]
        several = " ".join(facts.several).replace("reason ", "not qualified ")
        out["without"] = ", ".join(without) or "—"
        out["several"] = several or "refused"
    for name, f in spec.fields.items():
        decl = f.decl
        optional = "optional " if f.optional and (decl is None or decl.optional) else ""
        default = f" = {expr_text(decl.default)}" if decl and decl.default is not None else ""
        out[name] = f"{optional}{type_text(decl.type) if decl else f.ty}{default}"
    return out


def _kinds(a: Any, b: Any) -> list[Change]:
    out = []
    for name in [*a.kinds, *(k for k in b.kinds if k not in a.kinds)]:
        old, new = a.kinds.get(name), b.kinds.get(name)
        if old is None or new is None:
            spec = new or old
            out.append(
                {
                    "what": "kind",
                    "name": name,
                    "label": spec.label,
                    "change": "added" if old is None else "removed",
                    "fields": [
                        {"name": f, "new" if old is None else "old": t}
                        for f, t in _fields(spec).items()
                    ],
                }
            )
            continue
        fa, fb = _fields(old), _fields(new)
        fields = []
        for f in [*fa, *(x for x in fb if x not in fa)]:
            if fa.get(f) != fb.get(f):
                change = "added" if f not in fa else "removed" if f not in fb else "changed"
                fields.append({"name": f, "change": change, "old": fa.get(f), "new": fb.get(f)})
        if fields or old.requires != new.requires:
            out.append(
                {
                    "what": "kind",
                    "name": name,
                    "label": new.label,
                    "change": "changed",
                    "fields": fields,
                }
            )
    return out


def _enums(old: dict[str, ast.Enum], new: dict[str, ast.Enum]) -> list[Change]:
    out = []
    for change in _named("enum", old, new, _equal):
        change.pop("diff", None)
        name = change["name"]
        before = [m.name for m in old[name].members] if name in old else []
        after = [m.name for m in new[name].members] if name in new else []
        change["added"] = [m for m in after if m not in before]
        change["removed"] = [m for m in before if m not in after]
        out.append(change)
    return out


# ── tables, as grids ─────────────────────────────────────────────────────
def _tables(old: Member, new: Member) -> list[Change]:
    ta, tb = old.model.symbols.tables, new.model.symbols.tables
    out: list[Change] = []
    for name in [*ta, *(t for t in tb if t not in ta)]:
        a, b = ta.get(name), tb.get(name)
        if a is None or b is None:
            out.append(
                {
                    "what": "table",
                    "name": name,
                    "label": _label(a or b),
                    "change": "added" if a is None else "removed",
                }
            )
        elif a.keys != b.keys or a.value_type != b.value_type:
            out.append(
                {
                    "what": "table",
                    "name": name,
                    "label": b.label,
                    "change": "changed",
                    "diff": _text_diff(a, b),
                    "cells": [],
                }
            )
        else:
            grid = _grid_change(a, b, old.model.symbols.enums, new.model.symbols.enums)
            beyond = _otherwise_change(a, b)
            if grid is not None or beyond:
                change = {"what": "table", "name": name, "label": b.label, "change": "changed"}
                out.append(
                    {**change, **(grid or {"cells": []}), **({"diff": beyond} if beyond else {})}
                )
    return out


def _otherwise_change(a: ast.Table, b: ast.Table) -> list[str]:
    """What keys beyond the rows give, if that changed: `- otherwise …`, `+ otherwise …`."""
    if a.otherwise == b.otherwise:
        return []
    return [f"{mark} otherwise {expr_text(t.otherwise)}"
            for mark, t in (("-", a), ("+", b)) if t.otherwise is not None]  # fmt: skip


def _grid_change(
    a: ast.Table, b: ast.Table, enums_a: dict[str, ast.Enum], enums_b: dict[str, ast.Enum]
) -> dict[str, Any] | None:
    """The changed cells, and the new grid with each change written `old → new`."""
    ga, gb = Grid(a, enums_a), Grid(b, enums_b)
    if ga.cells == gb.cells and ga.cites == gb.cites:
        return None
    origins = _splits(ga, gb, b.keys[0].type == "int")
    rows = _rows_in_order(ga, gb, origins)
    columns = {**ga.columns, **gb.columns}
    cells: list[dict[str, Any]] = []
    grid: list[list[str]] = []
    for row, row_cells in rows:
        origin = origins.get(row)
        line = [cell_text(c) for c in row_cells]
        line[0] += f"（拆自 {cell_text(origin)}）" if origin is not None else ""
        for column in columns:
            old = ga.cells.get((origin if origin is not None else row, column))
            new, cite = gb.cells.get((row, column)), gb.cites.get((row, column))
            text = cell_text(new) if new is not None else ""
            if old != new or origin is not None or cite != ga.cites.get((row, column)):
                text = f"{_cell(old)} → {_cell(new)}" if old != new else text
                cell = {
                    "row": _key(row),
                    "column": None if column == VALUE else _key(column),
                    "old": _cell(old),
                    "new": _cell(new),
                }
                if origin is not None:
                    cell["split"] = _key(origin)
                if cite is not None:
                    cell["cite"] = cite_text(cite)
                cells.append(cell)
            line.append(text)
        grid.append(line)
    head = [cell_text(c) for c in [*gb.captions, *columns.values()]]
    return {"cells": cells, "grid": {"head": head, "rows": grid}}


def _interval(cell: Any) -> Interval | None:
    if isinstance(cell, ast.Bracket):
        return Interval(cell.low, cell.low_closed, cell.high, cell.high_closed)
    if isinstance(cell, ast.Number):
        return Interval.point(cell.value)
    return None


def _splits(ga: Grid, gb: Grid, integer: bool) -> dict[Any, Any]:
    """Each new bracket row that lies within a row the old table has and the new one has
    not (a row split into several) -> that old row."""
    removed = [(r, _interval(r)) for r in ga.rows if r not in gb.rows]
    out = {}
    for row in (r for r in gb.rows if r not in ga.rows):
        inside = _interval(row)
        for old, whole in removed:
            if inside is not None and whole is not None and not gaps(inside, [whole], integer):
                out[row] = old
    return out


def _rows_in_order(
    ga: Grid, gb: Grid, origins: dict[Any, Any]
) -> list[tuple[Any, tuple[ast.Cell, ...]]]:
    """The old rows in order, a split row replaced by the rows it became; then new rows."""
    parts: dict[Any, list[Any]] = {}
    for row, old in origins.items():
        parts.setdefault(old, []).append(row)
    out: list[tuple[Any, tuple[ast.Cell, ...]]] = []
    for row, (cells, _) in ga.rows.items():
        if row in parts:
            out += [(r, gb.rows[r][0]) for r in parts[row]]
        else:
            out.append((row, cells))
    return out + [(r, c) for r, (c, _) in gb.rows.items() if r not in ga.rows and r not in origins]


def _cell(cell: ast.Cell | None) -> str:
    return "（无）" if cell is None else cell_text(cell)


def _key(key: Any) -> str:
    if isinstance(key, tuple):
        return ", ".join(_key(k) for k in key)
    return key if isinstance(key, str) else cell_text(key)


# ── impact on records ────────────────────────────────────────────────────
def _shifted(record: Any, years: int) -> Any:
    if years and isinstance(record, dict) and type(record.get("year")) is int:
        return {**record, "year": record["year"] + years}
    return record


def _outcome(result: dict[str, Any]) -> dict[str, Any]:
    if "error" in result:
        return {"error": result["error"]["code"]}
    if "fact" in result:
        return {"fact": result["fact"]}
    out = {"amount": result["amount"], "counted": result["counted"], "unit": result["unit"]}
    if "reason" in result:
        out["reason"] = result["reason"]
    return out


def impact(old: Decides, new: Decides, records: Iterable[Any], shift: int = 0) -> dict[str, Any]:
    """How the results and the report change for these records; with `shift`, `new`
    sees each record's year that many years later (to try next year's rules on this
    year's records)."""
    records = list(records)
    later = [_shifted(r, shift) for r in records]
    changed: list[dict[str, Any]] = []
    kinds: dict[tuple[Any, Any], dict[str, Any]] = {}
    pairs = zip(old.evaluate_many(records), new.evaluate_many(later), strict=True)
    for position, (a, b) in enumerate(pairs, 1):
        oa, ob = _outcome(a), _outcome(b)
        for side, result in (("old", a), ("new", b)):
            if result.get("counted"):
                key = (result["kind"], result["unit"])
                total = kinds.setdefault(
                    key,
                    {
                        "kind": key[0],
                        "unit": key[1],
                        "old": 0,
                        "new": 0,
                        "old_count": 0,
                        "new_count": 0,
                    },
                )
                total[side] += result["amount"]
                total[f"{side}_count"] += 1
        if oa != ob:
            record = records[position - 1]
            entry = {
                "position": position,
                "id": (a.get("id")),
                "person": a.get("person"),
                "year": a.get("year"),
                "kind": a.get("kind") or b.get("kind"),
                "old": oa,
                "new": ob,
            }
            if isinstance(record, dict):
                entry["kind"] = entry["kind"] or record.get("kind")
                entry["person"] = entry["person"] or record.get("person")
                entry["year"] = entry["year"] or record.get("year")
            if "amount" in oa and "amount" in ob:
                entry["delta"] = ob["amount"] - oa["amount"]
            changed.append(entry)
    for total in kinds.values():
        total["delta"] = total["new"] - total["old"]
    old_rows, new_rows = old.report(records), new.report(later)
    return {
        "records": len(records),
        "shift": shift,
        "changed": changed,
        "people": _people(old_rows, new_rows, shift, _requirement_labels(new)),
        "kinds": sorted(kinds.values(), key=lambda t: (t["kind"], t["unit"])),
        "qualified": {"old": _qualified(old_rows), "new": _qualified(new_rows)},
    }


def _qualified(rows: list[dict[str, Any]]) -> dict[str, int]:
    """Person-years (and windows) judged, and how many of them qualified."""
    judged = [r for r in rows if r["scope"] != "error" and "qualified" in r]
    return {"judged": len(judged), "qualified": sum(1 for r in judged if r["qualified"])}


def _people(
    old_rows: list[Any], new_rows: list[Any], shift: int, labels: dict[str, str]
) -> list[dict[str, Any]]:
    """Person-years and windows whose qualification changes."""

    def key(row: dict[str, Any], back: int) -> tuple[Any, ...]:
        if row["scope"] == "year":
            return (row["person"], "year", row["year"] - back)
        return (row["person"], "window", row["window"], row.get("year"))

    before = {key(r, 0): r for r in old_rows if r["scope"] != "error"}
    after = {key(r, shift): r for r in new_rows if r["scope"] != "error"}
    out = []
    for k in sorted(set(before) | set(after), key=lambda k: (k[0], k[1], str(k[2]))):
        a, b = before.get(k, {}), after.get(k, {})
        if a.get("qualified") == b.get("qualified"):
            continue
        out.append(
            {
                "person": k[0],
                k[1]: k[2],
                "old_qualified": a.get("qualified"),
                "new_qualified": b.get("qualified"),
                "old_total": a.get("total"),
                "new_total": b.get("total"),
                "old_shortfall": a.get("shortfall"),
                "new_shortfall": b.get("shortfall"),
                "why": _why(a, b, labels),
            }
        )
    return out


def _why(old: dict[str, Any], new: dict[str, Any], labels: dict[str, str]) -> str:
    """Which requirements now pass or fail, and by how much: `公需：缺 5 → 达到`."""
    said = []
    a, b = old.get("shortfall") or {}, new.get("shortfall") or {}
    for name in [*a, *(n for n in b if n not in a)]:
        before, after = a.get(name), b.get(name)
        if before == after:
            continue
        words = [("达到" if not v else f"缺 {value_text(v)}") if v is not None else "—"
                 for v in (before, after)]  # fmt: skip
        said.append(f"{labels.get(name, name)}：{words[0]} → {words[1]}")
    ra, rb = old.get("reasons") or {}, new.get("reasons") or {}
    for name in [*ra, *(n for n in rb if n not in ra)]:
        before, after = ra.get(name), rb.get(name)
        if before != after:
            words = [
                "满足" if v is None else f"未满足（{labels.get(v, v)}）" for v in (before, after)
            ]
            said.append(f"{labels.get(name, name)}：{words[0]} → {words[1]}")
    return "；".join(said)


def _requirement_labels(policy: Decides) -> dict[str, str]:
    """The words of requirements, `facts` kinds and reasons, by name."""
    out: dict[str, str] = {}
    for member in policy.members:
        symbols = member.model.symbols
        out.update({n: r.label for n, r in symbols.reasons.items() if r.label})
        out.update({n: k.label for n, k in symbols.kinds.items() if k.facts and k.label})
        nodes: list[ast.Summary | ast.Window] = [*symbols.summaries, *symbols.windows.values()]
        for node in nodes:
            for stmt in node.body:
                if isinstance(stmt, ast.Requirement) and stmt.name and stmt.label:
                    out[stmt.name] = stmt.label
    return out


def diff(
    old: Member, new: Member, records: Iterable[Any] | None = None, shift: int = 0
) -> dict[str, Any]:
    """The whole comparison: who, the structure, and (given records) the impact."""
    out: dict[str, Any] = {"old": _who(old), "new": _who(new), "structure": structure(old, new)}
    if records is not None:
        out["impact"] = impact(old, new, records, shift)
    return out
