"""Properties the Binzhou policy must have, whatever the records (Hypothesis)."""

import sys
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

import engine

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from evaluate import stream  # noqa: E402  (the benchmark's generator of valid records)

POLICY = engine.load()
YEARS = st.sampled_from([2018, 2019, 2020, 2021])
SHARED = {
    "paper": st.fixed_dictionaries(
        {
            "venue": st.sampled_from(
                ["cn_serial", "provincial_permit", "city_permit", "international"]
            )
        }
    ),
    "abstract": st.fixed_dictionaries({"venue": st.sampled_from(["cn_serial", "international"])}),
    "proceedings": st.fixed_dictionaries(
        {"scope": st.sampled_from(["city", "provincial", "national"])}
    ),
    "conference_paper": st.fixed_dictionaries(
        {
            "level": st.sampled_from(["city", "provincial", "national", "international"]),
            "tier": st.sampled_from(["first", "second", "third"]),
        }
    ),
}


def amount(record: dict) -> object:
    return POLICY.evaluate(record)["amount"]


@given(st.sampled_from(sorted(SHARED)), st.data(), st.integers(1, 30), YEARS)
def test_co_author_shares_add_up_and_never_grow_with_position(kind, data, authors, year) -> None:
    fields = {"kind": kind, "year": year, "words": 3000, **data.draw(SHARED[kind])}
    total = amount({**fields, "authors": 1, "position": 1})
    shares = [amount({**fields, "authors": authors, "position": p}) for p in range(1, authors + 1)]
    assert sum(shares) == total
    assert shares == sorted(shares, reverse=True)


LEVELS = st.sampled_from(["county", "city", "provincial", "national"])


@given(LEVELS, st.sampled_from([None, "first", "second", "third"]), st.integers(1, 12), YEARS)
def test_awards_never_earn_more_for_a_lower_rank(level, tier, rank, year) -> None:
    record = {"kind": "award", "year": year, "level": level}
    if tier:
        record["tier"] = tier
    assert amount({**record, "rank": rank}) >= amount({**record, "rank": rank + 1})


@given(LEVELS, st.integers(1, 12), YEARS)
def test_appraisals_never_earn_more_for_a_lower_rank(level, rank, year) -> None:
    record = {"kind": "appraisal", "year": year, "level": level}
    assert amount({**record, "rank": rank}) >= amount({**record, "rank": rank + 1})


@given(st.integers(0, 10**6))
def test_no_amount_is_negative(seed: int) -> None:
    for result in POLICY.evaluate_many(stream(60, 10, seed)):
        assert result["amount"] >= 0


@given(st.integers(0, 10**6))
def test_counted_converted_hours_never_exceed_35_a_year(seed: int) -> None:
    rows = POLICY.report(stream(150, 5, seed))
    for row in rows:
        if row["scope"] == "year" and row["regime"] == "hours":
            assert row["converted_to_public"] + row["converted_to_professional"] <= 35
            assert row["converted_to_public"] <= 5 and row["converted_to_professional"] <= 30


@given(st.integers(0, 10**6), st.randoms(use_true_random=False))
def test_a_report_does_not_depend_on_the_order_of_its_records(seed: int, rnd) -> None:
    records = list(stream(80, 6, seed))
    shuffled = records[:]
    rnd.shuffle(shuffled)
    assert POLICY.report(records) == POLICY.report(shuffled)


@given(st.integers(0, 10**6))
def test_a_record_alone_or_in_a_batch_gives_the_same_result(seed: int) -> None:
    records = list(stream(40, 8, seed))
    batch = list(POLICY.evaluate_many(records))
    for position, (record, result) in enumerate(zip(records, batch, strict=True), 1):
        assert POLICY.evaluate(record, position) == result
