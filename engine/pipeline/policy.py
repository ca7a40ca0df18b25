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

from engine.assembly.assemble import Assembly, assemble, read_sources
from engine.assembly.inherit import Lineage
from engine.checking.check import check
from engine.checking.model import Model
from engine.io.schema import record_schema
from engine.pipeline.policyset import PolicySet, read_set_file
from engine.running.compile import Compiler, EvaluationError, Program
from engine.running.coverage import Coverage
from engine.running.jsonout import dumps, scalar_text
from engine.running.records import (
    INVALID,
    LIMIT,
    NO_POLICY,
    UNKNOWN_KIND,
    KindValidator,
    RecordError,
    Unreadable,
    record_year,
    show,
)
from engine.running.report import Reporter
from engine.running.values import NotCounted, amount_value
from engine.syntax import ast
from engine.syntax.diagnostics import PolicyError
from engine.syntax.resources import bundled_policy_path
from engine.views.explain import Explainer

TAIL_LIMIT = 8192  # results' texts remembered (see `Policy._text`)

# (id, person, year, program, value or NotCounted, trace)
Decision = tuple[Any, Any, int, Program, Any, list[dict[str, Any]]]


SET_SUFFIXES = (".yaml", ".yml")


def load(
    path: str | Path | Sequence[str | Path] | None = None,
    params: Mapping[str, Any] | None = None,
    coverage: Coverage | None = None,
) -> Decider:
    """Read, check and compile a policy (default: the bundled one), and the policy it
    extends if any. Several paths, or a set file (`.yaml` listing policy folders), give a
    `PolicySet`. `params` overrides parameter values (what-if); `coverage` records which
    branches and cells run."""
    if isinstance(path, list | tuple):
        if len(path) == 1:
            return load(path[0], params, coverage)
        return PolicySet([load(p, params, coverage) for p in path])
    root = Path(path) if path is not None else bundled_policy_path()
    if root.suffix in SET_SUFFIXES and root.is_file():
        paths, name, label = read_set_file(root)
        return PolicySet([load(p, params, coverage) for p in paths], name, label)
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
    assembly = assemble(sources)
    model, diags = check([ast.Module("", tuple(assembly.declarations))], params)
    if model is None:
        raise PolicyError(diags, assembly.sources)
    decl = model.symbols.policy
    name = decl.name if decl else fallback_name
    policy = Policy(name, _version(assembly, params), model, assembly.sources, coverage)
    policy.modules = assembly.modules
    policy.lineage = assembly.lineage
    policy.years = assembly.years
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
    ) -> None:
        self.name, self.version, self.model, self.sources = name, version, model, sources
        self.modules: list[ast.Module] = []  # the parsed files, comments included
        self.lineage: Lineage | None = None  # what it changes in the policy it extends
        self.years: tuple[int | None, int | None] = (None, None)  # when it is in force
        symbols = model.symbols
        self.label = symbols.policy.label if symbols.policy else None
        self.compiler = compiler = Compiler(model, coverage)
        self.programs: dict[tuple[str, str], Program] = compiler.programs()
        self.validators: dict[str, KindValidator] = {}
        for kind in model.kinds.values():
            validator = KindValidator(kind, model, compiler)
            self.validators[kind.name] = validator
            if kind.label:
                self.validators.setdefault(kind.label, validator)
        self.regimes = symbols.in_force()
        self._regime_by_year: dict[int, str | None] = {}
        self._tails: dict[tuple[Any, ...], tuple[list[Any], bytes]] = {}  # see `_text`
        self._reporter: Reporter | None = None
        self._explainer: Explainer | None = None
        self._kind_list = ", ".join(
            f"{k.name} ({k.label})" if k.label else k.name for k in model.kinds.values()
        )

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
        if not _usable_id(ident):
            ident = position
        return {"id": ident, "error": error.as_dict(), "policy": self.name, "version": self.version}

    def regime_for(self, year: int) -> str | None:
        """The regime in force in `year` (remembered for the first thousand years seen)."""
        found = self._regime_by_year.get(year)
        if found is None:
            for r in self.regimes:
                if (r.first is None or year >= r.first) and (r.last is None or year <= r.last):
                    found = r.name
            if found is not None and len(self._regime_by_year) < 1000:
                self._regime_by_year[year] = found
        return found

    def decide(self, record: Any, position: int) -> Decision:
        """Validate and evaluate one record: who, when, which program, the value and its
        steps. Raises `RecordError`; `evaluate` and `report` build on it."""
        if type(record) is not dict:
            message = (
                record.message
                if isinstance(record, Unreadable)
                else (f"a record must be an object with `kind` and `year`; got {show(record)}")
            )
            raise RecordError(INVALID, message)
        kind_name = record.get("kind")
        validator = self.validators.get(kind_name) if type(kind_name) is str else None
        if validator is None:
            self._bad_kind(kind_name)
        assert validator is not None
        year = record.get("year")
        if type(year) is not int or not 0 < year < 10_000:
            year = record_year(year)
        ident = record.get("id", position)
        if not _usable_id(ident):
            raise RecordError(
                INVALID, f"`id` must be a text or an integer; got {show(ident)}", "id"
            )
        person = record.get("person")
        if person is not None and type(person) is not str:
            raise RecordError(INVALID, f"`person` must be a text; got {show(person)}", "person")
        regime = self._regime_by_year.get(year) or self.regime_for(year)
        if regime is None:
            raise RecordError(NO_POLICY, self._no_policy(year), "year")
        env = validator.fields_of(record)
        env["year"] = year
        program = self.programs[(validator.name, regime)]
        trace: list[dict[str, Any]] = []
        try:
            value = program.run(env, trace)
        except EvaluationError as error:
            raise RecordError("evaluation_error", str(error)) from None
        return ident, person, year, program, value, trace

    def _evaluate(self, record: Any, position: int) -> dict[str, Any]:
        return self._result(*self.decide(record, position))

    def _result(
        self, ident: Any, person: Any, year: int, program: Program, value: Any, trace: list[Any]
    ) -> dict[str, Any]:
        regime = program.regime
        if type(value) is NotCounted:
            amount, counted = 0, False
        else:
            amount, counted = (value if type(value) is int else amount_value(value)), True
        result = {"id": ident, "person": person, "year": year, "kind": program.kind}
        if person is None:
            del result["person"]
        result["regime"] = regime
        result["unit"] = program.unit
        result["category"] = program.category
        result["amount"] = amount
        result["counted"] = counted
        if not counted:
            result["reason"] = value.reason
        result["policy"] = self.name
        result["version"] = self.version
        result["trace"] = trace
        return result

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
        ident, person, year, program, _, trace = decision
        # the last step holds the value, and a step is made once per value: the program
        # and the steps decide the whole text after the year
        key = (program, *map(id, trace))
        cached = self._tails.get(key)
        if cached is None:
            result = self._result(*decision)
            for common in ("id", "person", "year"):
                result.pop(common, None)
            # the steps are kept with their text, so that their ids in the key stay theirs
            cached = (trace, dumps(result)[1:].encode())
            if len(self._tails) < TAIL_LIMIT:
                self._tails[key] = cached
        who = "" if person is None else f', "person": {scalar_text(person)}'
        return f'{{"id": {scalar_text(ident)}{who}, "year": {year}, '.encode() + cached[1]

    def _bad_kind(self, kind: Any) -> None:
        if kind is None:
            raise RecordError(
                INVALID, f"`kind` is required; it must be one of: {self._kind_list}", "kind"
            )
        if type(kind) is not str:
            raise RecordError(
                INVALID, f"`kind` must be one of: {self._kind_list}; got {show(kind)}", "kind"
            )
        raise RecordError(
            UNKNOWN_KIND, f"`kind` must be one of: {self._kind_list}; got {show(kind)}", "kind"
        )

    def _no_policy(self, year: int) -> str:
        spans = []
        for r in self.regimes:
            first = "" if r.first is None else str(r.first)
            last = "" if r.last is None else str(r.last)
            spans.append(f"{r.name} {first}..{last}")
        return (
            f"no rule of policy `{self.name}` is in force for `year` {year}; it covers: "
            + ", ".join(spans)
        )

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


def _usable_id(ident: Any) -> bool:
    """An id is a text, or an integer within the limits (so that it can be echoed)."""
    return type(ident) is str or (type(ident) is int and -LIMIT < ident < LIMIT)


Decider = Policy | PolicySet  # what decides records: one policy, or a set by year
