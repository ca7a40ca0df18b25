"""The golden cases in `tests/golden/`, each one a pytest item."""

from pathlib import Path

import pytest

from engine.running.coverage import Coverage
from engine.tools.cases import PolicyCache, read_cases, run_case

GOLDEN = Path(__file__).parent / "golden"
CASES = [case for path in sorted(GOLDEN.glob("*.yaml")) for case in read_cases(path)]
DRAFT = Path(__file__).parent.parent / "policies" / "examples" / "binzhou-2022-draft" / "cases"
DRAFT_CASES = [case for path in sorted(DRAFT.glob("*.yaml")) for case in read_cases(path)]
AMENDMENT = DRAFT.parent.parent / "binzhou-2023-amendment" / "cases"
AMENDMENT_CASES = [c for path in sorted(AMENDMENT.glob("*.yaml")) for c in read_cases(path)]
OTHER_CITIES = ("xuzhou", "taizhou")
CITY_CASES = [
    (city, case)
    for city in OTHER_CITIES
    for path in sorted((DRAFT.parent.parent / city / "cases").glob("*.yaml"))
    for case in read_cases(path)
]
POLICIES = PolicyCache()


@pytest.mark.parametrize("case", CASES, ids=[f"{c.file.stem}:{c.line}" for c in CASES])
def test_golden_case(case) -> None:
    outcome = run_case(case, POLICIES.get(case.policy_path, case.params))
    assert outcome.passed, outcome.describe()


@pytest.mark.parametrize(
    "case", DRAFT_CASES, ids=[f"2022-draft:{c.file.stem}:{c.line}" for c in DRAFT_CASES]
)
def test_the_2022_draft_golden_case(case) -> None:
    """The worked example's own cases: the draft alone, and with 2021 as a policy set."""
    outcome = run_case(case, POLICIES.get(case.policy_path, case.params))
    assert outcome.passed, outcome.describe()


@pytest.mark.parametrize(
    "case", AMENDMENT_CASES, ids=[f"2023-amendment:{c.file.stem}:{c.line}" for c in AMENDMENT_CASES]
)
def test_the_2023_amendment_golden_case(case) -> None:
    """The amendment after a gap: alone, and with 2021 as a policy set."""
    outcome = run_case(case, POLICIES.get(case.policy_path, case.params))
    assert outcome.passed, outcome.describe()


@pytest.mark.parametrize(
    "case", [c for _, c in CITY_CASES], ids=[f"{n}:{c.file.stem}:{c.line}" for n, c in CITY_CASES]
)
def test_other_city_golden_case(case) -> None:
    """The cases of the two other cities' notices (policies/examples/xuzhou, taizhou)."""
    outcome = run_case(case, POLICIES.get(case.policy_path, case.params))
    assert outcome.passed, outcome.describe()


def test_the_2023_amendment_cases_reach_every_change() -> None:
    """`rules test --coverage --changes`: every cell, row and branch its own files write."""
    coverage = Coverage()
    cache = PolicyCache(coverage)
    for case in AMENDMENT_CASES:
        assert run_case(case, cache.get(case.policy_path, case.params)).passed
    changes = coverage.within(cache.changed_files())
    assert sorted(what for _, what in changes.items.values()) == [
        "table `abroad_hours` row months >= 4 and months < 6",
        "table `abroad_hours` row months >= 6",
        "table `achievements` cell [national, second]",
        "table `achievements` cell [national, third]",
        "table `achievements` cell [provincial, first]",
    ]
    assert changes.missed() == [] and changes.percent == 100.0


@pytest.mark.parametrize("city", OTHER_CITIES)
def test_other_city_cases_reach_every_branch_cell_and_summary(city: str) -> None:
    coverage = Coverage()
    cache = PolicyCache(coverage)
    cases = [case for name, case in CITY_CASES if name == city]
    for case in cases:
        assert case.policy_path == DRAFT.parent.parent / city
        assert run_case(case, cache.get(case.policy_path, case.params)).passed
    assert coverage.missed() == []
    assert coverage.percent == 100.0 and len(coverage.items) >= 16


def test_golden_cases_are_many() -> None:
    assert len(DRAFT_CASES) == 12
    assert len(CASES) >= 70
    assert sum(len(c.expect) for c in CASES) >= 350


def test_golden_cases_reach_every_branch_cell_and_summary() -> None:
    coverage = Coverage()
    cache = PolicyCache(coverage)
    for case in CASES:
        assert run_case(case, cache.get(case.policy_path, case.params)).passed
    assert coverage.missed() == []
    assert coverage.percent == 100.0 and len(coverage.items) > 120
