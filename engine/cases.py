"""Golden cases: YAML files of records and the results a policy must give.

Input: a case file in the contract's format (`policy`, `cases` with `name`, `cite`,
`records`, `expect`). Output: one `Outcome` per case, with every mismatch as
`key: expected …, got …`. Expectations are subset matches; unknown keys are errors.
Files are read only with `yaml.safe_load`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from engine.diagnostics import PolicyError
from engine.inputs import yaml_values
from engine.policy import Policy, load

FILE_KEYS = {"policy", "cases"}
CASE_KEYS = {"name", "cite", "records", "expect", "expect_report"}


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


@dataclass
class Outcome:
    case: Case
    failures: list[str] = field(default_factory=list)

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
    lines = _case_lines(text)
    cases = []
    for i, raw in enumerate(data["cases"]):
        line = lines[i] if i < len(lines) else 1
        where = f"{path}:{line}"
        if not isinstance(raw, dict) or "name" not in raw or "records" not in raw:
            raise CaseFileError(f"{where}: a case needs `name` and `records`")
        unknown = set(raw) - CASE_KEYS
        if unknown:
            raise CaseFileError(
                f"{where}: unknown key `{sorted(unknown)[0]}`; "
                f"allowed: {', '.join(sorted(CASE_KEYS))}"
            )
        if "expect_report" in raw:
            raise CaseFileError(f"{where}: `expect_report` needs `rules report`, not yet built")
        if not isinstance(raw["records"], list) or not isinstance(raw.get("expect", {}), dict):
            raise CaseFileError(f"{where}: `records` is a list and `expect` a mapping by id")
        cases.append(
            Case(
                path,
                line,
                str(raw["name"]),
                raw.get("cite"),
                raw["records"],
                raw.get("expect") or {},
                policy_path,
            )
        )
    return cases


def matches(expected: Any, actual: Any, key: str, failures: list[str]) -> None:
    """Compare only what `expected` lists; record each difference."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            failures.append(f"{key}: expected {expected!r}, got {actual!r}")
            return
        for k, v in expected.items():
            if k not in actual:
                failures.append(f"{key}.{k}: expected {v!r}, got nothing")
            else:
                matches(v, actual[k], f"{key}.{k}", failures)
    elif _number(expected) and _number(actual):
        if Decimal(str(expected)) != Decimal(str(actual)):
            failures.append(f"{key}: expected {expected}, got {actual}")
    elif expected != actual or (type(expected) is bool and type(actual) is not bool):
        failures.append(f"{key}: expected {expected!r}, got {actual!r}")


def _number(value: Any) -> bool:
    return isinstance(value, int | Decimal) and not isinstance(value, bool)


def run_case(case: Case, policy: Policy) -> Outcome:
    outcome = Outcome(case)
    results = list(policy.evaluate_many(case.records))
    by_id = {r["id"]: r for r in results}
    for ident, expected in case.expect.items():
        actual = by_id.get(ident)
        if actual is None:
            outcome.failures.append(f"{ident}: no record has this id")
            continue
        if isinstance(expected, dict) and "error" in expected and "error" in actual:
            want = expected["error"]
            got = actual["error"] if isinstance(want, dict) else actual["error"]["code"]
            matches(want, got, f"{ident}.error", outcome.failures)
            matches(
                {k: v for k, v in expected.items() if k != "error"},
                actual,
                str(ident),
                outcome.failures,
            )
        else:
            matches(expected, actual, str(ident), outcome.failures)
    return outcome


class PolicyCache:
    """Policies loaded once per path for a whole run."""

    def __init__(self) -> None:
        self._loaded: dict[Path | None, Policy] = {}

    def get(self, path: Path | None) -> Policy:
        if path not in self._loaded:
            self._loaded[path] = load(path)
        return self._loaded[path]


def case_files(paths: list[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(path.rglob("*.yaml"))
        else:
            yield path


def run_files(paths: list[Path]) -> Iterator[Outcome | str]:
    """Every case of every file; a string for a file that could not be run."""
    cache = PolicyCache()
    for path in case_files(paths):
        try:
            cases = read_cases(path)
        except CaseFileError as error:
            yield str(error)
            continue
        for case in cases:
            try:
                policy = cache.get(case.policy_path)
            except PolicyError as error:
                yield f"{case.file}:{case.line}: the policy does not load:\n{error}"
                break
            yield run_case(case, policy)
