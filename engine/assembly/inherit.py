"""Inheritance: a policy written as changes to another.

Input: the base policy's declarations (already merged, if it extends another in turn)
and the extending policy's parsed files. Output: one list of declarations — the base's
in their order, each replaced or changed where the new files say so, then the new
files' own additions — a `Lineage` naming every change, and diagnostics: a change of
something the base does not have, two changes of one thing, a redefinition without
`override`, effective years that overlap the base's or leave a gap after them that the
policy does not declare (`gap 2022`), and a declared gap that is not those years.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from engine.assembly.grid import VALUE, Grid, GridError
from engine.syntax import ast
from engine.syntax.diagnostics import Diagnostic, did_you_mean
from engine.syntax.printer import cell_text, expr_text

Key = tuple[str, ...]

WHAT = {
    ast.Param: "parameter",
    ast.Table: "table",
    ast.Function: "function",
    ast.Rule: "rule",
    ast.Kind: "kind",
    ast.Enum: "enum",
    ast.Regime: "regime",
    ast.Summary: "year summary",
    ast.Window: "window",
    ast.Category: "category",
    ast.Reason: "reason",
}
KEYWORD = {"parameter": "param", "year summary": "summary"}
TableEdit = ast.TableChange | ast.CellOverride | ast.RowSplit
_SHARED = (ast.Param, ast.Table, ast.Function)  # one namespace: names in expressions


@dataclass(frozen=True)
class Change:
    """One thing a policy changes in its base: `action` is override, extend or add."""

    action: str
    what: str
    name: str
    old: str | None
    new: str | None
    span: ast.Span
    cite: ast.Cite | None = None  # the clause the change cites, if it names one


@dataclass
class Lineage:
    """What a policy inherits and what it changes."""

    base: str
    base_version: str
    base_years: tuple[int | None, int | None]
    gap: tuple[int, int] | None = None  # the declared years between the base's and its own
    files: tuple[str, ...] = ()  # the policy's own files, where its changes are written
    changes: list[Change] = field(default_factory=list)
    marks: dict[Key, str] = field(default_factory=dict)  # key -> override | extend | add
    old_cells: dict[ast.Span, str] = field(default_factory=dict)  # a new cell's place -> old text

    def in_gap(self, year: int) -> bool:
        return self.gap is not None and self.gap[0] <= year <= self.gap[1]

    def gap_note(self, name: str, years: tuple[int | None, int | None]) -> str:
        """The declared gap in words: the years `name` leaves between its base and itself."""
        assert self.gap is not None
        after = self.base_years[1] is not None and self.gap[0] > self.base_years[1]
        return (
            f"{_dashed(self.gap)} is the gap that `{name}` ({years_text(years)}) leaves "
            f"{'after' if after else 'before'} its base `{self.base}` "
            f"({years_text(self.base_years)}): neither decides it"
        )

    def mark(self, decl: Any) -> str | None:
        """override, extend or add for a declaration this policy changed; else None."""
        if isinstance(decl, ast.Rule):
            keys = [k for k in self.marks if k[:2] == ("rule", decl.kind)]
            keys = [k for k in keys if not decl.regimes or k[2] in decl.regimes]
        else:
            keys = declaration_keys(decl, ())
        return next((self.marks[k] for k in keys if k in self.marks), None)


@dataclass(frozen=True)
class Base:
    name: str
    version: str
    declarations: list[ast.Declaration]


def declaration_keys(decl: Any, regimes: Iterable[str]) -> list[Key]:
    """What a declaration defines: a rule, its kind in each regime; a year summary, each
    regime; any other, its name (parameters, tables and functions share names)."""
    if isinstance(decl, ast.Rule):
        return [("rule", decl.kind, r) for r in decl.regimes or regimes]
    if isinstance(decl, ast.Summary):
        return [("summary", r) for r in decl.regimes]
    if isinstance(decl, _SHARED):
        return [("name", decl.name)]
    if type(decl) in WHAT:
        return [(WHAT[type(decl)], decl.name)]
    return []


def _describe(key: Key) -> str:
    if key[0] == "rule":
        return f"rule `{key[1]}` in `{key[2]}`"
    if key[0] == "summary":
        return f"the year summary of `{key[1]}`"
    if key[0] == "name":
        return f"`{key[1]}`"
    return f"{key[0]} `{key[1]}`"


def effective_years(declarations: Iterable[Any]) -> tuple[int | None, int | None]:
    """A policy's years: as its `policy` line says, else from its first to its last
    regime's."""
    regimes = []
    for decl in declarations:
        if isinstance(decl, ast.PolicyDecl) and decl.years is not None:
            return decl.years
        if isinstance(decl, ast.Regime):
            regimes.append(decl)
    if not regimes:
        return (None, None)
    firsts = [r.first for r in regimes]
    lasts = [r.last for r in regimes]
    first = None if None in firsts else min(f for f in firsts if f is not None)
    last = None if None in lasts else max(x for x in lasts if x is not None)
    return (first, last)


def years_text(years: tuple[int | None, int | None]) -> str:
    first, last = years
    return f"{'' if first is None else first}..{'' if last is None else last}"


def gap_text(years: tuple[int | None, int | None]) -> str:
    """Years as a `gap` writes them: `2022`, or `2021..2022`."""
    first, last = years
    return str(first) if first is not None and first == last else years_text(years)


def _dashed(years: tuple[int, int]) -> str:
    return str(years[0]) if years[0] == years[1] else f"{years[0]}–{years[1]}"


class _Merge:
    def __init__(self, base: Base, decl: ast.PolicyDecl) -> None:
        self.base, self.decl = base, decl
        self.diags: list[Diagnostic] = []
        self.index: dict[Key, ast.Declaration] = {}
        base_regimes = [d.name for d in base.declarations if isinstance(d, ast.Regime)]
        self.base_regimes = base_regimes
        for d in base.declarations:
            for key in declaration_keys(d, base_regimes):
                self.index[key] = d
        self.lineage = Lineage(base.name, base.version, effective_years(base.declarations))
        self.replaced: dict[Key, Any] = {}  # key -> the override that replaces it
        self.extended: dict[Key, Any] = {}  # enum or kind key -> its extended declaration
        self.cells: dict[str, list[Any]] = {}  # table -> its changes, in order
        self.added: list[ast.Declaration] = []

    def error(self, code: str, message: str, span: ast.Span, help: str | None = None) -> None:
        self.diags.append(Diagnostic(code, message, span, help))

    def change(
        self, action: str, what: str, name: str, old: Any, new: Any, span: Any, cite: Any = None
    ) -> None:
        self.lineage.changes.append(Change(action, what, name, old, new, span, cite))

    # ── what the new files say ─────────────────────────────────────────────
    def override(self, node: ast.Override) -> None:
        decl = node.decl
        what = WHAT[type(decl)]
        keys = (
            [k for k in self.index if k[0] == "rule" and k[1] == decl.kind]
            if isinstance(decl, ast.Rule) and not decl.regimes
            else declaration_keys(decl, self.base_regimes)
        )
        missing: list[Key | None] = [k for k in keys if k not in self.index]
        if not keys:
            missing = [None]
        if missing:
            self._missing(what, decl, missing[0], node.span)
            return
        first = self.index[keys[0]]
        if not isinstance(first, type(decl)):
            self.error(
                "override-missing",
                f"`{_name_of(decl)}` of the base policy is a {WHAT[type(first)]}, not a {what}",
                node.span,
            )
            return
        for key in keys:
            if self._taken(key, node.span):
                return
        cite = getattr(decl, "cite", None)
        decl = _keep_label_and_cite(decl, first)
        for key in keys:
            self.replaced[key] = decl
            self.lineage.marks[key] = "override"
        old, new = _summary_of(first), _summary_of(decl)
        self.change("override", what, _name_of(decl), old, new, node.span, cite)

    def _missing(self, what: str, decl: Any, key: Key | None, span: ast.Span) -> None:
        name = getattr(decl, "name", None) or getattr(decl, "kind", None) or ""
        if key is None:
            where = f"kind `{decl.kind}`" if isinstance(decl, ast.Rule) else f"`{name}`"
            message = f"the base policy `{self.base.name}` has no {what} for {where}"
        else:
            message = f"the base policy `{self.base.name}` has no {_describe(key)} to override"
        names = [k[-1] if k[0] != "rule" else k[1] for k in self.index]
        self.error(
            "override-missing",
            message,
            span,
            did_you_mean(name, names) or f"to add a new {what}, leave out `override`",
        )

    def _taken(self, key: Key, span: ast.Span) -> bool:
        """Whether `key` is already changed; if so, say where."""
        earlier = self.replaced.get(key) or self.extended.get(key)
        if earlier is None:
            return False
        at = earlier.span
        self.error(
            "override-conflict",
            f"{_describe(key)} is changed twice",
            span,
            f"it is already changed at {at.file}:{at.line}; keep one of the two",
        )
        return True

    def plain(self, decl: ast.Declaration) -> None:
        regimes = self.base_regimes if isinstance(decl, ast.Rule) else ()
        for key in declaration_keys(decl, regimes):
            if key in self.index:
                at = self.index[key].span
                what = WHAT[type(decl)]
                self.error(
                    "duplicate",
                    f"{_describe(key)} is already defined by the base policy `{self.base.name}`",
                    decl.span,
                    f"it is at {at.file}:{at.line}; to replace it, write "
                    f"`override {KEYWORD.get(what, what)} …`",
                )
                return
        self.added.append(decl)
        for key in declaration_keys(decl, regimes):
            self.lineage.marks[key] = "add"
        added = WHAT.get(type(decl))
        if added is not None:
            new, cite = _summary_of(decl), getattr(decl, "cite", None)
            self.change("add", added, _name_of(decl), None, new, decl.span, cite)

    def extend(self, node: ast.EnumExtension | ast.KindExtension) -> None:
        if isinstance(node, ast.EnumExtension):
            what, name = "enum", node.enum
        else:
            what, name = "kind", node.kind
        key = (what, name)
        if key not in self.index:
            names = [k[1] for k in self.index if k[0] == what]
            self.error(
                "override-missing",
                f"the base policy `{self.base.name}` has no {what} `{name}` to extend",
                node.span,
                did_you_mean(name, names),
            )
            return
        if key in self.replaced and self._taken(key, node.span):
            return
        current = self.extended.get(key, self.index[key])
        if isinstance(node, ast.EnumExtension):
            new = dataclasses.replace(current, members=current.members + node.members)
            added = ", ".join(f"`{m.name}`" for m in node.members)
        else:
            new = dataclasses.replace(
                current,
                fields=current.fields + node.fields,
                requires=current.requires + node.requires,
            )
            added = ", ".join(f"`{f.name}`" for f in node.fields) or "requirements"
        self.extended[key] = new
        self.lineage.marks.setdefault(key, "extend")
        self.change("extend", what, name, None, f"adds {added}", node.span)

    def table_change(self, node: TableEdit) -> None:
        key = ("name", node.table)
        target = self.index.get(key)
        if not isinstance(target, ast.Table):
            names = [d.name for d in self.index.values() if isinstance(d, ast.Table)]
            self.error(
                "override-missing",
                f"the base policy `{self.base.name}` has no table `{node.table}`",
                node.span,
                did_you_mean(node.table, names),
            )
            return
        if key in self.replaced:
            at = self.replaced[key].span
            self.error(
                "override-conflict",
                f"table `{node.table}` is replaced whole at {at.file}:{at.line} and changed here",
                node.span,
                "change its cells in the table that replaces it",
            )
            return
        self.cells.setdefault(node.table, []).append(node)
        self.lineage.marks.setdefault(key, "override")

    # ── the merged policy ──────────────────────────────────────────────────
    def declarations(self) -> list[ast.Declaration]:
        enums = {k[1]: d for k, d in self.index.items() if isinstance(d, ast.Enum)}
        enums.update({k[1]: d for k, d in self.replaced.items() if k[0] == "enum"})
        enums.update({k[1]: d for k, d in self.extended.items() if k[0] == "enum"})
        enums.update({d.name: d for d in self.added if isinstance(d, ast.Enum)})
        out: list[ast.Declaration] = []
        placed: set[int] = set()
        for decl in self.base.declarations:
            if isinstance(decl, ast.PolicyDecl):
                out.append(self.decl)
                continue
            keys = declaration_keys(decl, self.base_regimes)
            if not keys:
                out.append(decl)
                continue
            for key in keys:
                new = self.replaced.get(key)
                if new is not None and id(new) not in placed:
                    placed.add(id(new))
                    out.append(new)
            kept = [k for k in keys if k not in self.replaced]
            if not kept:
                continue
            if len(kept) < len(keys):
                out.append(_narrowed(decl, kept))
            elif keys[0] in self.extended:
                out.append(self.extended[keys[0]])
            elif isinstance(decl, ast.Table) and decl.name in self.cells:
                out.append(self._patched(decl, enums))
            else:
                out.append(decl)
        return out + self.added

    def _conflict(self, message: str, span: ast.Span, first: ast.Span, more: str = "") -> None:
        help = f"it is already changed at {first.file}:{first.line}{more}"
        self.error("override-conflict", message, span, help)

    def _patched(self, table: ast.Table, enums: dict[str, ast.Enum]) -> ast.Table:
        grid = Grid(table, enums)
        seen: dict[Any, ast.Span] = {}
        for node in self.cells[table.name]:
            split = (node.key, VALUE) if isinstance(node, ast.RowSplit) else None
            if split in seen:
                self._conflict(f"`{table.name}[{cell_text(node.key)}]` is changed and also split",
                               node.span, seen[split], "; keep one of the two")  # fmt: skip
                continue
            try:
                changed = _apply(grid, node)
            except GridError as error:
                self.error(error.code, error.message, error.span, error.help)
                continue
            for where, old, new in changed:
                if where in seen:
                    self._conflict(f"`{table.name}{grid.show(where)}` is changed twice",
                                   new.span, seen[where])  # fmt: skip
                    continue
                seen[where] = new.span
                old_text = None if old is None else cell_text(old)
                if old_text is not None and old != new:
                    self.lineage.old_cells[new.span] = old_text
                if not isinstance(node, ast.RowSplit):
                    action = "add" if old is None else "override"
                    name = f"{table.name}{grid.show(where)}"
                    self.change(action, "cell", name, old_text, cell_text(new), new.span, node.cite)
            if isinstance(node, ast.RowSplit) and changed:
                self._split_change(grid, node, changed)
        for missing in grid.missing():
            self.error(
                "table-incomplete",
                f"`{table.name}{grid.show(missing)}` has no value",
                grid.span_of(missing),
                "a row or column added here needs a value in every cell; "
                "give one, or `—` where there is none",
            )
        return grid.table()

    def _split_change(self, grid: Grid, node: ast.RowSplit, changed: list[Any]) -> None:
        """One change for a split row: the old row's value, and each new row's."""
        old = cell_text(changed[0][1])
        new = "；".join(f"{cell_text(where[0])}: {cell_text(cell)}" for where, _, cell in changed)
        name = f"{node.table}[{cell_text(node.key)}]"
        self.change("override", "split", name, old, new, node.span, node.cite)

    def years(self) -> None:
        decl = self.decl
        base_first, base_last = self.lineage.base_years
        if decl.years is None:
            after = f"{base_last + 1}.." if base_last is not None else "…"
            self.error(
                "extends-years",
                f"policy `{decl.name}` extends `{self.base.name}` but does not say its years",
                decl.span,
                f"add `years {after}` to the `policy` line",
            )
            return
        first, last = decl.years
        mine, theirs = years_text(decl.years), years_text(self.lineage.base_years)
        if base_last is None:  # an open base ends where a later policy takes over
            overlap = first is None or (base_first is not None and first <= base_first)
        else:
            overlap = (first is None or first <= base_last) and (
                last is None or base_first is None or last >= base_first
            )
        if overlap:
            start = base_last + 1 if base_last is not None else (base_first or 0) + 1
            self.error(
                "extends-overlap",
                f"the years of `{decl.name}` ({mine}) overlap those of its base "
                f"`{self.base.name}` ({theirs})",
                decl.span,
                f"each year is decided by one policy; start at {start}",
            )
            return
        between = None
        if base_last is not None and first is not None and first > base_last + 1:
            between = (base_last + 1, first - 1)
            words = f"`{self.base.name}` ends in {base_last} and `{decl.name}` starts in {first}"
        elif base_first is not None and last is not None and last < base_first - 1:
            between = (last + 1, base_first - 1)
            words = f"`{decl.name}` ends in {last} and its base `{self.base.name}` starts in "
            words += str(base_first)
        if decl.gap is not None:
            self._declared_gap(decl.gap, between)
        elif between is not None:
            self.error(
                "extends-gap",
                f"no policy covers {_dashed(between)}: {words}",
                decl.span,
                f"declare the years in between as a gap: `gap {gap_text(between)}`",
            )

    def _declared_gap(self, gap: ast.Gap, between: tuple[int, int] | None) -> None:
        """A declared gap is exactly the years between the base's and the policy's own."""
        declared = (gap.first, gap.last)
        if declared == between:
            self.lineage.gap = between
            return
        decl, base = self.decl, self.base.name
        ours, theirs = years_text(decl.years or (None, None)), years_text(self.lineage.base_years)
        if between is None:
            self.error(
                "gap-years",
                f"there are no years between `{base}` ({theirs}) and `{decl.name}` ({ours})",
                gap.span,
                f"leave out `gap {gap_text(declared)}`",
            )
            return
        self.error(
            "gap-years",
            f"the gap must be exactly the years between `{base}` ({theirs}) and "
            f"`{decl.name}` ({ours}): {_dashed(between)}",
            gap.span,
            f"write `gap {gap_text(between)}`",
        )


def inherit(
    base: Base, decl: ast.PolicyDecl, modules: Iterable[ast.Module]
) -> tuple[list[ast.Declaration], Lineage, list[Diagnostic]]:
    """The base's declarations changed as `modules` say, with the lineage of each change."""
    merge = _Merge(base, decl)
    merge.years()
    for module in modules:
        for node in module.declarations:
            if isinstance(node, ast.PolicyDecl):
                continue
            if isinstance(node, ast.Override):
                merge.override(node)
            elif isinstance(node, ast.EnumExtension | ast.KindExtension):
                merge.extend(node)
            elif isinstance(node, ast.TableChange | ast.CellOverride | ast.RowSplit):
                merge.table_change(node)
            else:
                merge.plain(node)
    declarations = merge.declarations()
    return declarations, merge.lineage, merge.diags


def without_base(modules: Iterable[ast.Module]) -> list[Diagnostic]:
    """A policy that extends nothing may not change anything, nor leave a gap after a
    base."""
    found = []
    for node in (n for m in modules for n in m.declarations):
        if isinstance(node, ast.Change):
            found.append(
                Diagnostic(
                    "no-base",
                    "only a policy that extends another can change it",
                    node.span,
                    'add `extends "path/to/base"` to the `policy` line, '
                    "or leave out `override`/`extend`",
                )
            )
        elif isinstance(node, ast.PolicyDecl) and node.gap is not None:
            found.append(
                Diagnostic(
                    "no-base",
                    "only a policy that extends another has a gap after its base",
                    node.gap.span,
                    'add `extends "path/to/base"` to the `policy` line, or leave out the `gap`',
                )
            )
    return found


def _apply(grid: Grid, node: TableEdit) -> list[tuple[Any, Any, ast.Cell]]:
    """The cells one change to a table sets: (where, old cell or None, new cell)."""
    if isinstance(node, ast.TableChange):
        return grid.apply(node.rows, node.adds, node.cite)
    if isinstance(node, ast.RowSplit):
        return grid.split(node.key, node.rows, node.cite, node.span)
    return [grid.set_cell(node.keys, node.value, node.span, node.cite)]


_REGIME_PARTS = {"years": ("first", "last"), "unit": ("unit", "unit_label"), "cite": ("cite",)}


def _keep_label_and_cite(decl: Any, base: Any) -> Any:
    """An override that leaves out its label or citation keeps the base's; a regime also
    keeps the base's years or unit if it leaves them out."""
    changes = {}
    for name in ("label", "cite"):
        if hasattr(decl, name) and getattr(decl, name) is None:
            changes[name] = getattr(base, name, None)
    if isinstance(decl, ast.Regime):
        for part, names in _REGIME_PARTS.items():
            if part not in decl.written:
                changes.update({n: getattr(base, n) for n in names})
        changes["written"] = ("years", "unit", "cite")
    return dataclasses.replace(decl, **changes)


def _narrowed(decl: Any, kept: list[Key]) -> Any:
    regimes = tuple(k[-1] for k in kept)
    return dataclasses.replace(decl, regimes=regimes)


def _name_of(decl: Any) -> str:
    if isinstance(decl, ast.Rule):
        return decl.kind + (f" in {', '.join(decl.regimes)}" if decl.regimes else "")
    if isinstance(decl, ast.Summary):
        return ", ".join(decl.regimes)
    return str(decl.name)


def _summary_of(decl: Any) -> str | None:
    """A short text of what a declaration says, for the list of changes."""
    if isinstance(decl, ast.Param):
        return expr_text(decl.value)
    if isinstance(decl, ast.Regime):
        first, last = decl.first, decl.last
        return f"years {years_text((first, last))}"
    if isinstance(decl, ast.Enum):
        return ", ".join(m.name for m in decl.members)
    if isinstance(decl, ast.Kind):
        return ", ".join(f.name for f in decl.fields)
    return None  # a rule, function, table or summary: its text is in the document
