"""Reports: one person's records summed up by year and by window.

Input: numbered records and a `Policy`. Output: report rows in the contract's order —
for each person (sorted), a row per year (ascending), then a row per window — and then
an error row per invalid record, in input order. Memory grows with the number of
person-years (one total per category each), not with the number of records.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from engine.checking import tree
from engine.checking.aggregate import EACH, YEARS, fact_key, met_key
from engine.running import facts
from engine.running.compile import EvaluationError, Program, Requirement, SummaryProgram, located
from engine.running.coverage import place
from engine.running.jsonout import dumps, loads
from engine.running.protocol import Decides, Member
from engine.running.records import INVALID, RecordError
from engine.running.values import FACT, Credited, NotCounted, amount_value
from engine.syntax import ast
from engine.syntax.limits import MAX_SPAN

Totals = dict[Any, Any]  # category (or a total's key, or a facts slot) -> its value


def _shown(value: Any) -> Any:
    kind = type(value)
    return value if kind is int or kind is bool or kind is str else amount_value(value)


def _requirements(
    row: dict[str, Any], required: list[Requirement], reasons: dict[str, str]
) -> None:
    if not required:
        return
    if len(required) == 1 and required[0][0] is None:
        _, _, needed, met = required[0]
        row["required"] = _shown(needed)
        row["qualified"] = met
        return
    amounts = [r for r in required if r[2] is not None]
    if amounts:
        row["required"] = {str(name): _shown(needed) for name, _, needed, _ in amounts}
        row["shortfall"] = {
            str(name): _shown(max(0, needed - achieved)) for name, achieved, needed, _ in amounts
        }
    if reasons:
        row["reasons"] = {
            str(name): None if met else reasons[str(name)]
            for name, _, needed, met in required
            if needed is None
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


# (total's key, counts records, condition or None, the field it groups by or None)
Tally = list[tuple[Any, bool, Any, str | None]]


class _Summaries:
    """One policy's compiled year summaries (by regime) and windows, and for each of its
    kinds' programs what a record of it adds to besides its category's total."""

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
            (decl, compiler.summary(w, decl.regime), self._conditions(w.sums, decl.regime))
            for w, decl in windows
            if isinstance(decl, ast.Window) and decl.regime in self.years
        ]
        # each year summary's `where` conditions, compiled once for all its kinds
        self.conditions = {r: self._conditions(y.sums, r) for r, y in self.years.items()}
        # whether a window reads more of a year than its shown values
        self.outcomes = any(
            t.condition is not None or t.over == YEARS for _, w, _ in self.windows for t in w.sums
        )
        self.fact_marks = self._fact_marks()

    def _fact_marks(self) -> dict[tuple[str, str], str]:
        """Coverage items for each `facts` kind a summary reads: a person-year with one
        record, with none, with several that disagree (where the kind says what they mean)."""
        coverage = self.policy.compiler.coverage
        if coverage is None:
            return {}
        marks = {}
        kinds = self.policy.model.kinds
        for name in dict.fromkeys(k for s in self.years.values() for k in s.facts):
            spec = kinds[name]
            assert spec.span is not None and spec.facts is not None
            where = place(spec.span)
            cases = {"one": "one record", "none": "no record"}
            if spec.facts.several is not None:
                cases["several"] = "several that disagree"
            for case, words in cases.items():
                marks[(name, case)] = coverage.declare(
                    where, f"facts-{case}", f"facts `{name}` — a year with {words}"
                )
        return marks

    def mark_facts(self, kind: str, kept: list[Any]) -> None:
        """Note which case of `kind`'s facts a person-year is (measuring coverage)."""
        if self.fact_marks:
            case = "none" if not kept else "one" if len(kept) == 1 else "several"
            key = self.fact_marks.get((kind, case))
            if key is not None:
                self.policy.compiler.coverage.hits.add(key)  # type: ignore[union-attr]

    def _conditions(self, totals: tuple[tree.Total, ...], regime: str) -> dict[Any, Any]:
        compiler = self.policy.compiler
        return {
            t.key: located(compiler.expr(t.condition, regime, ""), t.condition.source.span,
                           f"`{t.function}(… where …)`")
            for t in totals
            if t.condition is not None
        }  # fmt: skip

    def tally(self, program: Program) -> Tally:
        """What a record decided by `program` adds to, besides its category's total."""
        summary = self.years.get(program.regime)
        totals = summary.sums if summary is not None else ()
        conditions = self.conditions.get(program.regime, {})
        tally = [
            (t.key, t.function == "count", conditions.get(t.key), t.group)
            for t in totals
            if (t.over == "kind" and t.name == program.kind)
            or (t.over == "category" and t.function == "count" and t.name == program.category)
        ]
        return tally


class Reporter:
    """Builds report rows with the compiled summaries of a policy, or of each policy of a
    set (a person-year is summed up by the policy in force in that year)."""

    def __init__(self, policy: Decides) -> None:
        self.policy = policy
        self.summaries = {id(m): _Summaries(m) for m in policy.members}
        self.tallied: dict[int, Tally] = {}  # id(program) -> its tally

    def _tally(self, program: Program, year: int) -> Tally:
        """What a record of `program` adds to besides its category (worked out once)."""
        tally = self.tallied.get(id(program))
        if tally is None:
            member = self.policy.member_for(year)
            assert member is not None  # the year of a decided record
            tally = self.tallied[id(program)] = self.summaries[id(member)].tally(program)
        return tally

    def rows(
        self, numbered: Iterable[tuple[int, Any]], traces: list[Any] | None = None
    ) -> Iterator[dict[str, Any]]:
        people: dict[str, dict[int, Totals]] = {}
        errors = Spool()
        decide, tallied = self.policy.decide, self.tallied
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
            program = decision.program
            tally = tallied.get(id(program))
            if tally is None:
                tally = self._tally(program, decision.year)
            if not tally and type(value) is not Credited and value is not FACT:
                if type(value) is not NotCounted:  # the common case: a category's total
                    category = program.category
                    totals[category] = totals.get(category, 0) + value
                continue
            if value is FACT:
                refused = self._keep_fact(totals, decision)
                if refused is not None:
                    failure = RecordError(INVALID, refused, "kind")
                    errors.append(
                        {"scope": "error", **self.policy.error_result(record, position, failure)}
                    )
                continue
            counted = type(value) is not NotCounted
            credited = type(value) is Credited
            own = value if counted and not credited else 0  # what the record's year gets
            try:
                fields = decision.fields
                self._add(totals, program, decision.year, fields, own, True, position)
                if credited:
                    for year, part in value.parts:
                        self._credit(people[person], program.kind, year, fields, part, position)
            except EvaluationError as error:
                failure = RecordError("evaluation_error", str(error))
                errors.append(
                    {"scope": "error", **self.policy.error_result(record, position, failure)}
                )
        for person in sorted(people):
            yield from self.person_rows(person, people[person], traces)
        yield from errors

    def _add(
        self,
        totals: Totals,
        program: Program,
        year: int,
        fields: Any,
        amount: Any,
        own: bool,
        record: int,
    ) -> None:
        """Add a record's `amount` to a person-year's totals: its category's, and those of
        its tally; `own`: the record's own year, where it is also counted."""
        for key, add, group in _tallied(self._tally(program, year), fields, amount, own, record):
            if group is _WHOLE:
                totals[key] = totals.get(key, 0) + add
            else:  # `by FIELD`: each value of the field its own total
                groups = totals.setdefault(key, {})
                groups[group] = groups.get(group, 0) + add
        if amount:
            totals[program.category] = totals.get(program.category, 0) + amount

    def _credit(
        self, years: dict[int, Totals], kind: str, year: int, fields: Any, part: Any, record: int
    ) -> None:
        """A part of a record's amount credited to `year`: dropped where no policy of this
        report decides that year."""
        member = self.policy.member_for(year)
        regime = member.regime_for(year) if member is not None else None
        program = member.programs.get((kind, regime)) if member and regime else None
        if program is not None:
            self._add(years.setdefault(year, {}), program, year, fields, part, False, record)

    def _keep_fact(self, totals: Totals, decision: Any) -> str | None:
        member = self.policy.member_for(decision.year)
        assert member is not None  # the year of a decided record
        spec = member.model.kinds[decision.program.kind]
        return facts.keep(totals.setdefault(facts.slot(spec.name), []), decision.fields, spec)

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
                env: dict[Any, Any] = {key: totals.get(slot, 0) for key, slot in program.slots}
                env["year"] = year
                settled = []
                for kind in program.facts:
                    spec, kept = member.model.kinds[kind], totals.get(facts.slot(kind), [])
                    summaries.mark_facts(kind, kept)
                    values, outcome = facts.settle(kept, spec)
                    env.update(values)
                    if outcome is not None:
                        settled.append((kind, *outcome))
                shown = self._run(program, env, row, traces, settled, summaries.outcomes)
                if summaries.windows:
                    shown_by_year[year] = shown
            row["policy"], row["version"] = member.name, member.version
            yield row
        for member in self.policy.members:
            for window, program, conditions in self.summaries[id(member)].windows:
                for first, last, anchor, stated in self._spans(window, member, years, used):
                    row = self.window_row(
                        person, window, program, conditions, shown_by_year, traces,
                        first, last, stated,
                    )  # fmt: skip
                    if anchor is not None:
                        row["year"] = anchor
                    row["policy"], row["version"] = member.name, member.version
                    yield row

    def _spans(
        self, window: Any, member: Member, years: dict[int, Totals], used: dict[int, set[str]]
    ) -> list[tuple[int | None, int | None, int | None, dict[str, Any]]]:
        """The years of a window's rows for a person: its own years, if the person has a
        year in its regime; or, for each of the person's records of its anchor kind,
        counted back from its year (and that year), or from one of its fields to
        another; with the record's facts, which the window reads."""
        anchor = window.anchor
        if anchor is None:
            ok = window.regime in used.get(id(member), ())
            return [(window.first, window.last, None, {})] if ok else []
        out: list[tuple[int | None, int | None, int | None, dict[str, Any]]] = []
        for year in sorted(years):
            kept = years[year].get(facts.slot(anchor.kind))
            if not kept or self.policy.member_for(year) is not member:
                continue
            for record in kept if anchor.fields is not None else kept[:1]:
                stated = {fact_key(anchor.kind, k): v for k, v in record.items()}
                if anchor.fields is None:
                    last = year if anchor.through else year - 1
                    out.append((last - anchor.count + 1, last, year, stated))
                    continue
                first, last = (record.get(f) for f in anchor.fields)
                if first is not None and last is not None and 0 <= last - first < MAX_SPAN:
                    out.append((first, last, year, stated))
        return out

    @staticmethod
    def _run(
        program: SummaryProgram,
        env: dict[Any, Any],
        row: dict[str, Any],
        traces: list[Any] | None,
        settled: Sequence[tuple[str, bool, str]] = (),
        outcomes: bool = False,
    ) -> dict[str, Any]:
        """Run a summary into `row`; its shown values, and with `outcomes` (a window reads
        them) the year's other outcomes (`year`, `qualified`, each requirement met).
        `settled`: each `facts` kind with a declared reason, whether the person-year
        meets it, and the reason."""
        trace: list[Any] | None = [] if traces is not None else None
        shown, required = program.run(env, trace)
        row.update({name: _shown(value) for name, value in shown.items()})
        reasons = program.reasons
        if settled:
            required = [*required, *((kind, met, None, met) for kind, met, _ in settled)]
            reasons = {**reasons, **{kind: reason for kind, _, reason in settled}}
        _requirements(row, required, reasons)
        if traces is not None:
            traces.append((row, trace))
        if not outcomes:
            return shown
        year = {"year": row["year"]} if "year" in row else {}
        found = {**year, **shown}
        if required:
            found["qualified"] = all(met for *_, met in required)
            found.update({met_key(str(name)): met for name, _, _, met in required if name})
        return found

    def window_row(
        self,
        person: str,
        window: Any,
        program: SummaryProgram,
        conditions: dict[Any, Any],
        by_year: dict[int, dict[str, Any]],
        traces: list[Any] | None = None,
        first: int | None = None,
        last: int | None = None,
        stated: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        inside = [
            outcomes
            for year, outcomes in by_year.items()
            if (first is None or year >= first) and (last is None or year <= last)
        ]
        env: dict[Any, Any] = dict(stated or {})
        for total in program.sums:
            test = conditions.get(total.key)
            years = [o for o in inside if test is None or test(o, [])]
            if total.over == YEARS:
                env[total.key] = len(years)
            else:
                env[total.key] = sum([o.get(total.name, 0) for o in years])
        row: dict[str, Any] = {"scope": "window", "person": person, "window": window.name,
                               "regime": window.regime}  # fmt: skip
        self._run(program, env, row, traces)
        return row


_WHOLE = object()  # a total not added up by groups


def _tallied(
    tally: Tally, fields: dict[str, Any], value: Any, own: bool, record: int
) -> list[tuple[Any, Any, Any]]:
    """What one record adds to each total of its tally whose condition it meets: `value`
    to sums, and (in its own year) 1 to counts; with the group it adds to (`record`, the
    record's own, for a cap per record)."""
    return [
        (key, 1 if counting else value, _group(group, fields, record))
        for key, counting, condition, group in tally
        if (own or not counting) and (condition is None or condition(fields, []))
    ]


def _group(group: str | None, fields: dict[str, Any], record: int) -> Any:
    if group is None:
        return _WHOLE
    return record if group == EACH else fields.get(group)
