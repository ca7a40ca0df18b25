"""The engine against an independent implementation of the Binzhou notice.

Generated records (seed from `BINZHOU_DIFF_SEED`, default below) go through the engine and
through `binzhou_reference`; every result and every report row must agree. An error must
be one of the defects the reference finds in the record, with the field it names.
"""

from __future__ import annotations

import copy
import os
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import binzhou_reference as reference
from generate import generate

import engine

SEED = int(os.environ.get("BINZHOU_DIFF_SEED", "20210318"))  # the notice's date
MIN_RECORDS, MIN_PERSONS = 20_000, 300
SHOWN = 5  # disagreements shown on failure
ENGINE_ONLY = ("trace", "policy", "version")  # engine bookkeeping the reference does not model


@pytest.fixture(scope="module")
def run() -> dict[str, Any]:
    """Both implementations over one generated batch (computed once per module)."""
    records = generate(SEED)
    pristine = copy.deepcopy(records)  # the reference reads its own copy
    policy = engine.load()
    data: dict[str, Any] = {
        "records": pristine,
        "engine": list(policy.evaluate_many(records)),
        "engine_report": policy.report(records),
        "reference": reference.evaluate_many(pristine),
        "reference_report": reference.report(pristine),
        "untouched": records == pristine,
    }
    return data


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in ENGINE_ONLY}


def _error_agrees(got: dict[str, Any], want: dict[str, Any]) -> bool:
    """The engine's error is one of the reference's defects, naming one of its fields."""
    error = got.get("error")
    if not isinstance(error, dict) or "defects" not in want:
        return False
    same_id = got.get("id") == want["id"] or "id" in {f for _, fs in want["defects"] for f in fs}
    found = (error.get("code"), error.get("field"))
    return same_id and any(
        found[0] == code and found[1] in fields for code, fields in want["defects"]
    )


def _agrees(got: dict[str, Any], want: dict[str, Any]) -> bool:
    if "defects" in want or "error" in got:
        return _error_agrees(got, want)
    return _plain(got) == want


def _show(record: object, got: dict[str, Any], want: dict[str, Any]) -> str:
    return f"  record:    {record!r}\n  engine:    {_plain(got)!r}\n  reference: {want!r}"


def _failure(what: str, pairs: list[str], total: int) -> str:
    head = f"{len(pairs)} of {total} {what} disagree (BINZHOU_DIFF_SEED={SEED}); the first:"
    return "\n".join([head, *pairs[:SHOWN]])


def test_the_batch_is_big_enough(run: dict[str, Any]) -> None:
    records = [r for r in run["records"] if isinstance(r, dict)]
    persons = {r["person"] for r in records if isinstance(r.get("person"), str)}
    assert len(run["records"]) >= MIN_RECORDS, f"seed {SEED}"
    assert len(persons) >= MIN_PERSONS, f"seed {SEED}"
    assert run["untouched"], "the engine changed the records it was given"


def test_every_result_agrees(run: dict[str, Any]) -> None:
    records, got, want = run["records"], run["engine"], run["reference"]
    assert len(got) == len(records), f"seed {SEED}: {len(records)} records in, {len(got)} out"
    bad = [_show(r, g, w) for r, g, w in zip(records, got, want, strict=True) if not _agrees(g, w)]
    assert not bad, _failure("results", bad, len(records))


def _row_key(row: dict[str, Any]) -> tuple[Any, ...]:
    return (row.get("person"), row.get("year"), row.get("window"))


def _summaries(rows: list[dict[str, Any]]) -> dict[tuple[Any, ...], dict[str, Any]]:
    return {_row_key(r): _plain(r) for r in rows if r.get("scope") in ("year", "window")}


def _records_of(records: list[Any], person: object, year: object) -> list[Any]:
    """The records behind a summary row (a window's: the person's credit years)."""
    mine = [r for r in records if isinstance(r, dict) and r.get("person") == person]
    if year is None:
        return [r for r in mine if isinstance(r.get("year"), int) and r["year"] <= 2019]
    return [r for r in mine if r.get("year") == year]


def test_every_summary_row_agrees(run: dict[str, Any]) -> None:
    """Year and window rows: the same rows, in the same order, with the same numbers."""
    got, want = _summaries(run["engine_report"]), _summaries(run["reference_report"])
    bad = [f"  only from the engine: {k!r}" for k in got if k not in want]
    bad += [f"  only from the reference: {k!r}" for k in want if k not in got]
    for key in (k for k in want if k in got and got[k] != want[k]):
        records = _records_of(run["records"], key[0], key[1])
        bad.append(_show(records, got[key], want[key]))
    if not bad and list(got) != list(want):
        bad.append(f"  rows in another order: {list(got)[:SHOWN]} vs {list(want)[:SHOWN]}")
    assert not bad, _failure("summary rows", bad, len(want))


def test_every_error_row_agrees(run: dict[str, Any]) -> None:
    """Error rows: after every summary, one per invalid record, in input order."""
    rows = run["engine_report"]
    scopes = [r.get("scope") for r in rows]
    first_error = scopes.index("error") if "error" in scopes else len(scopes)
    assert all(s == "error" for s in scopes[first_error:]), f"seed {SEED}: errors not last"
    got = [r for r in rows if r.get("scope") == "error"]
    want = [r for r in run["reference_report"] if r["scope"] == "error"]
    invalid = [r for r in run["records"] if reference.defects(r, need_person=True)]
    pairs = zip(invalid, got, want, strict=False)
    bad = [_show(r, g, w) for r, g, w in pairs if not _agrees(g, w)]
    if len(got) != len(want):
        bad.insert(0, f"  {len(got)} error rows from the engine, {len(want)} from the reference")
    assert not bad, _failure("error rows", bad, len(want))


def _numbers(value: object) -> Iterator[object]:
    if isinstance(value, dict):
        for v in value.values():
            yield from _numbers(v)
    elif isinstance(value, int | Decimal) and not isinstance(value, bool):
        yield value


def test_numbers_are_integers_where_whole(run: dict[str, Any]) -> None:
    """Amounts and report numbers: an integer where whole, else an exact decimal."""
    rows = [_plain(r) for r in run["engine"] + run["engine_report"] if "error" not in r]
    wrong = [
        (n, r)
        for r in rows
        for n in _numbers(r)
        if isinstance(n, Decimal) and n == n.to_integral_value()
    ]
    assert not wrong, f"seed {SEED}: whole numbers as decimals, e.g. {wrong[:SHOWN]}"


def _input_class(record: dict[str, Any]) -> str:
    """The cell of the notice's tables a valid record reaches, by its inputs."""
    r = reference._normalized(record)
    kind, rank = r["kind"], r.get("rank", r.get("position", 0))
    ranks = "front" if rank <= 3 else "4-6" if rank <= 6 else "7+"
    match kind:
        case "award":
            return f"award {r['level']} {r.get('tier')} {ranks}"
        case "appraisal" | "patent":
            return f"{kind} {r.get('level', r.get('patent_type'))} {ranks}"
        case "book":
            return f"book {r['level']} {min(r['position'], 4)}"
        case "paper" | "abstract" | "proceedings" | "conference_paper":
            where = r.get("venue", r.get("scope", r.get("level")))
            split = "alone" if r["authors"] == 1 else "shared"
            return f"{kind} {where} {r.get('tier')} {split} {r['words'] >= 1000}"
        case _:
            return f"{kind}"


def _coverage(run: dict[str, Any]) -> set[str]:
    """What the batch exercises, as named facts about its records and their outputs."""
    seen: set[str] = set()
    for record, result in zip(run["records"], run["reference"], strict=True):
        if "defects" in result:
            seen |= {f"error {code}" for code, _ in result["defects"]}
            continue
        seen |= {f"kind {result['kind']} in {result['regime']}", _input_class(record)}
        seen.add(f"reason {result.get('reason')}")
        if result["counted"] and result["amount"] == 0:
            seen.add("counted zero share")
        if result["kind"] == "overseas":
            seen.add(f"overseas {result['amount']} in {result['regime']}")
    for row in run["reference_report"]:
        if row["scope"] == "window":
            seen.add(f"window {row['window']} qualified {row['qualified']}")
            if row["total"] == row["required"]:
                seen.add(f"window {row['window']} exactly met")
        elif row["scope"] == "year" and row["regime"] == "hours":
            seen |= _hours_facts(row)
        elif row["scope"] == "year" and row["public"] == reference.PUBLIC_CREDIT_CAP:
            seen.add("credits public at cap")
    return seen


def _hours_facts(row: dict[str, Any]) -> set[str]:
    facts = {f"hours qualified {row['qualified']}"}
    facts |= {f"short of {k}" for k, v in row["shortfall"].items() if v > 0}
    achieved = {"public": row["public_total"], "professional": row["professional_total"]}
    achieved["total"] = row["total"]
    facts |= {f"exactly {k}" for k, v in row["required"].items() if achieved[k] == v}
    if row["converted"] > 35:
        facts.add("converted over both caps")
    if 0 < row["converted_to_public"] < 5 and row["converted_to_professional"] > 0:
        facts.add("converted split between public and professional")
    return facts


def _expected_classes() -> set[str]:
    levels4, ranks = ("county", "city", "provincial", "national"), ("front", "4-6", "7+")
    tiers = (None, "first", "second", "third")
    out = {f"award {lv} {t} {rk}" for lv in levels4 for t in tiers for rk in ranks}
    out |= {f"appraisal {lv} {rk}" for lv in levels4 for rk in ranks}
    out |= {f"patent {p} {rk}" for p in reference.PATENT_TYPES for rk in ranks}
    out |= {f"book {lv} {n}" for lv in levels4[1:] for n in (1, 2, 3, 4)}
    for kind, wheres, kind_tiers in (
        ("paper", reference.VENUES, [None]),
        ("abstract", reference.VENUES, [None]),
        ("proceedings", levels4[1:], [None]),
        ("conference_paper", (*levels4[1:], "international"), tiers),
    ):
        out |= {
            f"{kind} {w} {t} {split} {long}"
            for w in wheres
            for t in kind_tiers
            for split in ("alone", "shared")
            for long in (True, False)
        }
    return out


def test_the_batch_covers_the_notice(run: dict[str, Any]) -> None:
    """Every kind, table cell, bracket, reason, error code, cap and threshold is reached."""
    seen = _coverage(run)
    expected = {f"kind {k} in {g}" for k in reference.KINDS for g in ("hours", "credits")}
    expected |= {f"error {c}" for c in ("invalid_record", "unknown_kind", "no_policy_in_force")}
    reasons = ("too_short", "no_serial_number", "not_passed", "not_applicable", "below_threshold")
    expected |= {f"reason {r}" for r in (None, *reasons)} | {"counted zero share"}
    expected |= {f"overseas {v} in {g}" for v in (15, 20, 25, 30, 35) for g in ("hours", "credits")}
    expected |= {f"overseas {v} in credits" for v in (40, 45, 50, 55, 60)}
    windows = ("2017-2019", "2018-2019")
    facts = ("qualified True", "qualified False", "exactly met")
    expected |= {f"window {w} {f}" for w in windows for f in facts}
    expected |= {f"hours qualified {q}" for q in (True, False)} | {"credits public at cap"}
    parts = ("public", "professional", "total")
    expected |= {f"{what} {k}" for what in ("short of", "exactly") for k in parts}
    expected |= {"converted over both caps", "converted split between public and professional"}
    expected |= _expected_classes()
    assert not expected - seen, f"seed {SEED}: not exercised: {sorted(expected - seen)}"
