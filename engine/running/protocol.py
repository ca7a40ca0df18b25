"""What deciding records looks like to every later stage: one policy, or several by year.

`Member` is one loaded policy (`engine.pipeline.policy.Policy`); `Decides` is anything
that decides records — a policy, or a `PolicySet` whose members each decide their own
years. Reports, explanations, outputs, documents, diffs and the service take these
protocols, so they work alike on a policy and on a set.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Protocol

from engine.assembly.inherit import Lineage
from engine.checking.model import Model
from engine.running.compile import Compiler, Program
from engine.running.records import Decision, KindValidator, RecordError
from engine.syntax import ast

Numbered = Iterable[tuple[int, Any]]  # records with their position (line, row)


class Explains(Protocol):
    """What puts one policy's results and report rows in words."""

    def record(self, record: Any, position: int = 1) -> dict[str, Any]: ...
    def text(self, explained: dict[str, Any]) -> str: ...
    def person_year(self, row: dict[str, Any], trace: list[Any]) -> list[str]: ...


class Decides(Protocol):
    """A policy or a set of policies: validates, decides, reports and explains records."""

    name: str
    version: str
    label: str | None
    sources: dict[str, str]
    years: tuple[int | None, int | None]

    @property
    def members(self) -> Sequence[Member]: ...
    def member_for(self, year: int) -> Member | None: ...
    def member_named(self, name: str | None) -> Member: ...
    def regime_for(self, year: int) -> str | None: ...
    def decide(self, record: Any, position: int) -> Decision: ...
    def evaluate(self, record: Any, position: int = 1) -> dict[str, Any]: ...
    def evaluate_many(self, records: Iterable[Any]) -> Iterator[dict[str, Any]]: ...
    def evaluate_numbered(self, items: Numbered) -> Iterator[dict[str, Any]]: ...
    def evaluate_json(self, items: Numbered) -> Iterator[tuple[bytes, str | None, Decides]]: ...
    def error_result(self, record: Any, position: int, error: RecordError) -> dict[str, Any]: ...
    def explain(self, record: Any, position: int = 1) -> dict[str, Any]: ...
    def explainer(self, name: str | None = None) -> Explains: ...
    def report(self, records: Iterable[Any]) -> list[dict[str, Any]]: ...
    def report_numbered(
        self, items: Numbered, traces: list[Any] | None = None
    ) -> Iterator[dict[str, Any]]: ...
    def schema(self, kind: str | None = None) -> dict[str, Any]: ...


class Member(Decides, Protocol):
    """One loaded policy: its checked model, compiled programs and record validators."""

    model: Model
    compiler: Compiler
    programs: dict[tuple[str, str], Program]
    validators: dict[str, KindValidator]
    regimes: list[ast.Regime]
    modules: list[ast.Module]
    lineage: Lineage | None
