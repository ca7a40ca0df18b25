"""Golden cases: YAML files of records and what a policy must make of them.

Input: a case file in the contract's format — `policy`, and `cases` each with `name`,
`cite`, `records` and `expect` (results by id) or `expect_report` (report rows) — plus
two extensions: `params` (what-if parameter values for this case) and table-driven
cases (`each` + a `table` of inputs `|` expectations, one record per row). Output: one
`Outcome` per case, with every mismatch as `key: expected …, got …`. In a table, `-`
leaves a field out (inputs) or expects nothing (outputs). Expectations are
subset matches; unknown keys are errors. Files are read only with `yaml.safe_load`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from engine.io.inputs import yaml_values
from engine.pipeline.policy import load
from engine.running.coverage import Coverage
from engine.running.protocol import Decides
from engine.syntax.diagnostics import PolicyError

FILE_KEYS = {"policy", "cases"}
CASE_KEYS = {"name", "cite", "records", "expect", "expect_report", "params", "each", "table"}
RESULT_KEYS = {"amount", "counted", "reason", "error", "category", "regime", "unit", "kind"}
REPORT_IDS = ("scope", "person", "year", "window", "id")


class CaseFileError(Exception):
    """A case file that does not follow the format."""


@dataclass
class Case:
    file: Path
    line: int
    name: str
    cite: str | None
    records: list[Any]
    expect: dict[Any, Any]
    policy_path: Path | None
    params: dict[str, Any] = field(default_factory=dict)
    expect_report: list[dict[str, Any]] = field(default_factory=list)
    lines: dict[Any, int] = field(default_factory=dict)  # record id -> its table row's line
    problem: str | None = None  # what is wrong with the case as written: it fails alone


@dataclass
class Outcome:
    case: Case
    failures: list[str] = field(default_factory=list)
    # (record id, result key, actual value) of each differing value `--update` can write
    fixes: list[tuple[Any, str, Any]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures

    def describe(self) -> str:
        head = f"{self.case.file}:{self.case.line}: {self.case.name}"
        return "\n".join([head] + [f"    {f}" for f in self.failures])


def _case_lines(text: str) -> list[int]:
    """The line of each case's first key, in order (for messages)."""
    lines: list[int] = []
    indent: int | None = None
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.lstrip()
        depth = len(line) - len(stripped)
        if line.startswith("cases:"):
            indent = -1
        elif indent is not None and stripped.startswith("- ") and indent in (-1, depth):
            indent = depth
            lines.append(number)
        elif indent is not None and stripped and depth == 0:
            indent = None
    return lines


def _table(
    raw: dict[str, Any], where: str, text: list[str], start: int
) -> tuple[list[Any], dict[Any, Any], dict[Any, int]]:
    """Records, expectations and row lines of a table-driven case."""
    each, grid = raw.get("each") or {}, raw.get("table")
    if not isinstance(each, dict) or not isinstance(grid, str):
        raise CaseFileError(f"{where}: `each` is a mapping and `table` a block of rows (`|`)")
    rows = [line.split("#")[0] for line in grid.splitlines()]
    rows = [r for r in rows if r.strip()]
    if not rows or "|" not in rows[0]:
        raise CaseFileError(f"{where}: a `table` starts with a header: `inputs… | expected…`")
    inputs, outputs = (part.split() for part in rows[0].split("|", 1))
    unknown = [k for k in outputs if k not in RESULT_KEYS]
    if unknown:
        raise CaseFileError(
            f"{where}: `{unknown[0]}` is not a result key; use: {', '.join(sorted(RESULT_KEYS))}"
        )
    records, expect, lines = [], {}, {}
    for n, row in enumerate(rows[1:], 1):
        left, _, right = row.partition("|")
        cells, wanted = left.split(), right.split()
        if len(cells) != len(inputs) or len(wanted) != len(outputs):
            raise CaseFileError(
                f"{where}: table row {n} has {len(cells)} + {len(wanted)} cells; "
                f"the header has {len(inputs)} + {len(outputs)}"
            )
        ident = f"row {n}"
        record = {**each, "id": ident}
        record.update({k: _scalar(v) for k, v in zip(inputs, cells, strict=True) if v != "-"})
        records.append(record)
        expect[ident] = {k: _scalar(v) for k, v in zip(outputs, wanted, strict=True) if v != "-"}
        lines[ident] = next(
            (i for i in range(start, len(text) + 1) if text[i - 1].strip() == row.strip()),
            start,
        )
    return records, expect, lines


def _scalar(token: str) -> Any:
    return yaml_values(yaml.safe_load(token))


def read_cases(path: Path) -> list[Case]:
    """Parse one case file, refusing unknown keys."""
    try:
        text = path.read_text(encoding="utf-8")
        data = yaml_values(yaml.safe_load(text))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise CaseFileError(f"{path}: cannot read: {error}") from None
    if not isinstance(data, dict) or not isinstance(data.get("cases"), list):
        raise CaseFileError(f"{path}: a case file is a mapping with a list under `cases`")
    unknown = set(data) - FILE_KEYS
    if unknown:
        raise CaseFileError(f"{path}: unknown key `{sorted(unknown)[0]}`; allowed: policy, cases")
    policy_path = (path.parent / data["policy"]).resolve() if data.get("policy") else None
    starts, source_lines = _case_lines(text), text.splitlines()
    out = []
    for i, raw in enumerate(data["cases"]):
        line = starts[i] if i < len(starts) else 1
        try:
            out.append(_case(raw, path, line, policy_path, source_lines))
        except CaseFileError as error:  # this case fails; the file's others still run
            name = (
                str(raw.get("name", f"case {i + 1}")) if isinstance(raw, dict) else f"case {i + 1}"
            )
            message = str(error).removeprefix(f"{path}:{line}: ")
            out.append(Case(path, line, name, None, [], {}, policy_path, problem=message))
    return out


def _case(raw: Any, path: Path, line: int, policy: Path | None, text: list[str]) -> Case:
    where = f"{path}:{line}"
    if not isinstance(raw, dict) or "name" not in raw:
        raise CaseFileError(f"{where}: a case is a mapping with a `name`")
    unknown = set(raw) - CASE_KEYS
    if unknown:
        raise CaseFileError(
            f"{where}: unknown key `{sorted(unknown)[0]}`; allowed: {', '.join(sorted(CASE_KEYS))}"
        )
    lines: dict[Any, int] = {}
    if "table" in raw:
        if "records" in raw or "expect" in raw:
            raise CaseFileError(f"{where}: a table-driven case has no `records` or `expect`")
        records, expect, lines = _table(raw, where, text, line)
    else:
        records, expect = raw.get("records") or [], raw.get("expect") or {}
    params, report = raw.get("params") or {}, raw.get("expect_report") or []
    if not isinstance(records, list) or not isinstance(expect, dict):
        raise CaseFileError(f"{where}: `records` is a list and `expect` a mapping by id")
    if not isinstance(params, dict) or not isinstance(report, list):
        raise CaseFileError(f"{where}: `params` is a mapping and `expect_report` a list")
    if not expect and not report:
        raise CaseFileError(f"{where}: a case expects something: `expect` or `expect_report`")
    return Case(path, line, str(raw["name"]), raw.get("cite"), records, expect, policy,
                params, report, lines)  # fmt: skip


def matches(expected: Any, actual: Any, key: str, failures: list[str]) -> None:
    """Compare only what `expected` lists; record each difference, values as YAML."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            failures.append(f"{key}: expected {_yaml(expected)}, got {_yaml(actual)}")
            return
        for k, v in expected.items():
            if k not in actual:
                failures.append(f"{key}.{k}: expected {_yaml(v)}, got nothing")
            else:
                matches(v, actual[k], f"{key}.{k}", failures)
    elif _number(expected) and _number(actual):
        if Decimal(str(expected)) != Decimal(str(actual)):
            failures.append(f"{key}: expected {expected}, got {actual}")
    elif expected != actual or (type(expected) is bool) != (type(actual) is bool):
        failures.append(f"{key}: expected {_yaml(expected)}, got {_yaml(actual)}")


def _differ(expected: Any, actual: Any) -> bool:
    failures: list[str] = []
    matches(expected, actual, "", failures)
    return bool(failures)


def yaml_text(value: Any) -> str:
    """A value as a case file writes it (`true`, `too_short`, `{amount: 3}`)."""
    return _yaml(value)


def _yaml(value: Any) -> str:
    """A value as a case file writes it (`true`, `too_short`, `{amount: 3}`)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_yaml(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_yaml(v) for v in value) + "]"
    return str(value)


def _number(value: Any) -> bool:
    return isinstance(value, int | Decimal) and not isinstance(value, bool)


def run_case(case: Case, policy: Decides) -> Outcome:
    outcome = Outcome(case)
    if case.problem is not None:
        outcome.failures.append(case.problem)
        return outcome
    names = _names(policy)
    if case.expect:
        results = {r["id"]: r for r in policy.evaluate_many(case.records)}
        for ident, expected in case.expect.items():
            failures: list[str] = []
            wanted, actual = _named(expected, names), results.get(ident)
            _expect_result(ident, wanted, actual, failures)
            if failures and isinstance(wanted, dict) and isinstance(actual, dict):
                outcome.fixes += [
                    (ident, k, actual[k])
                    for k, v in wanted.items()
                    if k in actual and not isinstance(v, dict | list) and _differ(v, actual[k])
                ]
            where = f"line {case.lines[ident]}: " if ident in case.lines else ""
            outcome.failures.extend(where + f for f in failures)
    if case.expect_report:
        rows = policy.report(case.records)
        for expected in case.expect_report:
            _expect_row(_named(expected, names), rows, outcome.failures)
    return outcome


def _names(policy: Decides) -> dict[str, dict[str, str]]:
    """Label -> name of what a result or report row names, by its key (`kind`, `category`,
    `reason`, `regime`; any other key: a member), so that an expectation may use either;
    a label two of them share stays as written."""
    found: dict[str, dict[str, set[str]]] = {}
    for member in policy.members:
        symbols = member.model.symbols
        groups: dict[str, dict[str, Any]] = {"kind": symbols.kinds,
                  "category": symbols.categories, "reason": symbols.reasons,
                  "regime": symbols.regimes}  # fmt: skip
        for key, group in groups.items():
            for name, decl in group.items():
                if decl.label:
                    found.setdefault(key, {}).setdefault(decl.label, set()).add(name)
        for enum in symbols.enums.values():
            for m in enum.members:
                if m.label:
                    found.setdefault("", {}).setdefault(m.label, set()).add(m.name)
    return {
        key: {label: next(iter(names)) for label, names in labels.items() if len(names) == 1}
        for key, labels in found.items()
    }


def _named(expected: Any, names: dict[str, dict[str, str]], key: str = "") -> Any:
    """An expectation with labels put back to names (`category: 折算` -> `converted`)."""
    if isinstance(expected, dict):
        return {k: _named(v, names, k) for k, v in expected.items()}
    if isinstance(expected, list):
        return [_named(v, names, key) for v in expected]
    if isinstance(expected, str):
        return names.get(key if key in names else "", {}).get(expected, expected)
    return expected


def _expect_result(ident: Any, expected: Any, actual: Any, failures: list[str]) -> None:
    if actual is None:
        failures.append(f"{ident}: no record has this id")
    elif isinstance(expected, dict) and "error" in expected and "error" in actual:
        want = expected["error"]
        got = actual["error"] if isinstance(want, dict) else actual["error"]["code"]
        matches(want, got, f"{ident}.error", failures)
        rest = {k: v for k, v in expected.items() if k != "error"}
        matches(rest, actual, str(ident), failures)
    elif isinstance(expected, dict) and "error" in actual and "error" not in expected:
        error = actual["error"]
        failures.append(f"{ident}: expected {_yaml(expected)}, got the error "
                        f"{error['code']}: {error['message']}")  # fmt: skip
    else:
        matches(expected, actual, str(ident), failures)


def _expect_row(expected: Any, rows: list[dict[str, Any]], failures: list[str]) -> None:
    ids = {k: expected[k] for k in REPORT_IDS if isinstance(expected, dict) and k in expected}
    label = ", ".join(f"{k} {v}" for k, v in ids.items()) or "?"
    found = [r for r in rows if all(r.get(k) == v for k, v in ids.items())]
    if isinstance(expected, dict) and expected.get("absent") is True:
        if found:
            failures.append(f"report row ({label}): expected no such row, but the report has it")
        return
    if not found:
        failures.append(f"report row ({label}): no such row")
    else:
        matches(expected, found[0], f"report row ({label})", failures)


def _loads(cache: PolicyCache, path: Path | None) -> bool:
    try:
        cache.get(path)
    except PolicyError:
        return False
    return True


class PolicyCache:
    """Policies loaded once per path and parameter overrides, for a whole run. A case that
    names no policy gets `default` (None: the bundled one)."""

    def __init__(self, coverage: Coverage | None = None, default: Path | None = None) -> None:
        self.coverage, self.default = coverage, default
        self._loaded: dict[tuple[Path | None, str], Decides] = {}
        self.used: list[Path | None] = []  # every policy path loaded, in order

    def changed_files(self) -> set[str]:
        """The own files of every policy loaded that extends another: its changes."""
        return {
            file
            for policy in self._loaded.values()
            for member in policy.members
            if member.lineage is not None
            for file in member.lineage.files
        }

    def get(self, path: Path | None, params: dict[str, Any] | None = None) -> Decides:
        path = path or self.default
        key = (path, repr(sorted((params or {}).items())))
        if key not in self._loaded:
            self._loaded[key] = load(path, params or None, self.coverage)
        if path not in self.used:
            self.used.append(path)
        return self._loaded[key]


def selects(pattern: str, case: Case) -> bool:
    """`-k`: a case whose name holds the pattern (any case), or whose file's name does,
    or whose place is it (`papers.yaml:12`)."""
    wanted = pattern.casefold()
    place = f"{case.file.name}:{case.line}"
    return wanted in case.name.casefold() or wanted in case.file.name.casefold() or wanted == place


def case_files(paths: list[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(path.rglob("*.yaml"))
        else:
            yield path


def run_files(
    paths: list[Path], cache: PolicyCache | None = None, pattern: str | None = None
) -> Iterator[Outcome | str]:
    """Every case of every file (with `pattern`, those it selects); a string for a file or
    policy that could not be run (a policy's diagnostics are shown once, however many
    cases it fails)."""
    cache = cache or PolicyCache()
    shown: set[str] = set()
    for path in case_files(paths):
        try:
            cases = read_cases(path)
        except CaseFileError as error:
            yield str(error)
            continue
        for case in cases:
            if pattern is not None and not selects(pattern, case):
                continue
            try:
                policy = cache.get(case.policy_path, case.params)
            except PolicyError as error:
                if case.params and _loads(cache, case.policy_path):  # the case's `params`
                    wrong = [f"params: {d.message}" + (f" ({d.help})" if d.help else "")
                             for d in error.diagnostics]  # fmt: skip
                    yield Outcome(case, wrong)
                    continue
                text = str(error)
                said = "(its diagnostics are above)" if text in shown else f"\n{text}"
                shown.add(text)
                yield f"{case.file}:{case.line}: the policy does not load {said}"
                continue
            yield run_case(case, policy)
