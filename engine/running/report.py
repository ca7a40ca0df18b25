"""Reports: one person's records summed up by year and by window.

Input: numbered records and a `Policy`. Output: report rows in the contract's order —
for each person (sorted), a row per year (ascending), then a row per window — and then
an error row per invalid record, in input order. Memory grows with the number of
person-years (one total per category each), not with the number of records.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator
from typing import Any

from engine.running.compile import Requirement, SummaryProgram
from engine.running.jsonout import dumps, loads
from engine.running.protocol import Decides, Member
from engine.running.records import INVALID, RecordError
from engine.running.values import NotCounted, amount_value
from engine.syntax import ast

Totals = dict[str, Any]  # category -> total of counted amounts


def _shown(value: Any) -> Any:
    kind = type(value)
    return value if kind is int or kind is bool else amount_value(value)


def _requirements(row: dict[str, Any], required: list[Requirement]) -> None:
    if not required:
        return
    if len(required) == 1 and required[0][0] is None:
        _, _, needed, met = required[0]
        row["required"] = _shown(needed)
        row["qualified"] = met
        return
    row["required"] = {str(name): _shown(needed) for name, _, needed, _ in required}
    row["shortfall"] = {
        str(name): _shown(max(0, needed - achieved)) for name, achieved, needed, _ in required
    }
    row["qualified"] = all(met for *_, met in required)


class Spool:
    """Rows kept for later in a temporary file once they pass a few megabytes, so that
    many invalid records do not make a report's memory grow with its input."""

    def __init__(self) -> None:
        # open for the life of the report; closed once read back
        self._file = tempfile.SpooledTemporaryFile(  # noqa: SIM115
            max_size=8 * 2**20, mode="w+", encoding="utf-8"
        )

    def append(self, row: dict[str, Any]) -> None:
        self._file.write(dumps(row) + "\n")

    def __iter__(self) -> Iterator[dict[str, Any]]:
        self._file.seek(0)
        for line in self._file:
            yield loads(line)
        self._file.close()


class _Summaries:
    """One policy's compiled year summaries (by regime) and windows."""

    def __init__(self, policy: Member) -> None:
        model, compiler = policy.model, policy.compiler
        in_force = {r.name for r in policy.regimes}
        self.policy = policy
        self.categories = list(model.symbols.categories)
        self.years = {
            r: compiler.summary(s, r) for r, s in model.summaries.items() if r in in_force
        }
        windows = [(w, w.decl) for w in model.windows.values()]
        self.windows = [
            (decl, compiler.summary(w, decl.regime))
            for w, decl in windows
            if isinstance(decl, ast.Window) and decl.regime in self.years
        ]


class Reporter:
    """Builds report rows with the compiled summaries of a policy, or of each policy of a
    set (a person-year is summed up by the policy in force in that year)."""

    def __init__(self, policy: Decides) -> None:
        self.policy = policy
        self.summaries = {id(m): _Summaries(m) for m in policy.members}

    def rows(
        self, numbered: Iterable[tuple[int, Any]], traces: list[Any] | None = None
    ) -> Iterator[dict[str, Any]]:
        people: dict[str, dict[int, Totals]] = {}
        errors = Spool()
        decide = self.policy.decide
        for position, record in numbered:
            try:
                decision = decide(record, position)
            except RecordError as error:
                errors.append(
                    {"scope": "error", **self.policy.error_result(record, position, error)}
                )
                continue
            person, value = decision.person, decision.value
            if person is None:
                errors.append(self._no_person(decision.id))
                continue
            totals = people.setdefault(person, {}).setdefault(decision.year, {})
            if type(value) is not NotCounted:
                category = decision.program.category
                totals[category] = totals.get(category, 0) + value
        for person in sorted(people):
            yield from self.person_rows(person, people[person], traces)
        yield from errors

    def _no_person(self, ident: Any) -> dict[str, Any]:
        message = "`person` is required to report; it must be a text"
        error = {"code": INVALID, "message": message, "field": "person"}
        return {"scope": "error", "id": ident, "error": error,
                "policy": self.policy.name, "version": self.policy.version}  # fmt: skip

    def person_rows(
        self, person: str, years: dict[int, Totals], traces: list[Any] | None = None
    ) -> Iterator[dict[str, Any]]:
        """A person's year rows, then window rows; with `traces`, (row, steps) go to it."""
        shown_by_year: dict[int, dict[str, Any]] = {}
        used: dict[int, set[str]] = {}  # id(policy) -> its regimes this person has years in
        for year in sorted(years):
            member = self.policy.member_for(year)
            regime = member.regime_for(year) if member is not None else None
            assert member is not None and regime is not None  # the year of a decided record
            used.setdefault(id(member), set()).add(regime)
            summaries = self.summaries[id(member)]
            row: dict[str, Any] = {"scope": "year", "person": person, "year": year,
                                   "regime": regime}  # fmt: skip
            program = summaries.years.get(regime)
            if program is None:
                row.update({c: _shown(years[year].get(c, 0)) for c in summaries.categories})
            else:
                totals = years[year]
                env: dict[Any, Any] = {("sum", c): totals.get(c, 0) for c in program.sums}
                env["year"] = year
                shown_by_year[year] = self._run(program, env, row, traces)
            row["policy"], row["version"] = member.name, member.version
            yield row
        for member in self.policy.members:
            for window, program in self.summaries[id(member)].windows:
                if window.regime in used.get(id(member), ()):
                    row = self.window_row(person, window, program, shown_by_year, traces)
                    row["policy"], row["version"] = member.name, member.version
                    yield row

    @staticmethod
    def _run(
        program: SummaryProgram, env: dict[Any, Any], row: dict[str, Any], traces: list[Any] | None
    ) -> dict[str, Any]:
        """Run a summary into `row`; its shown values, for the windows."""
        trace: list[Any] | None = [] if traces is not None else None
        shown, required = program.run(env, trace)
        row.update({name: _shown(value) for name, value in shown.items()})
        _requirements(row, required)
        if traces is not None:
            traces.append((row, trace))
        return shown

    def window_row(
        self,
        person: str,
        window: Any,
        program: SummaryProgram,
        by_year: dict[int, dict[str, Any]],
        traces: list[Any] | None = None,
    ) -> dict[str, Any]:
        inside = [
            shown
            for year, shown in by_year.items()
            if (window.first is None or year >= window.first)
            and (window.last is None or year <= window.last)
        ]
        env: dict[Any, Any] = {("sum", n): sum([s.get(n, 0) for s in inside]) for n in program.sums}
        row: dict[str, Any] = {"scope": "window", "person": person, "window": window.name,
                               "regime": window.regime}  # fmt: skip
        self._run(program, env, row, traces)
        return row
