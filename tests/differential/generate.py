"""A seeded generator of Binzhou records, valid and invalid, for the differential test.

`generate(seed)` returns a list of records (mostly dicts; a few are not objects at all)
in four streams: a catalog of edge values for every kind, person-years built to land on
the yearly requirements, caps and window thresholds, single-defect mutations, and
random fill. The same seed gives the same records. Run as a script to print JSON Lines.
"""

from __future__ import annotations

import json
import random
import re
import sys
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from binzhou_reference import (
    COMMON,
    KIND_LABELS,
    KINDS,
    LEVELS,
    PATENT_TYPES,
    TIERS,
    VENUES,
    Field,
    evaluate,
)

D = Decimal
Record = dict[str, Any]

HOURS_YEARS = (2020, 2021)
CREDIT_YEARS = (2015, 2016, 2017, 2018, 2019)
LATE_YEARS = (2022, 2023, 2030, 2100)
CONVERTED_KINDS = (
    *("overseas", "award", "appraisal", "patent", "paper", "abstract"),
    *("proceedings", "conference_paper", "book", "degree", "self_study_exam"),
)
LABELS = {  # each enum field's members: canonical name → Chinese label
    "level": LEVELS,
    "scope": LEVELS,
    "tier": TIERS,
    "patent_type": PATENT_TYPES,
    "venue": VENUES,  # its `international` is 国外刊物, not the level's 国际级
}

# ── Valid records ────────────────────────────────────────────────────────────────────


def _decimal(rng: random.Random, high: int, places: int = 1) -> Decimal:
    """A random non-negative decimal below `high` with at most `places` decimals."""
    scale = 10**places
    return D(rng.randrange(high * scale)) / D(scale)


def _count(rng: random.Random, *edges: int) -> int:
    """An edge value half the time, else a small random count."""
    return rng.choice(edges) if rng.random() < 0.5 else rng.randint(edges[0], max(edges) + 5)


def _writing(rng: random.Random) -> Record:
    authors = rng.choice([1, 1, 2, 3, 4, 5, 7, 16]) if rng.random() < 0.8 else rng.randint(1, 40)
    position = rng.choice([1, authors, rng.randint(1, authors)])
    words = rng.choice([0, 999, 1000, 1001, 3000]) if rng.random() < 0.4 else rng.randint(0, 9000)
    return {"words": words, "authors": authors, "position": position}


def _decimals(text: str) -> list[Decimal]:
    return [D(word) for word in text.split()]


MONTH_EDGES = _decimals("0.01 0.5 0.99 1 1.99 2 2.5 3 3.99 4 5 5.99 6 11.99 12")
MONTH_EDGES += _decimals("12.01 13 13.9 13.99 14 15.99 16 18 24 25 36")


def _fields(rng: random.Random, kind: str) -> Record:
    """Random valid fields of `kind`, biased towards the notice's boundaries."""
    levels4 = ["county", "city", "provincial", "national"]
    tier = {} if rng.random() < 0.3 else {"tier": rng.choice(list(TIERS))}
    rank = _count(rng, 1, 2, 3, 4, 5, 6, 7, 8, 20)
    match kind:
        case "public_course":
            fields: Record = {"hours": rng.choice([0, 5, 10, 30, _decimal(rng, 40, 2)])}
            if rng.random() < 0.4:
                fields["passed"] = rng.random() < 0.6
            return fields
        case "professional_course":
            if rng.random() < 0.3:
                return {"days": _count(rng, 1, 2, 6, 12)}
            return {"hours": rng.choice([0, 1, 4, 5, 12, 60, 99, 101, _decimal(rng, 80, 2)])}
        case "xuexi_qiangguo":
            return {"points": rng.choice([0, 1999, 2000, 2001, rng.randint(0, 9000)])}
        case "lecture" | "seminar":
            return {"credits": rng.choice([0, 1, 2, D("2.4"), _decimal(rng, 20, 2)])}
        case "overseas":
            return {
                "months": rng.choice([rng.choice(MONTH_EDGES), _decimal(rng, 40, 2) + D("0.01")])
            }
        case "award":
            return {"level": rng.choice(levels4), **tier, "rank": rank}
        case "appraisal":
            return {"level": rng.choice(levels4), "rank": rank}
        case "patent":
            return {"patent_type": rng.choice(list(PATENT_TYPES)), "rank": rank}
        case "paper" | "abstract":
            return {"venue": rng.choice(list(VENUES)), **_writing(rng)}
        case "proceedings":
            return {"scope": rng.choice(["city", "provincial", "national"]), **_writing(rng)}
        case "conference_paper":
            level = rng.choice(["city", "provincial", "national", "international"])
            return {"level": level, **tier, **_writing(rng)}
        case "book":
            return {"level": rng.choice(["city", "provincial", "national"]), "position": rank}
        case "degree":
            return {"passed": rng.random() < 0.8}
        case _:
            return {"subjects": _count(rng, 1, 2, 6, 10)}


def _labelled(rng: random.Random, record: Record) -> Record:
    """Now and then, name the kind and the enum members by their Chinese labels, write a
    whole number as a decimal (`2.0`) and a short decimal as a float (`0.1`)."""
    out = dict(record)
    if rng.random() < 0.1:
        out["kind"] = KIND_LABELS[out["kind"]]
    for name, value in out.items():
        if name in LABELS and rng.random() < 0.15:
            out[name] = LABELS[name][value]
        elif name in INT_FIELDS and rng.random() < 0.03:
            out[name] = rng.choice([D(value).quantize(D("0.0")), float(value)])
        elif isinstance(value, Decimal) and rng.random() < 0.1 and len(str(value)) < 8:
            out[name] = float(value)
    return out


INT_FIELDS = {"points", "days", "rank", "words", "authors", "position", "subjects"}


def valid(rng: random.Random, kind: str, year: int, person: str | None) -> Record:
    record: Record = {"kind": kind, "year": year, **_fields(rng, kind)}
    if person is not None:
        record["person"] = person
    return _labelled(rng, record)


# ── Stream 1: the catalog of edge values ─────────────────────────────────────────────


def _catalog_fields() -> Iterator[Record]:
    """Every kind at every bracket boundary of the notice's tables."""
    for hours in [0, D("0.1"), D("0.5"), 1, D("29.5"), 30, D("3.50"), D("1E+1")]:
        for passed in ({}, {"passed": True}, {"passed": False}):
            yield {"kind": "public_course", "hours": hours, **passed}
    for hours in [0, D("0.1"), 1, 4, 5, 12, D("12.5"), 60, 99, 101]:
        yield {"kind": "professional_course", "hours": hours}
    for days in [1, 2, 6, 12]:
        yield {"kind": "professional_course", "days": days}
    for points in [0, 1, 1999, 2000, 2001, 9000]:
        yield {"kind": "xuexi_qiangguo", "points": points}
    for kind in ("lecture", "seminar"):
        for credits in [0, D("0.5"), 1, D("2.4"), 12]:
            yield {"kind": kind, "credits": credits}
    for months in MONTH_EDGES:
        yield {"kind": "overseas", "months": months}
    for level in ["county", "city", "provincial", "national"]:
        for rank in [1, 3, 4, 6, 7, 9]:
            for tier in [None, "first", "second", "third"]:
                yield {"kind": "award", "level": level, "rank": rank} | (
                    {"tier": tier} if tier else {}
                )
            yield {"kind": "appraisal", "level": level, "rank": rank}
    for patent_type in PATENT_TYPES:
        for rank in [1, 3, 4, 7]:
            yield {"kind": "patent", "patent_type": patent_type, "rank": rank}
    yield from _catalog_writing()
    for level in ["city", "provincial", "national"]:
        for position in [1, 2, 3, 4, 5, 10]:
            yield {"kind": "book", "level": level, "position": position}
    yield from ({"kind": "degree", "passed": passed} for passed in (True, False))
    yield from ({"kind": "self_study_exam", "subjects": n} for n in (1, 2, 6, 10))


AUTHORS = [(1, 1), (2, 1), (2, 2), (3, 1), (3, 3), (4, 1), (4, 4), (7, 2), (7, 7), (16, 16)]


def _catalog_writing() -> Iterator[Record]:
    writing: list[tuple[str, str, list[str], list[str | None]]] = [
        ("paper", "venue", list(VENUES), [None]),
        ("abstract", "venue", list(VENUES), [None]),
        ("proceedings", "scope", ["city", "provincial", "national"], [None]),
        (
            "conference_paper",
            "level",
            ["city", "provincial", "national", "international"],
            [
                None,
                *TIERS,
            ],
        ),
    ]
    for kind, field, members, tiers in writing:
        for member in members:
            for tier in tiers:
                head = {"kind": kind, field: member} | ({"tier": tier} if tier else {})
                for words in [0, 999, 1000, 1001]:
                    yield head | {"words": words, "authors": 1, "position": 1}
                for authors, position in AUTHORS:
                    yield head | {"words": 5000, "authors": authors, "position": position}


def catalog(rng: random.Random, persons: list[str]) -> list[Record]:
    """The catalog in the years where the regimes meet and end, spread over `persons`."""
    out = []
    for year in (2016, 2018, 2019, 2020, 2021, 2022):
        for fields in _catalog_fields():
            if year == 2022 and rng.random() < 0.8:
                continue  # out of force: a sample is enough
            record = {"person": rng.choice(persons), "year": year, **fields}
            out.append(_labelled(rng, record))
    return out


# ── Stream 2: person-years built to land on requirements, caps and windows ───────────


def _split(rng: random.Random, total: Decimal, step: Decimal) -> list[Decimal]:
    """`total` (a multiple of `step`) as one to three positive multiples of `step`."""
    units = int(total / step)
    if units <= 0:
        return []
    cuts = sorted(rng.sample(range(1, units), min(rng.randint(0, 2), units - 1)))
    bounds = [0, *cuts, units]
    return [(bounds[i + 1] - bounds[i]) * step for i in range(len(bounds) - 1)]


def _unit(rng: random.Random) -> Record:
    """A record worth exactly 1 in either regime (附件一(三)2 city 三等奖, or 5 split by 5)."""
    if rng.random() < 0.5:
        return {"kind": "conference_paper", "level": "city", "words": 1500, "authors": 1}
    fields = {"words": 1200, "authors": 5, "position": rng.randint(1, 5)}
    return {"kind": "paper", "venue": "city_permit", **fields}


def converted(rng: random.Random, target: int, year: int, person: str) -> list[Record]:
    """Converted records (of every converted kind) adding up to exactly `target`."""
    out: list[Record] = []
    left = D(target)
    for _ in range(12):
        if left <= 0:
            break
        record = valid(rng, rng.choice(CONVERTED_KINDS), year, person)
        amount = evaluate(record).get("amount", 0)
        if 0 < amount <= left:
            out.append(record)
            left -= amount
    while left > 0:
        unit = {"position": 1, **_unit(rng), "year": year, "person": person}
        out.append(_labelled(rng, unit))
        left -= 1
    return out


def noise(rng: random.Random, year: int, person: str) -> list[Record]:
    """Records worth nothing: not counted, or a co-author share that rounds down to 0."""
    choices: list[Record] = [
        {"kind": "paper", "venue": rng.choice(list(VENUES)), "words": 999, "authors": 1},
        {"kind": "abstract", "venue": "none", "words": 5000, "authors": 2},
        {"kind": "degree", "passed": False},
        {"kind": "public_course", "hours": 12, "passed": False},
        {"kind": "conference_paper", "level": "city", "words": 4000, "authors": 3, "position": 3},
        {"kind": "xuexi_qiangguo", "points": 5000 if year != 2019 else 1999},
    ]
    if year >= 2020:
        choices += [{"kind": "lecture", "credits": 3}, {"kind": "seminar", "credits": 8}]
    picked = rng.sample(choices, rng.randint(0, 2))
    out = [{**r, "year": year, "person": person} for r in picked]
    for r in out:
        if "authors" in r:
            r.setdefault("position", 1)
    return [_labelled(rng, r) for r in out]


def _course(kind: str, amount: Decimal, per_day: Decimal, rng: random.Random) -> Record:
    """A course giving `amount`; whole days when they fit (附件二(二) 每日 5 学时)."""
    days = amount / per_day
    if kind == "professional_course" and days == int(days) and rng.random() < 0.4:
        return {"kind": kind, "days": int(days)}
    return {"kind": kind, "hours": amount if per_day == 5 else amount * 5}


PUBLIC_HOURS = _decimals("0 10 24.5 25 26 28 29.5 29.9 30 30.1 31 35 40")
PROFESSIONAL_HOURS = _decimals("0 29 30 31 45 55 59 59.5 60 61 70")
CONVERTED_HOURS = [0, 1, 4, 5, 6, 10, 29, 30, 31, 34, 35, 36, 40, 60]


def hours_year(rng: random.Random, year: int, person: str) -> list[Record]:
    """正文一、正文二(二): public, professional and converted hours near every threshold."""
    public, professional = rng.choice(PUBLIC_HOURS), rng.choice(PROFESSIONAL_HOURS)
    out = [{"kind": "public_course", "hours": x} for x in _split(rng, public, D("0.1"))]
    out += [
        _course("professional_course", x, D(5), rng) for x in _split(rng, professional, D("0.5"))
    ]
    out = [_labelled(rng, {**x, "year": year, "person": person}) for x in out]
    return (
        out + converted(rng, rng.choice(CONVERTED_HOURS), year, person) + noise(rng, year, person)
    )


def credits_year(rng: random.Random, year: int, person: str, total: Decimal) -> list[Record]:
    """附件二: a year worth exactly `total` credits (a multiple of 0.2)."""
    out: list[Record] = []
    if total >= 15 and rng.random() < 0.6:
        total -= 15
        out.append({"kind": "public_course", "hours": rng.choice([1, 3, 8])})
        if rng.random() < 0.4:  # 附件二(一): 15 public credits a year, not two sources' sum
            extra = {"kind": "xuexi_qiangguo", "points": 2500} if year == 2019 else None
            out.append(extra or {"kind": "public_course", "hours": 2})
    whole = rng.randint(0, int(total))
    rest = total - whole
    if rest > 0 and rng.random() < 0.3:
        lecture = rng.choice(["lecture", "seminar"])
        out.append({"kind": lecture, "credits": rest})
    elif rest > 0:
        out += [_course("professional_course", x, D(1), rng) for x in _split(rng, rest, D("0.2"))]
    out = [_labelled(rng, {**x, "year": year, "person": person}) for x in out]
    return out + converted(rng, whole, year, person) + noise(rng, year, person)


WINDOW_18 = _decimals("0 10 39.8 40 40.2 80")
WINDOW_17_EXTRA = _decimals("0 19.8 20 20.2 30")


def credit_years(rng: random.Random, person: str) -> list[Record]:
    """正文一: years whose sums land on, just under and just over the windows' 60 and 40."""
    w18 = rng.choice(WINDOW_18)
    t18 = rng.randrange(int(w18 * 5) + 1) * D("0.2")
    totals = {2018: t18, 2019: w18 - t18, 2017: rng.choice(WINDOW_17_EXTRA)}
    if rng.random() < 0.5:  # outside both windows
        totals[rng.choice([2015, 2016])] = D(rng.randint(0, 40))
    out = []
    for year, total in totals.items():
        if total > 0 or rng.random() < 0.5:
            out += credits_year(rng, year, person, total)
    return out


def scenario(rng: random.Random, person: str) -> list[Record]:
    """One person's years: the hours regime, the credits regime, or both."""
    shape = rng.choice(["hours", "credits", "both"])
    out = []
    if shape != "credits":
        for year in rng.choice([[2020], [2021], [2020, 2021]]):
            out += hours_year(rng, year, person)
    if shape != "hours":
        out += credit_years(rng, person)
    return out


# ── Stream 3: records with one defect each ───────────────────────────────────────────

WRONG: dict[str, list[Any]] = {  # values of the wrong type, by field type
    "int": ["3", True, D("2.5"), None, [1]],
    "number": ["5", True, False, None, [], D("NaN"), D("Infinity")],
    "bool": ["yes", "true", 1, 0, None],
    "enum": [1, None, True, ["national"]],
}
BAD_MEMBERS = ["National", "NATIONAL", "foo", "", " national", "national ", "国家", "国家级"]
BAD_MEMBERS += ["全国统一刊号", "国外刊物", "一等奖 "]  # another enum's labels, a stray space
OUT_OF_RANGE: dict[tuple[str, str], list[str]] = {  # members outside a field's allowed range
    ("award", "level"): ["international", "国际级"],
    ("appraisal", "level"): ["international"],
    ("book", "level"): ["county", "international", "国际级"],
    ("proceedings", "scope"): ["county", "international"],
    ("conference_paper", "level"): ["county", "县区级"],
    ("award", "tier"): ["appraisal", "鉴定成果"],
    ("conference_paper", "tier"): ["appraisal"],
    ("paper", "venue"): ["national", "国际级"],
}
BAD_KINDS = ["essay", "Paper", "PAPER", "paper ", "", "papers", "论文 ", "thesis", "学时"]
OTHER_FIELDS = sorted({f for fields in KINDS.values() for f in fields} | {"note", "Hours"})


def _too_small(spec: Field) -> list[Any]:
    if spec.positive:
        return [0, D("0.0"), D("-0.5"), -3]
    if spec.minimum == 1:
        return [0, -1]
    return [-1, -1000] if spec.type == "int" else [-1, D("-0.1")]


def _mutate_field(rng: random.Random, record: Record) -> Record:
    """One field made wrong: missing, mistyped, out of range or an unknown member."""
    kind = record["kind"]
    name = rng.choice(list(KINDS[kind]))
    spec = KINDS[kind][name]
    out = dict(record)
    how = rng.random()
    if how < 0.25 and spec.required:
        out.pop(name, None)
    elif how < 0.5:  # null is a wrong type, for an optional field too
        out[name] = rng.choice(WRONG[spec.type])
    elif spec.type in ("int", "number"):
        out[name] = rng.choice(_too_small(spec))
    elif spec.type == "enum" and spec.members is not None:
        allowed = {*spec.members, *spec.members.values()}
        bad = [m for m in BAD_MEMBERS + OUT_OF_RANGE.get((kind, name), []) if m not in allowed]
        out[name] = rng.choice(bad)
    else:
        out[name] = rng.choice(WRONG["bool"])
    if kind == "professional_course":  # keep exactly one of hours and days
        out.pop("days" if name == "hours" else "hours", None)
    return out


def _mutate_shape(rng: random.Random, record: Record) -> Record | Any:
    """One defect outside the kind's own fields."""
    out = dict(record)
    match rng.randrange(9):
        case 0:
            extra = rng.choice([f for f in OTHER_FIELDS if f not in KINDS[record["kind"]]])
            out[extra] = 1
        case 1:
            out["kind"] = rng.choice([*BAD_KINDS, 5, None, ["paper"]])
        case 2:
            out.pop(rng.choice(["kind", "year"]))
        case 3:
            out["year"] = rng.choice(["2021", True, D("2021.5"), None])
        case 4:
            out["year"] = rng.choice(LATE_YEARS)
        case 5:
            out["person"] = rng.choice([42, ["p1"], True])
        case 6:
            out["id"] = rng.choice([7, True])
        case 7:
            return rng.choice([[], "paper", 42, None])
        case _:
            return _mutate_pair(rng, out)
    return out


def _mutate_pair(rng: random.Random, record: Record) -> Record:
    """A defect between two fields: position beyond authors, or hours and days together."""
    base = {k: v for k, v in record.items() if k in COMMON}
    if rng.random() < 0.5:
        authors = rng.randint(1, 5)
        fields = {"words": 3000, "authors": authors, "position": authors + rng.randint(1, 3)}
        return {**base, "kind": "paper", "venue": "cn_serial", **fields}
    both = rng.random() < 0.5
    return {**base, "kind": "professional_course", **({"hours": 5, "days": 1} if both else {})}


def invalid(rng: random.Random, year: int, person: str) -> Any:
    record = {"kind": (kind := rng.choice(list(KINDS))), "year": year, "person": person}
    record |= _fields(rng, kind)
    return (_mutate_field if rng.random() < 0.55 else _mutate_shape)(rng, record)


# ── All streams ──────────────────────────────────────────────────────────────────────

NAMES = ["张三", "李四", "王芳", "Zoe", "zoe", "p-1", "p_1", ""]  # sorted by code point


def generate(seed: int, n_records: int = 24_000, n_persons: int = 360) -> list[Any]:
    """About `n_records` records over at least `n_persons` persons, in shuffled order."""
    rng = random.Random(seed)
    persons = [f"s{i:04d}" for i in range(n_persons)]
    fuzzed = [f"f{i:03d}" for i in range(60)] + NAMES
    records: list[Any] = catalog(rng, [f"c{i:02d}" for i in range(40)])
    for person in persons:
        records += scenario(rng, person)
    for _ in range(n_records // 6):
        person = rng.choice(persons + fuzzed)
        records.append(invalid(rng, rng.choice(HOURS_YEARS + CREDIT_YEARS), person))
    while len(records) < n_records:
        years = (*HOURS_YEARS, *CREDIT_YEARS, 1990, 2005)
        year = rng.choice(years if rng.random() < 0.9 else LATE_YEARS)
        owner = rng.choice(fuzzed) if rng.random() < 0.97 else None
        records.append(valid(rng, rng.choice(list(KINDS)), year, owner))
    rng.shuffle(records)
    return [_with_id(rng, i, r) for i, r in enumerate(records, 1)]


def _with_id(rng: random.Random, i: int, record: Any) -> Any:
    """Most records carry an id; the rest default to their 1-based position."""
    if not isinstance(record, dict) or "id" in record or rng.random() < 0.05:
        return record
    return {"id": f"r{i}", **record}


def to_json(record: object) -> str:
    """One JSON Lines line; decimals written as JSON numbers, digit for digit."""
    marked = json.dumps(record, ensure_ascii=False, default=lambda d: f"\x00{d}\x00")
    return re.sub(r'"\\u0000([^"]*)\\u0000"', r"\1", marked)


if __name__ == "__main__":
    for record in generate(int(sys.argv[1]) if len(sys.argv) > 1 else 0):
        print(to_json(record))
