"""Properties of the language's features for other notices, over generated records:
credit parts add up to the amount and land in their years; a capped sum is the sum of
its groups each capped; a count where … never exceeds the count."""

from decimal import Decimal
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

import engine

LANGUAGE = Path(__file__).parent / "language"
CREDIT = engine.load(LANGUAGE / "rule-credit.rules")
ARITHMETIC = engine.load(LANGUAGE / "arithmetic-notices.rules")

projects = st.builds(
    lambda year, first, length: {
        "person": "p",
        "kind": "project",
        "year": year,
        "first": first,
        "last": first + length,
    },
    st.integers(2020, 2023),
    st.integers(2015, 2026),
    st.integers(0, 6),
)
degrees = st.builds(lambda year: {"person": "p", "kind": "degree", "year": year},
                    st.integers(2020, 2023))  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(projects, degrees), min_size=1, max_size=6))
def test_credit_parts_add_up_and_land_in_their_years(records: list[dict]) -> None:
    expected: dict[int, Decimal] = {}
    for record in records:
        result = CREDIT.evaluate(record)
        parts = result["credits"]
        assert sum(Decimal(str(p["amount"])) for p in parts) == Decimal(str(result["amount"]))
        for part in parts:
            if 2020 <= part["year"] <= 2023:  # the regime's years: the rest is dropped
                expected[part["year"]] = expected.get(part["year"], 0) + part["amount"]
    rows = {r["year"]: r["total"] for r in CREDIT.report(records) if r["scope"] == "year"}
    assert {y: Decimal(str(t)) for y, t in rows.items() if t} == {
        y: Decimal(str(t)) for y, t in expected.items() if t
    }


online = st.builds(
    lambda minutes, day: {
        "person": "q",
        "year": 2021,
        "kind": "online",
        "minutes": minutes,
        "date": f"d{day}",
    },
    st.integers(0, 1200),
    st.integers(1, 4),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(online, min_size=1, max_size=10))
def test_a_capped_sum_is_its_groups_each_capped(records: list[dict]) -> None:
    by_day: dict[str, Decimal] = {}
    for record in records:
        amount = Decimal(str(ARITHMETIC.evaluate(record)["amount"]))
        by_day[record["date"]] = by_day.get(record["date"], Decimal(0)) + amount
    capped = sum((min(v, Decimal(10)) for v in by_day.values()), Decimal(0))
    [row] = [r for r in ARITHMETIC.report(records) if r["scope"] == "year"]
    assert Decimal(str(row["online"])) == min(capped, Decimal(30))
