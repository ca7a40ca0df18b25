"""Benchmark: `Policy.evaluate_many` against a hand-written plain-Python baseline.

Generates a mixed set of valid records over every kind of the bundled policy, checks that
the engine and the baseline agree on every record (amount, counted, reason, category,
regime), then times both in the same run and prints records/second and the ratio.

    python bench/evaluate.py [--records 200000] [--repeat 3]

The baseline is the Binzhou notice written by hand as plain Python: the same tables,
rules and validation (types, ranges, enums by name or label, unknown fields, the
cross-field constraints), without traces. It exists only to measure the engine.
"""

from __future__ import annotations

import argparse
import gc
import random
import time
from collections import deque
from collections.abc import Iterator
from decimal import ROUND_FLOOR, Decimal
from typing import Any

import engine

# ── the baseline ─────────────────────────────────────────────────────────

LEVELS = {
    "county": "县区级",
    "city": "地市级",
    "provincial": "省部级",
    "national": "国家级",
    "international": "国际级",
}
TIERS = {"first": "一等奖", "second": "二等奖", "third": "三等奖"}
PATENTS = {"invention": "发明专利", "utility_model": "实用新型专利", "design": "外观设计专利"}
VENUES = {
    "cn_serial": "全国统一刊号",
    "provincial_permit": "省内部资料准印证",
    "city_permit": "地市准印刊号",
    "international": "国外刊物",
    "none": "无刊号",
}
ACH = {
    "county": (15, 13, 11, 8),
    "city": (25, 20, 15, 10),
    "provincial": (35, 30, 25, 15),
    "national": (40, 35, 30, 20),
}
PUB = {
    "city": (5, 15, 12, 10, 3, 2, 1),
    "provincial": (10, 20, 17, 14, 8, 6, 4),
    "national": (15, 30, 25, 20, 12, 9, 6),
    "international": (25, None, None, None, 18, 12, 8),
}
TIER_COL = {"first": 0, "second": 1, "third": 2}
VENUE_LEVEL = {
    "cn_serial": "national",
    "provincial_permit": "provincial",
    "city_permit": "city",
    "international": "international",
}
PATENT_LEVEL = {"invention": "national", "utility_model": "provincial", "design": "city"}
LOWER = {"national": "provincial", "provincial": "city", "city": "county"}
CATEGORY = {
    "public_course": "public",
    "xuexi_qiangguo": "public",
    "professional_course": "professional",
    "lecture": "professional",
    "seminar": "professional",
}
KINDS = {
    "公需科目": "public_course",
    "专业科目": "professional_course",
    "学习强国": "xuexi_qiangguo",
    "学术讲座": "lecture",
    "高级研修班": "seminar",
    "考察留学": "overseas",
    "成果奖项": "award",
    "鉴定成果": "appraisal",
    "专利": "patent",
    "论文": "paper",
    "文摘": "abstract",
    "论文集": "proceedings",
    "交流论文": "conference_paper",
    "专著": "book",
    "学历教育": "degree",
    "自学考试": "self_study_exam",
}
KINDS.update({v: v for v in list(KINDS.values())})
PAPER_FIELDS = ("words", "authors", "position")
FIELDS = {
    "public_course": ("hours", "passed"),
    "professional_course": ("hours", "days"),
    "xuexi_qiangguo": ("points",),
    "lecture": ("credits",),
    "seminar": ("credits",),
    "overseas": ("months",),
    "award": ("level", "tier", "rank"),
    "appraisal": ("level", "rank"),
    "patent": ("patent_type", "rank"),
    "paper": ("venue", *PAPER_FIELDS),
    "abstract": ("venue", *PAPER_FIELDS),
    "proceedings": ("scope", *PAPER_FIELDS),
    "conference_paper": ("level", "tier", *PAPER_FIELDS),
    "book": ("level", "position"),
    "degree": ("passed",),
    "self_study_exam": ("subjects",),
}
ALLOWED = {k: {"id", "person", "year", "kind", *v} for k, v in FIELDS.items()}


class Invalid(Exception):
    pass


def _int(r: dict, name: str, low: int) -> int:
    v = r.get(name)
    if type(v) is not int:
        if type(v) is Decimal and v == v.to_integral_value():
            v = int(v)
        else:
            raise Invalid(name)
    if v < low:
        raise Invalid(name)
    return v


def _num(r: dict, name: str, positive: bool = False) -> Any:
    v = r.get(name)
    if type(v) is not int and type(v) is not Decimal:
        raise Invalid(name)
    if v < 0 or (positive and v == 0):
        raise Invalid(name)
    return v


def _enum(r: dict, name: str, labels: dict[str, str], allowed: tuple[str, ...]) -> str:
    v = r.get(name)
    if type(v) is not str:
        raise Invalid(name)
    if v not in labels:
        v = next((k for k, label in labels.items() if label == v), None)
    if v not in allowed:
        raise Invalid(name)
    return v


def _bool(r: dict, name: str, default: bool | None) -> bool:
    v = r.get(name, default)
    if type(v) is not bool:
        raise Invalid(name)
    return v


def _share(total: int, authors: int, position: int) -> int:
    base, rest = divmod(total, authors)
    return base + 1 if position <= rest else base


def _paper_fields(r: dict) -> tuple[int, int, int]:
    words, authors, position = _int(r, "words", 0), _int(r, "authors", 1), _int(r, "position", 1)
    if position > authors:
        raise Invalid("position")
    return words, authors, position


def _appraisal(level: str, rank: int) -> int:
    if rank <= 3:
        return ACH[level][3]
    return 5 if level == "county" else ACH[LOWER[level]][3]


def _abroad(months: Any, credits: bool) -> int:
    if not credits:
        return (
            15
            if months < 1
            else 20
            if months < 2
            else 25
            if months < 3
            else 30
            if months < 4
            else 35
        )
    if months > 12:
        return 40 + 5 * int((Decimal(months - 12) / 2).to_integral_value(ROUND_FLOOR))
    if months < 4:
        return 15 if months < 1 else 20 if months < 2 else 25 if months < 3 else 30
    return 35 if months < 6 else 40


def baseline_one(r: Any) -> tuple[Any, ...]:
    """(kind, regime, category, amount, counted, reason) or ("error", field)."""
    if type(r) is not dict:
        raise Invalid(None)
    kind = KINDS.get(r.get("kind"))
    if kind is None:
        raise Invalid("kind")
    year = r.get("year")
    if type(year) is not int:
        raise Invalid("year")
    if not ALLOWED[kind].issuperset(r):
        raise Invalid("field")
    credits = year <= 2019
    category = CATEGORY.get(kind, "converted")
    amount: Any = None
    reason = None
    if kind == "public_course":
        hours, passed = _num(r, "hours"), _bool(r, "passed", True)
        amount = (15 if credits else hours) if passed else None
        reason = None if passed else "not_passed"
    elif kind == "professional_course":
        has_h, has_d = "hours" in r, "days" in r
        if has_h == has_d:
            raise Invalid("hours")
        hours = _num(r, "hours") if has_h else _int(r, "days", 1) * 5
        amount = Decimal(hours) / 5 if credits else hours
    elif kind == "xuexi_qiangguo":
        points = _int(r, "points", 0)
        if not credits or year != 2019:
            reason = "not_applicable"
        elif points < 2000:
            reason = "below_threshold"
        else:
            amount = 15
    elif kind in ("lecture", "seminar"):
        value = _num(r, "credits")
        if credits:
            amount = value
        else:
            reason = "not_applicable"
    elif kind == "overseas":
        amount = _abroad(_num(r, "months", positive=True), credits)
    elif kind == "award":
        level = _enum(r, "level", LEVELS, ("county", "city", "provincial", "national"))
        tier = _enum(r, "tier", TIERS, tuple(TIERS)) if "tier" in r else None
        rank = _int(r, "rank", 1)
        if tier is not None:
            col = TIER_COL[tier] + (0 if rank <= 3 else 1)
        else:
            col = 0 if rank <= 3 else 1 if rank <= 6 else 2
        amount = ACH[level][col]
    elif kind == "appraisal":
        level = _enum(r, "level", LEVELS, ("county", "city", "provincial", "national"))
        amount = _appraisal(level, _int(r, "rank", 1))
    elif kind == "patent":
        ptype = _enum(r, "patent_type", PATENTS, tuple(PATENTS))
        amount = _appraisal(PATENT_LEVEL[ptype], _int(r, "rank", 1))
    elif kind in ("paper", "abstract"):
        venue = _enum(r, "venue", VENUES, tuple(VENUES))
        words, authors, position = _paper_fields(r)
        if words < 1000:
            reason = "too_short"
        elif venue == "none":
            reason = "no_serial_number"
        else:
            total = PUB[VENUE_LEVEL[venue]][0 if kind == "paper" else 6]
            amount = _share(total, authors, position)
    elif kind == "proceedings":
        scope = _enum(r, "scope", LEVELS, ("city", "provincial", "national"))
        words, authors, position = _paper_fields(r)
        if words < 1000:
            reason = "too_short"
        else:
            amount = _share(PUB[scope][6], authors, position)
    elif kind == "conference_paper":
        level = _enum(r, "level", LEVELS, ("city", "provincial", "national", "international"))
        tier = _enum(r, "tier", TIERS, tuple(TIERS)) if "tier" in r else None
        words, authors, position = _paper_fields(r)
        if words < 1000:
            reason = "too_short"
        else:
            total = PUB[level][4 + TIER_COL[tier] if tier else 6]
            amount = _share(total, authors, position)
    elif kind == "book":
        level = _enum(r, "level", LEVELS, ("city", "provincial", "national"))
        position = _int(r, "position", 1)
        amount = PUB[level][position if position <= 3 else 0]
    elif kind == "degree":
        passed = _bool(r, "passed", None)
        amount, reason = (20, None) if passed else (None, "not_passed")
    elif kind == "self_study_exam":
        amount = _int(r, "subjects", 1) * 5
    if year > 2021:
        raise Invalid("year")
    regime = "credits" if credits else "hours"
    if amount is None:
        return (kind, regime, category, 0, False, reason)
    if type(amount) is Decimal and amount == amount.to_integral_value():
        amount = int(amount)
    return (kind, regime, category, amount, True, None)


def baseline_many(records: list[Any]) -> list[dict[str, Any]]:
    return list(baseline_stream(records))


def baseline_stream(records: list[Any]) -> Iterator[dict[str, Any]]:
    """One result per record, like `evaluate_many` (without traces)."""
    for position, r in enumerate(records, 1):
        try:
            kind, regime, category, amount, counted, reason = baseline_one(r)
        except Invalid as error:
            yield {"id": position, "error": {"code": "invalid_record", "field": error.args[0]}}
            continue
        result = {
            "id": r.get("id", position),
            "year": r["year"],
            "kind": kind,
            "regime": regime,
            "unit": regime,
            "category": category,
            "amount": amount,
            "counted": counted,
        }
        if reason:
            result["reason"] = reason
        yield result


# ── records ──────────────────────────────────────────────────────────────


def generate(n: int, seed: int = 2021) -> list[dict[str, Any]]:
    """`n` valid records over every kind, both regimes, labels and names mixed."""
    return list(stream(n, n // 10 + 1, seed))


def stream(n: int, people: int, seed: int = 2021) -> Iterator[dict[str, Any]]:
    """The same, one at a time, spread over `people` persons."""
    rnd = random.Random(seed)

    def pick(mapping: dict[str, str], keys: tuple[str, ...] | None = None) -> str:
        key = rnd.choice(keys or tuple(mapping))
        return mapping[key] if rnd.random() < 0.2 else key

    def paper_fields() -> dict[str, Any]:
        authors = rnd.randint(1, 8)
        return {
            "words": rnd.choice((800, 999, 1000, 3000, 6000)),
            "authors": authors,
            "position": rnd.randint(1, authors),
        }

    four = ("county", "city", "provincial", "national")
    makers = [
        lambda: {
            "kind": "public_course",
            "hours": rnd.choice((2, 10, Decimal("2.5"))),
            "passed": rnd.random() < 0.9,
        },
        lambda: (
            {"kind": "professional_course", "hours": rnd.randint(1, 40)}
            if rnd.random() < 0.6
            else {"kind": "professional_course", "days": rnd.randint(1, 6)}
        ),
        lambda: {"kind": "xuexi_qiangguo", "points": rnd.randint(0, 5000)},
        lambda: {"kind": "lecture", "credits": rnd.randint(0, 4)},
        lambda: {"kind": "seminar", "credits": Decimal(rnd.randint(1, 80)) / 10},
        lambda: {"kind": "overseas", "months": Decimal(rnd.randint(1, 300)) / 10},
        lambda: {
            "kind": "award",
            "level": pick(LEVELS, four),
            "rank": rnd.randint(1, 9),
            **({"tier": pick(TIERS)} if rnd.random() < 0.6 else {}),
        },
        lambda: {"kind": "appraisal", "level": pick(LEVELS, four), "rank": rnd.randint(1, 8)},
        lambda: {"kind": "patent", "patent_type": pick(PATENTS), "rank": rnd.randint(1, 6)},
        lambda: {"kind": "paper", "venue": pick(VENUES), **paper_fields()},
        lambda: {"kind": "abstract", "venue": pick(VENUES), **paper_fields()},
        lambda: {
            "kind": "proceedings",
            "scope": pick(LEVELS, ("city", "provincial", "national")),
            **paper_fields(),
        },
        lambda: {
            "kind": "conference_paper",
            "level": pick(LEVELS, (*four[1:], "international")),
            **({"tier": pick(TIERS)} if rnd.random() < 0.5 else {}),
            **paper_fields(),
        },
        lambda: {
            "kind": "book",
            "level": pick(LEVELS, ("city", "provincial", "national")),
            "position": rnd.randint(1, 6),
        },
        lambda: {"kind": "degree", "passed": rnd.random() < 0.8},
        lambda: {"kind": "self_study_exam", "subjects": rnd.randint(1, 4)},
    ]
    for i in range(n):
        record = rnd.choice(makers)()
        record.update(
            id=f"r{i + 1}",
            person=f"p{rnd.randint(1, people)}",
            year=rnd.choice((2017, 2018, 2019, 2020, 2021)),
        )
        yield record


def agree(engine_results: list[dict[str, Any]], baseline: list[dict[str, Any]]) -> None:
    keys = ("id", "kind", "regime", "category", "amount", "counted", "reason")
    for ours, theirs in zip(engine_results, baseline, strict=True):
        if "error" in ours or "error" in theirs:
            raise AssertionError(f"unexpected error: {ours.get('error')} / {theirs.get('error')}")
        mine = {k: ours.get(k) for k in keys}
        base = {k: theirs.get(k) for k in keys}
        if mine != base:
            raise AssertionError(f"disagree on {ours['id']}: engine {mine}, baseline {base}")


def drain(results: Iterator[dict[str, Any]]) -> None:
    deque(results, maxlen=0)


def best_rates(runs: list[Any], records: list[Any], repeat: int) -> list[float]:
    """Records/second of each run: best of `repeat`, the runs interleaved against noise."""
    best = [float("inf")] * len(runs)
    for _ in range(repeat):
        for i, run in enumerate(runs):
            gc.collect()
            start = time.perf_counter()
            run(records)
            best[i] = min(best[i], time.perf_counter() - start)
    return [len(records) / b for b in best]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    policy = engine.load()
    records = generate(args.records)
    agree(list(policy.evaluate_many(records)), baseline_many(records))
    print(f"agreement: {len(records)} records, engine and baseline equal on every one")
    # Results are consumed as they come, as `rules eval` does, and the input records are
    # moved out of the collector's way: both sides are timed the same way.
    gc.freeze()
    engine_rate, base_rate = best_rates(
        [lambda rs: drain(policy.evaluate_many(rs)), lambda rs: drain(baseline_stream(rs))],
        records,
        args.repeat,
    )
    print(f"baseline (hand-written Python): {base_rate:12,.0f} records/s")
    print(f"engine   (evaluate_many):       {engine_rate:12,.0f} records/s")
    print(f"ratio baseline/engine: {base_rate / engine_rate:.2f}x (target: <= 4x)")


if __name__ == "__main__":
    main()
