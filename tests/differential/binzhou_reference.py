"""An independent implementation of Binzhou's 2021 continuing-education notice.

Written from the notice (滨人社信函〔2021〕7号 and its attachment 《学时（学分）折算说明》),
not from the engine or its `.rules` files, so that the differential test can compare
the two. Input: records as plain dicts (numbers as `int`, `Decimal`, or `float` read by its
shortest repr; a whole `2.0` counts as an integer, as in JSON); output:
results shaped like the engine's (`evaluate`) and report rows (`report`). All
arithmetic is exact `Decimal`. An invalid record lists every defect it has as
`(code, fields)` pairs, because the engine need report only one of them.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

D = Decimal

# ── Regimes: 附件一 (学时, 2020–2021) and 附件二 (学分, 2019 年度及以前) ──────────────

HOURS_FIRST, HOURS_LAST = 2020, 2021  # 附件一 标题：适用于 2020-2021 年度
CREDITS_LAST = 2019  # 附件二 标题：适用于 2019 及以前年度


def regime_of(year: int) -> str | None:
    """`hours`, `credits`, or None when the notice is not in force for `year`."""
    if year <= CREDITS_LAST:
        return "credits"
    if HOURS_FIRST <= year <= HOURS_LAST:
        return "hours"
    return None


# ── Vocabulary: enums (canonical name → Chinese label) ───────────────────────────────

LEVELS = {
    "county": "县区级",
    "city": "地市级",
    "provincial": "省部级",
    "national": "国家级",
    "international": "国际级",
}
LEVEL_ORDER = list(LEVELS)  # from low to high
TIERS = {"first": "一等奖", "second": "二等奖", "third": "三等奖"}
PATENT_TYPES = {"invention": "发明专利", "utility_model": "实用新型专利", "design": "外观设计专利"}
VENUES = {
    "cn_serial": "全国统一刊号",
    "provincial_permit": "省内部资料准印证",
    "city_permit": "地市准印刊号",
    "international": "国外刊物",
    "none": "无刊号",
}
KIND_LABELS = {
    "public_course": "公需科目",
    "professional_course": "专业科目",
    "xuexi_qiangguo": "学习强国",
    "lecture": "学术讲座",
    "seminar": "高级研修班",
    "overseas": "考察留学",
    "award": "成果奖项",
    "appraisal": "鉴定成果",
    "patent": "专利",
    "paper": "论文",
    "abstract": "文摘",
    "proceedings": "论文集",
    "conference_paper": "交流论文",
    "book": "专著",
    "degree": "学历教育",
    "self_study_exam": "自学考试",
}


def _levels(low: str, high: str) -> dict[str, str]:
    """The levels from `low` to `high`, inclusive."""
    names = LEVEL_ORDER[LEVEL_ORDER.index(low) : LEVEL_ORDER.index(high) + 1]
    return {name: LEVELS[name] for name in names}


# ── Record fields ────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class Field:
    """One field: its type (`number`, `int`, `bool`, `enum`), bound and presence."""

    type: str
    minimum: int | None = None  # inclusive lower bound
    positive: bool = False  # strictly greater than 0
    members: Mapping[str, str] | None = None  # for enums: canonical name → label
    required: bool = True
    default: Any = None


NUM0 = Field("number", minimum=0)
INT0 = Field("int", minimum=0)
INT1 = Field("int", minimum=1)
WRITING = {"words": INT0, "authors": INT1, "position": INT1}
AWARD_LEVELS = _levels("county", "national")
OPTIONAL_TIER = Field("enum", members=TIERS, required=False)

KINDS: dict[str, dict[str, Field]] = {
    "public_course": {"hours": NUM0, "passed": Field("bool", required=False, default=True)},
    "professional_course": {
        "hours": Field("number", minimum=0, required=False),
        "days": Field("int", minimum=1, required=False),
    },
    "xuexi_qiangguo": {"points": INT0},
    "lecture": {"credits": NUM0},
    "seminar": {"credits": NUM0},
    "overseas": {"months": Field("number", positive=True)},
    "award": {
        "level": Field("enum", members=AWARD_LEVELS),
        "tier": OPTIONAL_TIER,
        "rank": INT1,
    },
    "appraisal": {"level": Field("enum", members=AWARD_LEVELS), "rank": INT1},
    "patent": {"patent_type": Field("enum", members=PATENT_TYPES), "rank": INT1},
    "paper": {"venue": Field("enum", members=VENUES), **WRITING},
    "abstract": {"venue": Field("enum", members=VENUES), **WRITING},
    "proceedings": {"scope": Field("enum", members=_levels("city", "national")), **WRITING},
    "conference_paper": {
        "level": Field("enum", members=_levels("city", "international")),
        "tier": OPTIONAL_TIER,
        **WRITING,
    },
    "book": {"level": Field("enum", members=_levels("city", "national")), "position": INT1},
    "degree": {"passed": Field("bool")},
    "self_study_exam": {"subjects": INT1},
}
COMMON = ("id", "person", "year", "kind")
CATEGORY = {  # fixed per kind in both regimes
    "public_course": "public",
    "xuexi_qiangguo": "public",
    "professional_course": "professional",
    "lecture": "professional",
    "seminar": "professional",
}

# ── Validation ───────────────────────────────────────────────────────────────────────

Defect = tuple[str, frozenset[str | None]]  # (error code, fields the engine may name)


def _bad(field: str | None, *others: str) -> Defect:
    return ("invalid_record", frozenset({field, *others}))


def _is_number(value: object) -> bool:
    """A finite number; booleans are not numbers (floats are read by their shortest repr)."""
    if isinstance(value, Decimal | float):
        return math.isfinite(value)
    return isinstance(value, int) and not isinstance(value, bool)


def _whole(value: object) -> int | None:
    """A whole number as `int`: `2` and `2.0` are whole (as in JSON), `2.5`, `"2"`, `true` not."""
    if not _is_number(value):
        return None
    number = D(str(value))
    return int(number) if number == number.to_integral_value() else None


def _is_int(value: object) -> bool:
    return _whole(value) is not None


def _canonical(value: object, members: Mapping[str, str]) -> str | None:
    """The canonical member named by `value` (a name or a label), else None."""
    if not isinstance(value, str):
        return None
    for name, label in members.items():
        if value in (name, label):
            return name
    return None


def _field_ok(spec: Field, value: object) -> bool:
    if spec.type == "bool":
        return isinstance(value, bool)
    if spec.type == "enum":
        assert spec.members is not None
        return _canonical(value, spec.members) is not None
    if not (_is_int(value) if spec.type == "int" else _is_number(value)):
        return False
    number = D(str(value))
    if spec.positive and number <= 0:
        return False
    return spec.minimum is None or number >= spec.minimum


def _common_defects(record: Mapping[str, Any], need_person: bool) -> list[Defect]:
    found: list[Defect] = []
    if "id" in record and not isinstance(record["id"], str):
        found.append(_bad("id"))
    if "person" in record:
        if not isinstance(record["person"], str):
            found.append(_bad("person"))
    elif need_person:
        found.append(_bad("person"))  # report groups by person
    year = _whole(record.get("year"))
    if year is None:
        found.append(_bad("year"))
    elif regime_of(year) is None:
        found.append(("no_policy_in_force", frozenset({"year"})))
    return found


def _kind_defects(kind: str, record: Mapping[str, Any]) -> list[Defect]:
    fields = KINDS[kind]
    found = [_bad(name) for name in record if name not in fields and name not in COMMON]
    for name, spec in fields.items():
        if name not in record:
            if spec.required:
                found.append(_bad(name))
        elif not _field_ok(spec, record[name]):
            found.append(_bad(name))
    if kind == "professional_course" and ("hours" in record) == ("days" in record):
        found.append(_bad("hours", "days"))  # exactly one of hours, days
    if "position" in fields and "authors" in fields:
        position, authors = _whole(record.get("position")), _whole(record.get("authors"))
        if position is not None and authors is not None and position > authors:
            found.append(_bad("position"))
    return found


def defects(record: object, need_person: bool = False) -> list[Defect]:
    """Every defect of `record`; empty when it is valid."""
    if not isinstance(record, Mapping):
        return [("invalid_record", frozenset({None}))]  # not an object at all
    found = _common_defects(record, need_person)
    if "kind" not in record:
        return [*found, _bad("kind")]
    kind = _canonical(record["kind"], KIND_LABELS)
    if kind is None:
        # A kind that is not text at all may be called a schema error or an unknown kind.
        code = "unknown_kind"
        alternatives = [] if isinstance(record["kind"], str) else [_bad("kind")]
        return [*found, (code, frozenset({"kind"})), *alternatives]
    return found + _kind_defects(kind, record)


# ── Shared tables: 附件一(二)/附件二(五) and 附件一(三)/附件二(六) ──────────────────────

# 成果：行 级别，列 一等奖 二等奖 三等奖 鉴定成果 (identical in both regimes)
ACHIEVEMENTS = {
    "county": (15, 13, 11, 8),
    "city": (25, 20, 15, 10),
    "provincial": (35, 30, 25, 15),
    "national": (40, 35, 30, 20),
}
ACHIEVEMENT_COLUMNS = ("first", "second", "third", "appraisal")  # high to low

# 论文著作：论文 · 专著 优秀 良好 一般 · 交流论文 一等奖 二等奖 三等奖; None = the notice is silent
PUBLICATIONS: dict[str, tuple[int | None, ...]] = {
    "city": (5, 15, 12, 10, 3, 2, 1),
    "provincial": (10, 20, 17, 14, 8, 6, 4),
    "national": (15, 30, 25, 20, 12, 9, 6),
    "international": (25, None, None, None, 18, 12, 8),
}
PUBLICATION_COLUMNS = ("paper", "excellent", "good", "fair", "first", "second", "third")


def achievement(level: str, column: str) -> int:
    return ACHIEVEMENTS[level][ACHIEVEMENT_COLUMNS.index(column)]


def publication(level: str, column: str) -> int:
    value = PUBLICATIONS[level][PUBLICATION_COLUMNS.index(column)]
    assert value is not None, "validation keeps records away from the table's holes"
    return value


# ── Conversions, one function per kind ───────────────────────────────────────────────

FRONT_RANKS = 3  # 附件一(二)2：前三位人员按其奖项级别等次


@dataclass(frozen=True)
class Amount:
    """A record's amount, or a zero with the reason it is not counted."""

    value: Decimal
    reason: str | None = None


NOT_APPLICABLE = Amount(D(0), "not_applicable")


def award(r: Mapping[str, Any], regime: str) -> Amount:
    """附件一(二)2 / 附件二(五)2: tiered and untiered awards."""
    rank = r["rank"]
    if "tier" in r:
        column = r["tier"]
        if rank > FRONT_RANKS:  # 第四位以后人员均按相应级别的下一等次 (三等奖 → 鉴定成果)
            column = ACHIEVEMENT_COLUMNS[ACHIEVEMENT_COLUMNS.index(column) + 1]
    else:  # 无等次：前三位一等奖，第四至第六位二等奖，第七位及以后三等奖
        column = "first" if rank <= 3 else "second" if rank <= 6 else "third"
    return Amount(D(achievement(r["level"], column)))


def appraisal_value(level: str, rank: int) -> int:
    """附件一(二)2: 鉴定成果 — front ranks by level, later ranks one level down; county → 5."""
    if rank <= FRONT_RANKS:
        return achievement(level, "appraisal")
    if level == "county":
        return 5  # 县区级鉴定成果的第四位以后人员均记 5 学时
    return achievement(LEVEL_ORDER[LEVEL_ORDER.index(level) - 1], "appraisal")


def appraisal(r: Mapping[str, Any], regime: str) -> Amount:
    return Amount(D(appraisal_value(r["level"], r["rank"])))


PATENT_LEVEL = {"invention": "national", "utility_model": "provincial", "design": "city"}


def patent(r: Mapping[str, Any], regime: str) -> Amount:
    """附件一(二)2: patents are appraisals of a fixed level, with the same rank rule."""
    return Amount(D(appraisal_value(PATENT_LEVEL[r["patent_type"]], r["rank"])))


MIN_WORDS = 1000  # 附件一(三)：各类论文须达到或超过 1000 字以上
JOURNAL_LEVEL = {
    "cn_serial": "national",  # 全国统一刊号 → 国家级
    "provincial_permit": "provincial",  # 省内部资料准印证 → 省级
    "city_permit": "city",  # 地市准印刊号 → 市级
    "international": "international",  # 国外刊物 → the table's 国际级 row
}


def share(total: int, authors: int, position: int) -> Decimal:
    """附件一(三): split evenly in whole units, the remainder to the first authors in order."""
    base, remainder = divmod(total, authors)
    return D(base + 1 if position <= remainder else base)


def _writing(r: Mapping[str, Any], level: str | None, column: str) -> Amount:
    """The common path of the four paper kinds: length, serial number, co-author split."""
    if r["words"] < MIN_WORDS:
        return Amount(D(0), "too_short")
    if level is None:  # 在无刊号的印刷物上发表的文章，不记学时
        return Amount(D(0), "no_serial_number")
    return Amount(share(publication(level, column), r["authors"], r["position"]))


def paper(r: Mapping[str, Any], regime: str) -> Amount:
    """附件一(三)1: a journal paper at the level of its serial number."""
    return _writing(r, JOURNAL_LEVEL.get(r["venue"]), "paper")


def abstract(r: Mapping[str, Any], regime: str) -> Amount:
    """附件一(三)1: 各类文摘按相当刊物级别的交流论文三等奖."""
    return _writing(r, JOURNAL_LEVEL.get(r["venue"]), "third")


def proceedings(r: Mapping[str, Any], regime: str) -> Amount:
    """附件一(三)2: 论文集、增刊一律按交流论文三等奖, level = the collection's scope."""
    return _writing(r, r["scope"], "third")


def conference_paper(r: Mapping[str, Any], regime: str) -> Amount:
    """附件一(三)2: 会议交流论文 — its tier if it has one, else 三等奖."""
    return _writing(r, r["level"], r.get("tier", "third"))


def book(r: Mapping[str, Any], regime: str) -> Amount:
    """附件一(三)3: 第一撰稿人优秀，第二、三良好、一般，第三位以后按同级发表论文 (no split)."""
    column = {1: "excellent", 2: "good", 3: "fair"}.get(r["position"], "paper")
    return Amount(D(publication(r["level"], column)))


# 附件一(一): hours abroad by whole months (满 N 个月 = months >= N)
ABROAD_HOURS = ((1, 15), (2, 20), (3, 25), (4, 30))  # (below this many months, amount)
ABROAD_CREDITS = ((1, 15), (2, 20), (3, 25), (4, 30), (6, 35))


def overseas(r: Mapping[str, Any], regime: str) -> Amount:
    """附件一(一) / 附件二(四): visits and study abroad by duration."""
    months = r["months"]
    steps = ABROAD_HOURS if regime == "hours" else ABROAD_CREDITS
    for below, amount in steps:
        if months < below:
            return Amount(D(amount))
    if regime == "hours" or months <= 12:  # 学时：满四个月以上 35；学分：半年至一年 40
        return Amount(D(35 if regime == "hours" else 40))
    # 一年以上每超过二个月增记 5 学分
    return Amount(D(40 + 5 * math.floor((months - 12) / 2)))


def degree(r: Mapping[str, Any], regime: str) -> Amount:
    """附件一(四) / 附件二(七): 学习期间考试成绩合格计 20."""
    return Amount(D(20)) if r["passed"] else Amount(D(0), "not_passed")


def self_study_exam(r: Mapping[str, Any], regime: str) -> Amount:
    """附件一(四) / 附件二(七): 自学考试每科计 5."""
    return Amount(D(5 * r["subjects"]))


def public_course(r: Mapping[str, Any], regime: str) -> Amount:
    """正文一 (its hours) / 附件二(一) (公修科目培训合格的，计 15 学分)."""
    if not r.get("passed", True):
        return Amount(D(0), "not_passed")
    return Amount(r["hours"] if regime == "hours" else D(15))


HOURS_PER_DAY = 5  # 附件二(二)：脱产、半脱产培训一般按每日 5 学时计算 (also in hours)


def professional_course(r: Mapping[str, Any], regime: str) -> Amount:
    """正文一 / 附件二(二): 每 5 学时折算为 1 学分, exactly (12 hours → 2.4 credits)."""
    hours = r["hours"] if "hours" in r else D(r["days"] * HOURS_PER_DAY)
    return Amount(hours if regime == "hours" else hours / 5)


def xuexi_qiangguo(r: Mapping[str, Any], regime: str) -> Amount:
    """附件二(一): 2019 年度通过“学习强国平台”学习满 2000 分的，计公需科目 15 学分."""
    if regime == "hours" or r["year"] != 2019:
        return NOT_APPLICABLE
    return Amount(D(15)) if r["points"] >= 2000 else Amount(D(0), "below_threshold")


def certificate_credits(r: Mapping[str, Any], regime: str) -> Amount:
    """附件二(二) lectures, 附件二(三) seminars: the credits the certificate gives."""
    return NOT_APPLICABLE if regime == "hours" else Amount(r["credits"])


RULES: dict[str, Callable[[Mapping[str, Any], str], Amount]] = {
    "public_course": public_course,
    "professional_course": professional_course,
    "xuexi_qiangguo": xuexi_qiangguo,
    "lecture": certificate_credits,
    "seminar": certificate_credits,
    "overseas": overseas,
    "award": award,
    "appraisal": appraisal,
    "patent": patent,
    "paper": paper,
    "abstract": abstract,
    "proceedings": proceedings,
    "conference_paper": conference_paper,
    "book": book,
    "degree": degree,
    "self_study_exam": self_study_exam,
}

# ── One record ───────────────────────────────────────────────────────────────────────


def number(value: Decimal) -> int | Decimal:
    """An `int` where the value is whole, else the exact `Decimal`."""
    return int(value) if value == value.to_integral_value() else value


def _normalized(record: Mapping[str, Any]) -> dict[str, Any]:
    """The (valid) record with canonical names, integers as `int`, numbers as `Decimal`."""
    kind = _canonical(record["kind"], KIND_LABELS)
    assert kind is not None
    out: dict[str, Any] = {**record, "kind": kind, "year": int(record["year"])}
    for name, spec in KINDS[kind].items():
        if name not in out:
            continue
        if spec.members is not None:
            out[name] = _canonical(out[name], spec.members)
        elif spec.type in ("int", "number"):
            value = D(str(out[name]))
            out[name] = int(value) if spec.type == "int" else value
    return out


def evaluate(record: object, position: int = 1, need_person: bool = False) -> dict[str, Any]:
    """The result of one record (`position` is its 1-based place in the batch)."""
    rid = record.get("id", position) if isinstance(record, Mapping) else position
    found = defects(record, need_person)
    if found:
        code, fields = found[0]
        return {"id": rid, "error": {"code": code, "field": min(fields, key=str)}, "defects": found}
    assert isinstance(record, Mapping)
    r = _normalized(record)
    regime = regime_of(r["year"])
    assert regime is not None
    amount = RULES[r["kind"]](r, regime)
    result = {
        "id": rid,
        **({"person": r["person"]} if "person" in r else {}),
        "year": r["year"],
        "kind": r["kind"],
        "regime": regime,
        "unit": regime,
        "category": CATEGORY.get(r["kind"], "converted"),
        "amount": number(amount.value),
        "counted": amount.reason is None,
    }
    if amount.reason is not None:
        result["reason"] = amount.reason
    return result


def evaluate_many(records: Iterable[object]) -> list[dict[str, Any]]:
    return [evaluate(record, i) for i, record in enumerate(records, 1)]


# ── Yearly summaries and windows ─────────────────────────────────────────────────────

PUBLIC_REQUIRED, PROFESSIONAL_REQUIRED, TOTAL_REQUIRED = 30, 60, 90  # 正文一
CONVERTED_PUBLIC_CAP, CONVERTED_PROFESSIONAL_CAP = 5, 30  # 正文二(二)、附件一
PUBLIC_CREDIT_CAP = 15  # 附件二(一): 公需科目培训与学习强国二选一
WINDOWS = (("2017-2019", 2017, 2019, 60), ("2018-2019", 2018, 2019, 40))  # 正文一


def _sums(results: list[dict[str, Any]]) -> dict[str, Decimal]:
    sums = {"public": D(0), "professional": D(0), "converted": D(0)}
    for result in results:
        sums[result["category"]] += D(result["amount"])
    return sums


def hours_summary(p: Decimal, r: Decimal, c: Decimal) -> dict[str, Any]:
    """正文一, 正文二(二): converted hours fill the public gap first, then professional,
    then the rest of the public cap; the excess is not counted."""
    a = min(D(CONVERTED_PUBLIC_CAP), c, max(D(0), PUBLIC_REQUIRED - p))
    b = min(D(CONVERTED_PROFESSIONAL_CAP), c - a)
    a2 = min(CONVERTED_PUBLIC_CAP - a, c - a - b)
    public_total, professional_total = p + a + a2, r + b
    total = public_total + professional_total
    required = {"public": PUBLIC_REQUIRED, "professional": PROFESSIONAL_REQUIRED}
    required["total"] = TOTAL_REQUIRED
    achieved = {"public": public_total, "professional": professional_total, "total": total}
    shortfall = {k: number(max(D(0), required[k] - achieved[k])) for k in required}
    return {
        "public": number(p),
        "professional": number(r),
        "converted": number(c),
        "converted_to_public": number(a + a2),
        "converted_to_professional": number(b),
        "public_total": number(public_total),
        "professional_total": number(professional_total),
        "total": number(total),
        "required": required,
        "shortfall": shortfall,
        "qualified": all(achieved[k] >= required[k] for k in required),
    }


def credits_summary(p: Decimal, r: Decimal, c: Decimal) -> dict[str, Any]:
    """附件二: public credits capped at 15 a year; converted credits not capped."""
    public = min(p, D(PUBLIC_CREDIT_CAP))
    total = public + r + c
    return {
        "public": number(public),
        "professional": number(r),
        "converted": number(c),
        "total": number(total),
    }


def _year_row(person: str, year: int, results: list[dict[str, Any]]) -> dict[str, Any]:
    regime = results[0]["regime"]
    sums = _sums(results)
    summary = (hours_summary if regime == "hours" else credits_summary)(
        sums["public"], sums["professional"], sums["converted"]
    )
    return {"scope": "year", "person": person, "year": year, "regime": regime, **summary}


def _window_rows(person: str, years: dict[int, dict[str, Any]]) -> list[dict[str, Any]]:
    """正文一: 2017-2019 总计 60 学分、2018-2019 总计 40 学分为合格."""
    rows = []
    for name, first, last, required in WINDOWS:
        total = sum((D(row["total"]) for y, row in years.items() if first <= y <= last), D(0))
        rows.append(
            {
                "scope": "window",
                "person": person,
                "window": name,
                "regime": "credits",
                "total": number(total),
                "required": required,
                "qualified": total >= required,
            }
        )
    return rows


def report(records: Iterable[object]) -> list[dict[str, Any]]:
    """Year rows by person then year, each person's windows after their years, then errors.

    A person-year has a row when it has at least one valid record (counted or not); a
    person has windows when any valid record of theirs falls in the credits regime.
    """
    groups: dict[str, dict[int, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    errors = []
    for i, record in enumerate(records, 1):
        result = evaluate(record, i, need_person=True)
        if "error" in result:
            errors.append({"scope": "error", **result})
        else:
            groups[result["person"]][result["year"]].append(result)
    rows: list[dict[str, Any]] = []
    for person in sorted(groups):
        years = {y: _year_row(person, y, groups[person][y]) for y in sorted(groups[person])}
        rows += years.values()
        credit_years = {y: row for y, row in years.items() if row["regime"] == "credits"}
        if credit_years:
            rows += _window_rows(person, credit_years)
    return rows + errors
