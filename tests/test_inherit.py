"""A policy that extends another: every kind of change, evaluated; lineage; documents.

Each test writes a small base policy and a policy built on it into a temporary folder,
loads the second, and checks exact amounts from its records. The checks that refuse a
wrong change (override of nothing, double changes, years) are in `tests/check/`.
"""

from pathlib import Path

import pytest

import engine
from engine.views.document import Document, markdown

BASE = """
policy base "基础"

regime early "早期" {
    years 2018..2019
    unit points "分"
    cite "早"
}

regime late "后期" {
    years 2020..2021
    unit points "分"
    cite "后"
}

category c "类别"

enum level "级别" ordered {
    low  "低"
    high "高"
}

enum tier "等次" {
    first  "一等"
    second "二等"
}

param bonus "加分" = 1 cite "§1"

kind k "种类" {
    level "级别": level
    tier "等次": tier
    n "数": int >= 0
}

table t(level, tier) -> int "表" cite "§2"
{
    | 级别 | 一等 | 二等 |
    | 低   | 2    | 1    |
    | 高   | 4    | 3    |
}

table b(n: int) -> int "分段" cite "§3"
{
    | 数     | 分 |
    | [0, 5) | 10 |
    | >= 5   | 20 |
}

function double(x: int) -> int "加倍" cite "§4"
{
    return x * 2
}

rule k "种类" {
    category c
    cite "§5"
    amount double(t[level, tier]) + b[n] + bonus
}

summary year in early, late "年度" {
    cite "§6"
    show total "合计" = sum(c)
    requirement total >= 30
}
"""

HEAD = 'policy child "子政策" extends "../base" years 2022..\n'
LATE_ON = "override regime late { years 2020.. }\n"  # unit, label and cite: the base's


def build(tmp_path: Path, child: str, base: str = BASE) -> engine.Policy:
    (tmp_path / "base").mkdir(exist_ok=True)
    (tmp_path / "base" / "base.rules").write_text(base, encoding="utf-8")
    (tmp_path / "child").mkdir(exist_ok=True)
    (tmp_path / "child" / "child.rules").write_text(HEAD + LATE_ON + child, encoding="utf-8")
    return engine.load(tmp_path / "child")


def amount(policy: engine.Policy, year: int = 2022, **fields: object) -> object:
    record = {"kind": "k", "year": year, "level": "high", "tier": "first", "n": 1, **fields}
    return policy.evaluate(record)["amount"]


def test_the_base_alone(tmp_path: Path) -> None:
    (tmp_path / "base").mkdir()
    (tmp_path / "base" / "base.rules").write_text(BASE, encoding="utf-8")
    base = engine.load(tmp_path / "base")
    assert amount(base, 2021) == 4 * 2 + 10 + 1  # t[high, first] doubled, b[1], bonus


def test_nothing_changed_is_the_base_in_its_own_years(tmp_path: Path) -> None:
    child = build(tmp_path, "")
    assert amount(child) == 19
    assert child.years == (2022, None)
    [late] = child.regimes
    assert (late.name, late.label, late.first, late.last) == ("late", "后期", 2022, None)
    assert (late.unit, late.unit_label, late.cite.keys) == ("points", "分", ((None, "后"),))
    with pytest.raises(engine.RecordError) as caught:
        child.evaluate({"kind": "k", "year": 2021, "level": "low", "tier": "first", "n": 0})
    assert caught.value.code == "no_policy_in_force"
    assert "covers: late 2022.." in str(caught.value)
    assert child.lineage is not None and child.lineage.base == "base"


def test_override_one_cell_by_label_or_name(tmp_path: Path) -> None:
    child = build(tmp_path, "override table t[高, first] = 7\n")
    assert amount(child) == 7 * 2 + 10 + 1
    assert amount(child, tier="second") == 3 * 2 + 10 + 1  # the other cells stay
    [change] = [c for c in child.lineage.changes if c.what == "cell"]
    assert (change.name, change.old, change.new) == ("t[high, first]", "4", "7")


def test_override_a_row_as_a_grid(tmp_path: Path) -> None:
    child = build(tmp_path, "override table t {\n| 级别 | 一等 | 二等 |\n| 高 | 9 | 8 |\n}\n")
    assert amount(child) == 9 * 2 + 11
    assert amount(child, tier="second") == 8 * 2 + 11
    assert amount(child, level="low") == 2 * 2 + 11


def test_override_a_bracket_row(tmp_path: Path) -> None:
    child = build(tmp_path, "override table b[>= 5] = 50\n")
    assert amount(child, n=7) == 8 + 50 + 1
    assert amount(child, n=4) == 8 + 10 + 1


def cites(policy: engine.Policy, **fields: object) -> list[tuple[str, str]]:
    record = {"kind": "k", "year": 2022, "level": "high", "tier": "first", "n": 1, **fields}
    return [(s["step"], s["cite"]) for s in policy.evaluate(record)["trace"]]


def test_a_changed_cell_cites_its_own_clause(tmp_path: Path) -> None:
    child = build(
        tmp_path,
        'override table t[高, first] = 7 cite "新§2"\n'
        'override table t cite "新§2(2)" {\n| 级别 | 二等 |\n| 低 | 5 |\n}\n',
    )
    assert ("t[high, first]", "新§2") in cites(child)
    assert ("t[low, second]", "新§2(2)") in cites(child, level="low", tier="second")
    assert ("t[high, second]", "§2") in cites(child, tier="second")  # unchanged: the table's
    assert ("b[1]", "§3") in cites(child)
    [first, second] = [c for c in child.lineage.changes if c.what == "cell"]
    assert (first.name, first.old, first.new) == ("t[high, first]", "4", "7")
    assert first.cite is not None and first.cite.keys == ((None, "新§2"),)
    assert second.cite is not None and second.cite.keys == ((None, "新§2(2)"),)
    text = markdown(Document(child).blocks())
    assert "| 改动 | 表格单元 | `t[high, first]` | 4 | 7 | 新§2 | child.rules:3 |" in text
    assert "| 高 | 7（原 4；依据 新§2） | 3 |" in text
    assert "| 低 | 2 | 5（原 1；依据 新§2(2)） |" in text


def test_a_policy_built_on_an_amendment_keeps_its_cells_cites(tmp_path: Path) -> None:
    build(tmp_path, 'override table t[高, first] = 7 cite "新§2"\n')
    (tmp_path / "top").mkdir()
    (tmp_path / "top" / "top.rules").write_text(
        'policy top extends "../child" years 2024..\noverride table t[低, first] = 6\n'
        'override table b[>= 5] = {\n| [5, 9) | 30 |\n| >= 9 | 40 |\n} cite "顶§3"\n',
        encoding="utf-8",
    )  # fmt: skip
    top = engine.load(tmp_path / "top")
    record = {"kind": "k", "year": 2024, "level": "high", "tier": "first", "n": 9}
    steps = [(s["step"], s["cite"], s["value"]) for s in top.evaluate(record)["trace"]]
    assert ("t[high, first]", "新§2", 7) in steps and ("b[9]", "顶§3", 40) in steps
    record = {**record, "level": "low", "n": 0}
    steps = [(s["step"], s["cite"], s["value"]) for s in top.evaluate(record)["trace"]]
    assert ("t[low, first]", "§2", 6) in steps and ("b[0]", "§3", 10) in steps


def test_split_a_bracket_row_in_one_override(tmp_path: Path) -> None:
    child = build(tmp_path, 'override table b[>= 5] = {\n| [5, 9) | 20 |\n| >= 9 | 40 |\n}'
                  ' cite "新§3"\n')  # fmt: skip
    expected = [8 + x + 1 for x in (10, 20, 20, 40, 40)]
    assert [amount(child, n=n) for n in (4, 5, 8, 9, 100)] == expected
    assert ("b[9]", "新§3") in cites(child, n=9) and ("b[4]", "§3") in cites(child, n=4)
    [split] = [c for c in child.lineage.changes if c.what == "split"]
    assert (split.name, split.old, split.new) == ("b[>= 5]", "20", "[5, 9): 20；>= 9: 40")
    rows = [r.cells[0] for r in child.model.symbols.tables["b"].rows[1:]]
    assert [r.low for r in rows] == [0, 5, 9]  # in the old row's place
    text = markdown(Document(child).blocks())
    assert "| [5, 9)（由 >= 5 拆分） | 20（依据 新§3） |" in text
    assert "| >= 9（由 >= 5 拆分） | 40（原 20；依据 新§3） |" in text
    assert "| 改动 | 拆分的表格行 | `b[>= 5]` | 20 | [5, 9): 20；>= 9: 40 | 新§3 |" in text


def test_an_amendment_after_a_gap(tmp_path: Path, capsys) -> None:
    from engine.tools.cli import main

    (tmp_path / "base").mkdir()
    (tmp_path / "base" / "base.rules").write_text(BASE, encoding="utf-8")
    (tmp_path / "child").mkdir()
    (tmp_path / "child" / "child.rules").write_text(
        'policy child extends "../base" years 2024.. gap 2022..2023\n' + LATE_ON,
        encoding="utf-8",
    )
    child = engine.load(tmp_path / "child")
    assert child.lineage is not None and child.lineage.gap == (2022, 2023)
    assert amount(child, year=2024) == 4 * 2 + 10 + 1
    with pytest.raises(engine.RecordError) as caught:
        amount(child, year=2023)
    assert caught.value.message == (
        "no rule of policy `child` is in force for `year` 2023; it covers: late 2024..; "
        "2022–2023 is the gap that `child` (2024..) leaves after its base `base` "
        "(2018..2021): neither decides it"
    )
    text = markdown(Document(child).blocks())
    assert "适用 2024..。2022–2023 年度是两套政策之间的空档（`gap 2022..2023`）" in text
    assert main(["check", str(tmp_path / "child")]) == 0
    assert "extends base after a gap of 2022..2023, years 2024.." in capsys.readouterr().out


def test_override_a_whole_table_keeps_its_label_and_cite(tmp_path: Path) -> None:
    child = build(
        tmp_path,
        "override table t(level, tier) -> int {\n| 级别 | 一等 | 二等 |\n"
        "| 低 | 0 | 0 |\n| 高 | 1 | 1 |\n}\n",
    )
    assert amount(child) == 1 * 2 + 11
    table = child.model.symbols.tables["t"]
    assert (table.label, table.cite.keys) == ("表", ((None, "§2"),))


def test_override_a_parameter(tmp_path: Path) -> None:
    child = build(tmp_path, 'override param bonus = 5 cite "新§1"\n')
    assert amount(child) == 8 + 10 + 5
    param = child.model.symbols.params["bonus"]
    assert (param.label, param.cite.keys) == ("加分", ((None, "新§1"),))


def test_override_a_function(tmp_path: Path) -> None:
    child = build(tmp_path, "override function double(x: int) -> int { return x * 3 }\n")
    assert amount(child) == 4 * 3 + 11


def test_override_a_rule_in_one_regime_keeps_the_base_rule_in_the_other(tmp_path: Path) -> None:
    rule = 'override rule k in early { category c cite "新§5" amount 100 }\n'
    (tmp_path / "base").mkdir()
    (tmp_path / "base" / "base.rules").write_text(BASE, encoding="utf-8")
    (tmp_path / "child").mkdir()
    (tmp_path / "child" / "child.rules").write_text(
        'policy child "子" extends "../base" years 2022..\n'
        'override regime early "早期" { years 2022..2023 unit points cite "早" }\n'
        'override regime late "后期" { years 2024.. unit points cite "后" }\n' + rule,
        encoding="utf-8",
    )
    child = engine.load(tmp_path / "child")
    assert amount(child, 2023) == 100
    assert amount(child, 2024) == 19
    kept = child.model.rules[("k", "late")]
    assert kept.decl.regimes == ("late",) and child.model.rules[("k", "early")].decl.cite.keys == (
        (None, "新§5"),
    )


def test_add_a_kind_with_its_rule(tmp_path: Path) -> None:
    child = build(
        tmp_path,
        'kind flat "定额" { sheets "张数": int >= 1 }\n'
        'param per "每张" = 3 cite "§9"\n'
        'rule flat { category c cite "§9" amount sheets * per }\n',
    )
    assert child.evaluate({"kind": "flat", "year": 2022, "sheets": 4})["amount"] == 12
    assert child.evaluate({"kind": "定额", "year": 2022, "sheets": 1})["amount"] == 3


def test_add_a_field_to_a_kind(tmp_path: Path) -> None:
    child = build(
        tmp_path,
        'extend kind k { extra "附加": int >= 0 = 0 }\n'
        "override rule k { category c amount double(t[level, tier]) + b[n] + bonus + extra }\n",
    )
    assert amount(child) == 19
    assert amount(child, extra=6) == 25
    assert "extra" in child.schema("k")["properties"]


def test_add_an_enum_member_with_its_table_row_and_column(tmp_path: Path) -> None:
    child = build(
        tmp_path,
        'extend enum level { top "顶" }\n'
        'extend enum tier { third "三等" }\n'
        "extend table t {\n| 级别 | 一等 | 二等 | 三等 |\n| 顶 | 6 | 5 | 4 |\n}\n"
        "extend table t {\n| 级别 | 三等 |\n| 低 | 0 |\n| 高 | 2 |\n}\n",
    )
    assert "top" in child.model.symbols.members("level")
    assert amount(child, level="top", tier="third") == 4 * 2 + 11
    assert amount(child, level="顶", tier="first") == 6 * 2 + 11
    assert amount(child, level="high", tier="三等") == 2 * 2 + 11


def test_add_a_bracket_row(tmp_path: Path) -> None:
    bounded = BASE.replace("| >= 5   | 20 |", "| [5, 10) | 20 |")
    bounded = bounded.replace('n "数": int >= 0', 'n "数": int in 0..9')
    child = build(
        tmp_path,
        'override kind k "种类" { level "级别": level  tier "等次": tier  n "数": int >= 0 }\n'
        "extend table b {\n| 数 | 分 |\n| >= 10 | 30 |\n}\n",
        bounded,
    )
    assert amount(child, n=12) == 8 + 30 + 1
    assert amount(child, n=9) == 8 + 20 + 1


def test_override_an_enum_and_a_kind_whole(tmp_path: Path) -> None:
    child = build(
        tmp_path,
        'override kind k "种类" { level "级别": level  tier "等次": tier  n "数": int >= 2 }\n',
    )
    with pytest.raises(engine.RecordError) as caught:
        child.evaluate({"kind": "k", "year": 2022, "level": "low", "tier": "first", "n": 1})
    assert caught.value.field == "n"
    assert amount(child, n=2) == 19


def test_override_a_summary(tmp_path: Path) -> None:
    child = build(
        tmp_path,
        'override summary year in early, late "年度" { cite "§6" show total = sum(c)'
        " requirement total >= 10 }\n",
    )
    rows = child.report([{"person": "p", "kind": "k", "year": 2022, "level": "low",
                          "tier": "second", "n": 0}])  # fmt: skip
    assert rows[0]["total"] == 1 * 2 + 10 + 1
    assert rows[0]["qualified"] is True  # 13 >= 10; the base asked for 30


def test_a_policy_can_extend_one_that_extends_another(tmp_path: Path) -> None:
    build(tmp_path, "override param bonus = 2\n")
    (tmp_path / "grandchild").mkdir()
    (tmp_path / "grandchild" / "g.rules").write_text(
        'policy grandchild extends "../child" years 2024..\noverride table t[高, 一等] = 0\n',
        encoding="utf-8",
    )
    policy = engine.load(tmp_path / "grandchild")
    assert amount(policy, 2024) == 0 + 10 + 2  # the cell from here, the bonus from child
    assert policy.lineage.base == "child"
    with pytest.raises(engine.RecordError):
        policy.evaluate({"kind": "k", "year": 2023, "level": "low", "tier": "first", "n": 0})


def test_the_version_follows_the_base(tmp_path: Path) -> None:
    first = build(tmp_path, "").version
    (tmp_path / "base" / "base.rules").write_text(BASE.replace("= 1 cite", "= 2 cite"))
    assert engine.load(tmp_path / "child").version != first


def test_the_document_shows_what_is_inherited_and_what_changed(tmp_path: Path) -> None:
    child = build(
        tmp_path, "override table t[高, first] = 7\noverride param bonus = 5\nkind new { x: int }\n"
        'rule new { category c cite "§9" amount x }\n',
    )  # fmt: skip
    text = markdown(Document(child).blocks())
    assert "本政策以 `base`" in text and "适用 2022.." in text
    assert "| 改动 | 表格单元 | `t[high, first]` | 4 | 7 |   | child.rules:3 |" in text
    assert "| 改动 | 参数 | `bonus` | 1 | 5 |   | child.rules:4 |" in text
    assert "| 新增 | 记录种类 | `new` |   | x |   | child.rules:5 |" in text
    assert "| 高 | 7（原 4） | 3 |" in text
    assert "### `t` 表 【改动】" in text
    assert "### `b` 分段\n" in text  # inherited as is: no mark


def test_rules_check_reports_a_policy_that_extends(tmp_path: Path, capsys) -> None:
    from engine.tools.cli import main

    build(tmp_path, "")
    assert main(["check", str(tmp_path / "child")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("child ")
    assert "2 files, extends base, years 2022.., 1 kind, 2 tables, 2 rules" in out
