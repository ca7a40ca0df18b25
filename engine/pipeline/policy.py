"""Loading a policy and evaluating records: the façade over every stage.

`load(path)` reads a policy folder (every `*.rules` file in it) or one file, parses,
checks and compiles it, and returns a `Policy`. A `Policy` validates and evaluates
records: one at a time (`evaluate`, raising `RecordError`) or as a stream
(`evaluate_many`, an error object in place of each bad record, order kept).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from engine.assembly.assemble import Assembly, read_sources
from engine.assembly.inherit import Lineage
from engine.checking.model import Model
from engine.io.schema import record_schema
from engine.pipeline.driver import analyze
from engine.pipeline.policyset import PolicySet, read_set_file
from engine.running.compile import Compiler, Program
from engine.running.coverage import Coverage
from engine.running.jsonout import dumps, scalar_text
from engine.running.protocol import Decides
from engine.running.records import Decision, RecordError, RecordPath, result_of, usable_id
from engine.running.report import Reporter
from engine.running.values import FACT
from engine.syntax import ast
from engine.syntax.resources import bundled_policy_path
from engine.views.explain import Explainer

TAIL_LIMIT = 8192  # results' texts remembered (see `Policy._text`)

SET_SUFFIXES = (".yaml", ".yml")


def load(
    path: str | Path | Sequence[str | Path] | None = None,
    params: Mapping[str, Any] | None = None,
    coverage: Coverage | None = None,
) -> Decides:
    """Read, check and compile a policy (default: the bundled one), and the policy it
    extends if any. Several paths, or a set file (`.yaml` listing policy folders), give a
    `PolicySet`. `params` overrides parameter values (what-if); `coverage` records which
    branches and cells run."""
    if isinstance(path, list | tuple):
        if len(path) == 1:
            return load(path[0], params, coverage)
        return PolicySet([m for p in path for m in load(p, params, coverage).members])
    root = Path(path) if isinstance(path, str | Path) else bundled_policy_path()
    if root.suffix in SET_SUFFIXES and root.is_file():
        paths, name, label = read_set_file(root)
        members = [m for p in paths for m in load(p, params, coverage).members]
        return PolicySet(members, name, label)
    sources = read_sources(root)
    fallback = root.stem if root.is_file() else root.name
    return from_sources(sources, fallback, params, coverage)


def from_sources(
    sources: Mapping[str, str],
    fallback_name: str,
    params: Mapping[str, Any] | None = None,
    coverage: Coverage | None = None,
) -> Policy:
    """A policy from its files' texts (file name → text); `PolicyError` if it is wrong."""
    assembly, model = analyze(sources, params).checked()
    decl = model.symbols.policy
    name = decl.name if decl else fallback_name
    policy = Policy(
        name,
        _version(assembly, params),
        model,
        assembly.sources,
        coverage,
        lineage=assembly.lineage,
        years=assembly.years,
    )
    policy.modules = assembly.modules
    return policy


def _version(assembly: Assembly, params: Mapping[str, Any] | None) -> str:
    """Twelve hex digits of the files' digest, and of any what-if parameters."""
    if not params:
        return assembly.digest[:12]
    sha = hashlib.sha256(assembly.digest.encode())
    for key, value in sorted(params.items()):
        sha.update(f"param {key}={value}\0".encode())
    return sha.hexdigest()[:12]


class Policy:
    """A loaded, checked and compiled policy."""

    def __init__(
        self,
        name: str,
        version: str,
        model: Model,
        sources: dict[str, str],
        coverage: Coverage | None = None,
        lineage: Lineage | None = None,
        years: tuple[int | None, int | None] = (None, None),
    ) -> None:
        self.name, self.version, self.model, self.sources = name, version, model, sources
        self.modules: list[ast.Module] = []  # the parsed files, comments included
        self.lineage = lineage  # what it changes in the policy it extends
        self.years = years  # when it is in force
        symbols = model.symbols
        self.label = symbols.policy.label if symbols.policy else None
        self.compiler = compiler = Compiler(model, coverage)
        self.programs: dict[tuple[str, str], Program] = compiler.programs()
        self.regimes = symbols.in_force()
        self.path = RecordPath(name, model, compiler, self.programs, self.regimes, lineage, years)
        self.validators = self.path.validators
        self.regime_for = self.path.regime_for
        self.decide = self.path.decide
        self._tails: dict[tuple[Any, ...], tuple[list[Any], bytes]] = {}  # see `_text`
        self._reporter: Reporter | None = None
        self._explainer: Explainer | None = None
        if coverage is not None:  # its summaries' items count even if no case reports
            self._reporter = Reporter(self)

    # ── one record ──────────────────────────────────────────────────────
    def evaluate(self, record: Any, position: int = 1) -> dict[str, Any]:
        """The result of one record; raises `RecordError` if it is invalid. `position`
        (its line or row) is the default `id`."""
        return self._evaluate(record, position)

    def explain(self, record: Any, position: int = 1) -> dict[str, Any]:
        """The result of one record with its steps in words (or its error, in words)."""
        return self.explainer().record(record, position)

    def explainer(self, name: str | None = None) -> Explainer:
        """What puts this policy's traces in words (`name`: for a set's member)."""
        if self._explainer is None:
            self._explainer = Explainer(self)
        return self._explainer

    @property
    def members(self) -> list[Policy]:
        """The policies deciding records: this one (a `PolicySet` has several)."""
        return [self]

    def member_for(self, year: int) -> Policy | None:
        return self if self.regime_for(year) is not None else None

    def member_named(self, name: str | None) -> Policy:
        return self

    def evaluate_many(self, records: Iterable[Any]) -> Iterator[dict[str, Any]]:
        """One result or error object per record, in input order."""
        return self.evaluate_numbered(enumerate(records, 1))

    def evaluate_numbered(self, items: Iterable[tuple[int, Any]]) -> Iterator[dict[str, Any]]:
        """Like `evaluate_many`, for records whose position (line, row) is known."""
        for position, record in items:
            try:
                yield self._evaluate(record, position)
            except RecordError as error:
                yield self.error_result(record, position, error)

    def error_result(self, record: Any, position: int, error: RecordError) -> dict[str, Any]:
        ident = record.get("id", position) if isinstance(record, dict) else position
        if not usable_id(ident):
            ident = position
        return {"id": ident, "error": error.as_dict(), "policy": self.name, "version": self.version}

    def _evaluate(self, record: Any, position: int) -> dict[str, Any]:
        return result_of(self.decide(record, position), self.name, self.version)

    def evaluate_json(
        self, items: Iterable[tuple[int, Any]]
    ) -> Iterator[tuple[bytes, str | None, Policy]]:
        """Like `evaluate_numbered`, each result as its JSON, UTF-8 (what `dumps` writes of
        it), with its error code (None for a result) and the policy that decided it. For
        services: what follows a result's year is the same text whenever the same steps
        made the same decision, so it is written once."""
        for position, record in items:
            try:
                decision = self.decide(record, position)
            except RecordError as error:
                text = dumps(self.error_result(record, position, error)).encode()
                yield text, error.code, self
                continue
            yield self._text(decision), None, self

    def _text(self, decision: Decision) -> bytes:
        ident, person, year, trace = decision.id, decision.person, decision.year, decision.trace
        # the last step holds the value, and a step is made once per value: the program
        # and the steps decide the whole text after the year
        key = (decision.program, *map(id, trace))
        cached = self._tails.get(key) if decision.value is not FACT else None
        if cached is None:  # (a fact's result is its fields, which no step holds)
            result = result_of(decision, self.name, self.version)
            for common in ("id", "person", "year"):
                result.pop(common, None)
            # the steps are kept with their text, so that their ids in the key stay theirs
            cached = (trace, dumps(result)[1:].encode())
            if len(self._tails) < TAIL_LIMIT and decision.value is not FACT:
                self._tails[key] = cached
        who = "" if person is None else f', "person": {scalar_text(person)}'
        return f'{{"id": {scalar_text(ident)}{who}, "year": {year}, '.encode() + cached[1]

    # ── reports ─────────────────────────────────────────────────────────
    def report(self, records: Iterable[Any]) -> list[dict[str, Any]]:
        """Per person: a row per year, then per window; then a row per invalid record."""
        return list(self.report_numbered(enumerate(records, 1)))

    def report_numbered(
        self, items: Iterable[tuple[int, Any]], traces: list[Any] | None = None
    ) -> Iterator[dict[str, Any]]:
        """Like `report`, for records whose position is known; rows as they are ready.
        With `traces`, each year and window row's steps are appended to it as (row, steps)."""
        if self._reporter is None:
            self._reporter = Reporter(self)
        return self._reporter.rows(items, traces)

    # ── schema ──────────────────────────────────────────────────────────
    def schema(self, kind: str | None = None) -> dict[str, Any]:
        """The JSON Schema (draft 2020-12) of the records this policy accepts."""
        return record_schema(self.name, self.model, self.regimes, kind)
