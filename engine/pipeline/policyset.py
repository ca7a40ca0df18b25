"""Policy sets: several policies loaded together, each deciding the records of its years.

Input: loaded policies (from `--policy` given more than once, or a set file listing
them). Output: a `PolicySet` with the same interface as a `Policy`: each record goes to
the member in force in its year, and its result names that member and its version;
reports span members. Members' years may not overlap; a year no member covers gets
`no_policy_in_force`, as with one policy (naming the gap a member declares there).
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import yaml

from engine.assembly.inherit import gap_text, years_text
from engine.io.schema import DRAFT
from engine.running.jsonout import dumps
from engine.running.protocol import Explains, Member
from engine.running.records import NO_POLICY, UNKNOWN_KIND, RecordError, year_of
from engine.running.report import Reporter
from engine.syntax.ast import Span
from engine.syntax.diagnostics import Diagnostic, PolicyError
from engine.views.explain import error_explanation

SET_KEYS = {"name", "label", "policies"}


class PolicySet:
    """Policies that together cover a span of years, one in force in each year."""

    def __init__(self, members: list[Member], name: str | None = None, label: str | None = None):
        self.members = sorted(members, key=lambda p: -(10**9) if p.years[0] is None else p.years[0])
        self.name = name or "+".join(m.name for m in self.members)
        self.label = label or self.members[-1].label
        versions = "\0".join(f"{m.name}={m.version}" for m in self.members)
        self.version = hashlib.sha256(versions.encode()).hexdigest()[:12]
        self.sources = {k: v for m in self.members for k, v in m.sources.items()}
        self.years = (self.members[0].years[0], self.members[-1].years[1])
        self._by_year: dict[int, Member] = {}
        self._reporter: Reporter | None = None
        overlaps = _overlaps(self.members)
        if overlaps:
            raise PolicyError(overlaps, self.sources)

    def member_for(self, year: int) -> Member | None:
        """The member in force in `year`, if any."""
        found = self._by_year.get(year)
        if found is None:  # the latest to start: an open policy ends where the next begins
            found = next((m for m in reversed(self.members) if m.regime_for(year)), None)
            if found is not None and len(self._by_year) < 1000:
                self._by_year[year] = found
        return found

    def gaps(self) -> list[str]:
        """Each gap a member declares, in words: `gap 2022 (declared by `b2023`)`."""
        return [
            f"gap {gap_text(m.lineage.gap)} (declared by `{m.name}`)"
            for m in self.members
            if m.lineage is not None and m.lineage.gap is not None
        ]

    def member_named(self, name: str | None) -> Member:
        return next((m for m in self.members if m.name == name), self.members[-1])

    def regime_for(self, year: int) -> str | None:
        member = self.member_for(year)
        return member.regime_for(year) if member is not None else None

    # ── records ─────────────────────────────────────────────────────────
    def _member_of(self, record: Any) -> Member | None:
        year = year_of(record)
        return self.member_for(year) if year is not None else None

    def decide(self, record: Any, position: int) -> Any:
        member = self._member_of(record)
        try:
            return (member or self.members[-1]).decide(record, position)
        except RecordError as error:
            raise self._explained(record, error) from None

    def _explained(self, record: Any, error: RecordError) -> RecordError:
        """A member's error, said for the whole set where it depends on the year."""
        if error.code == NO_POLICY:
            spans = ", ".join(f"`{m.name}` {years_text(m.years)}" for m in self.members)
            year = year_of(record)
            message = f"no policy is in force for `year` {year}; the policies cover: {spans}"
            gaps = [m for m in self.members if m.lineage and year and m.lineage.in_gap(year)]
            for m in gaps:
                assert m.lineage is not None
                message += "; " + m.lineage.gap_note(m.name, m.years)
            return RecordError(NO_POLICY, message, "year")
        if error.code == UNKNOWN_KIND and isinstance(record, dict):
            kind = record.get("kind")
            owners = [m for m in self.members if isinstance(kind, str) and kind in m.validators]
            if owners:
                where = "; ".join(f"`{m.name}` ({years_text(m.years)})" for m in owners)
                return RecordError(
                    UNKNOWN_KIND, f"{error.message}; `{kind}` is a kind of {where}", "kind"
                )
        return error

    def evaluate(self, record: Any, position: int = 1) -> dict[str, Any]:
        member = self._member_of(record)
        if member is None:
            self.decide(record, position)  # raises the record's error
            raise AssertionError("a record no member takes has an error")
        try:
            return member.evaluate(record, position)
        except RecordError as error:
            raise self._explained(record, error) from None

    def evaluate_many(self, records: Iterable[Any]) -> Iterator[dict[str, Any]]:
        return self.evaluate_numbered(enumerate(records, 1))

    def evaluate_numbered(self, items: Iterable[tuple[int, Any]]) -> Iterator[dict[str, Any]]:
        for position, record in items:
            try:
                yield self.evaluate(record, position)
            except RecordError as error:
                yield self.error_result(record, position, error)

    def evaluate_json(self, items: Iterable[tuple[int, Any]]) -> Iterator[tuple[bytes, Any, Any]]:
        """Like `Policy.evaluate_json`, each record by the policy of its year."""
        for position, record in items:
            member = self._member_of(record)
            if member is None:
                try:
                    self.decide(record, position)
                except RecordError as error:
                    result = self.error_result(record, position, error)
                    yield dumps(result).encode(), error.code, self
                continue
            [(text, code, _)] = member.evaluate_json([(position, record)])
            if code is not None:  # the member's error, said for the whole set
                try:
                    self.decide(record, position)
                except RecordError as error:
                    result = self.error_result(record, position, error)
                    text, code = dumps(result).encode(), error.code
            yield text, code, member

    def error_result(self, record: Any, position: int, error: RecordError) -> dict[str, Any]:
        member = self._member_of(record) or self
        result = self.members[0].error_result(record, position, error)
        result["policy"], result["version"] = member.name, member.version
        return result

    def explain(self, record: Any, position: int = 1) -> dict[str, Any]:
        member = self._member_of(record)
        if member is not None:
            return member.explain(record, position)
        try:
            self.decide(record, position)
        except RecordError as error:
            return error_explanation(record, position, error)
        raise AssertionError("a record no member takes has an error")

    def explainer(self, name: str | None = None) -> Explains:
        return self.member_named(name).explainer()

    # ── reports and schema ──────────────────────────────────────────────
    def report(self, records: Iterable[Any]) -> list[dict[str, Any]]:
        return list(self.report_numbered(enumerate(records, 1)))

    def report_numbered(
        self, items: Iterable[tuple[int, Any]], traces: list[Any] | None = None
    ) -> Iterator[dict[str, Any]]:
        if self._reporter is None:
            self._reporter = Reporter(self)
        return self._reporter.rows(items, traces)

    def schema(self, kind: str | None = None) -> dict[str, Any]:
        """Each member's schema, any of which a record may satisfy."""
        parts = []
        for member in self.members:
            try:
                part = member.schema(kind)
            except KeyError:
                continue
            parts.append({k: v for k, v in part.items() if k != "$schema"})
        if not parts:
            raise KeyError(kind)
        return {
            "$schema": DRAFT,
            "$id": f"urn:rules:{self.name}" + (f":{kind}" if kind else ""),
            "title": f"records of the policies {self.name}",
            "anyOf": parts,
        }


def _overlaps(members: list[Member]) -> list[Diagnostic]:
    diags = []
    for a, b in itertools.pairwise(members):
        (a_first, last), first = a.years, b.years[0]
        open_ended = last is None and first is not None and (a_first is None or first > a_first)
        if not open_ended and (last is None or first is None or first <= last):
            diags.append(
                Diagnostic(
                    "set-overlap",
                    f"the policies `{a.name}` ({years_text(a.years)}) and `{b.name}` "
                    f"({years_text(b.years)}) are both in force in some years",
                    None,
                    "each year must be decided by one policy of a set",
                )
            )
    return diags


def read_set_file(path: Path) -> tuple[list[Path], str | None, str | None]:
    """A set file's policies (relative to it), its name and label."""
    where = Span(str(path), 1, 1, 1, 2)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise PolicyError(
            [Diagnostic("set-file", f"cannot read the policy set: {error}", None)], {}
        ) from None
    problem = None
    if not isinstance(data, dict) or not isinstance(data.get("policies"), list):
        problem = "a policy set is a mapping with `policies:`, a list of policy folders"
    elif set(data) - SET_KEYS:
        problem = f"unknown key `{sorted(set(data) - SET_KEYS)[0]}`; allowed: label, name, policies"
    elif not data["policies"] or not all(isinstance(p, str) for p in data["policies"]):
        problem = "`policies` lists one or more policy folders, as texts"
    if problem:
        raise PolicyError(
            [Diagnostic("set-file", problem, where)], {str(path): path.read_text(encoding="utf-8")}
        )
    paths = [path.parent / p for p in data["policies"]]
    return paths, data.get("name"), data.get("label")
