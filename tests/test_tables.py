"""Tables as notices draw them — lists of several keys, number keys in grids, holes with a
reason, `otherwise` — in the views beside evaluation: coverage, `rules fmt`, `rules doc`,
`rules diff` and `rules explain`."""

from pathlib import Path

import pytest

import engine
from engine.running.coverage import Coverage
from engine.syntax.format import format_module
from engine.syntax.parse import parse
from engine.views.diff import diff
from engine.views.diffout import text
from engine.views.document import Document, markdown

HOURS = """\
regime r { years 2020.. unit hours "学时" cite "§0" }
category c
reason unlisted "通知未列"
reason minor "排序靠后不计"
enum level "级别" ordered { provincial "省部级" national "国家级" }
enum role "角色" { host "主持人" member "参与人" }
kind project { level: level  role: role  rank: int >= 1 }
table hours(level, role, rank: int) -> int "科研项目学时" cite "附件三" {
    | 级别   | 角色   | 排序   | 学时    |
    | 国家级 | 主持人 | 1      | 40      |
    | 国家级 | 参与人 | [2, 5] | 20      |
    | 国家级 | 参与人 | >= 6   | — minor |
    | 省部级 | 主持人 | 1      | 30      |
    otherwise not counted unlisted
}
rule project { category c cite "§1" amount hours[level, role, rank] }
"""


def project(level: str, role: str, rank: int) -> dict[str, object]:
    return {"id": "x", "person": "p", "year": 2020, "kind": "project", "level": level,
            "role": role, "rank": rank}  # fmt: skip


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    (tmp_path / "hours.rules").write_text(HOURS, encoding="utf-8")
    return tmp_path


def test_each_entry_and_the_otherwise_are_coverage_items(folder: Path) -> None:
    coverage = Coverage()
    policy = engine.load(folder, coverage=coverage)
    tables = sorted(what for _, what in coverage.items.values() if what.startswith("table"))
    assert tables == [
        "table `hours` cell [national × host × rank 1]",
        "table `hours` cell [national × member × rank >= 2 and rank <= 5]",
        "table `hours` cell [national × member × rank >= 6]",
        "table `hours` cell [provincial × host × rank 1]",
        "table `hours` otherwise (not counted unlisted)",
    ]
    for record in (project("national", "member", 9), project("provincial", "member", 1)):
        policy.evaluate(record)
    missed = sorted(what for _, what in coverage.missed() if what.startswith("table"))
    assert missed == [
        "table `hours` cell [national × host × rank 1]",
        "table `hours` cell [national × member × rank >= 2 and rank <= 5]",
        "table `hours` cell [provincial × host × rank 1]",
    ]


def test_fmt_keeps_lists_reasons_and_otherwise() -> None:
    module = parse(HOURS.replace("    otherwise", "  otherwise"), "hours.rules")
    formatted = format_module(module, HOURS)
    assert "    | 国家级 | 参与人 | >= 6   | — minor |" in formatted
    assert "    otherwise not counted unlisted\n}" in formatted
    assert parse(formatted, "hours.rules") == module
    assert format_module(parse(formatted, "x"), formatted) == formatted


def test_doc_draws_a_list_with_the_reasons_labels(folder: Path) -> None:
    document = markdown(Document(engine.load(folder)).blocks())
    assert (
        "| 级别 | 角色 | 排序 | 学时 |\n|---|---|---|---|\n| 国家级 | 主持人 | 1 | 40 |" in document
    )
    assert "| 国家级 | 参与人 | >= 6 | —（排序靠后不计） |" in document
    assert "表中没有列出的，不计（通知未列）。" in document


def test_diff_shows_the_changed_rows_of_a_list(
    folder: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    changed = tmp_path_factory.mktemp("new")
    new = HOURS.replace("| 1      | 40      |", "| 1      | 45      |").replace(
        "otherwise not counted unlisted", "otherwise not counted minor"
    )
    (changed / "hours.rules").write_text(new, encoding="utf-8")
    result = diff(engine.load(folder), engine.load(changed), [project("national", "host", 1)])
    [table] = result["structure"]["tables"]
    assert table["cells"] == [
        {"row": "national, host, 1", "column": None, "old": "40", "new": "45"}
    ]
    assert table["grid"]["head"] == ["级别", "角色", "排序", "学时"]
    assert table["grid"]["rows"][0] == ["国家级", "主持人", "1", "40 → 45"]
    assert table["diff"] == ["- otherwise not counted unlisted", "+ otherwise not counted minor"]
    shown = text(result)
    assert "| 国家级 | 主持人 | 1      | 40 → 45 |" in shown
    assert "    + otherwise not counted minor" in shown
    assert result["impact"]["changed"][0]["old"]["amount"] == 40


def test_explain_says_why_a_reasoned_hole_is_not_counted(folder: Path) -> None:
    explained = engine.load(folder).explain(project("national", "member", 7))
    assert [s["text"] for s in explained["steps"]] == [
        "查「科研项目学时」：国家级、参与人、7 → 不计（排序靠后不计）"
    ]
    assert (
        explained["why_not"]
        == "不计：排序靠后不计。「科研项目学时」对 国家级、参与人、7 规定不计入。"
    )
    beyond = engine.load(folder).explain(project("provincial", "member", 2))
    assert beyond["reason"] == "unlisted"
    assert beyond["steps"][0]["value"] == "not counted: unlisted"


LIST_CITES = Path(__file__).parent / "language" / "override-table-list-cite"


def test_changed_entries_are_coverage_items_in_the_changing_file() -> None:
    coverage = Coverage()
    engine.load(LIST_CITES, coverage=coverage)
    own = str(LIST_CITES / "policy.rules")
    changed = sorted(
        (int(where.split(":")[-2]), what)
        for where, what in coverage.items.values()
        if where.rsplit(":", 2)[0] == own
    )
    assert changed == [
        (7, "table `hours` cell [national × host × rank 1]"),
        (10, "table `hours` cell [national × member × rank >= 2 and rank <= 5]"),
        (14, "table `hours` cell [provincial × member × rank 2]"),
        (16, "table `award` cell [national × rank >= 4]"),
        (18, "table `abroad` row months >= 4 and months < 6"),
        (19, "table `abroad` row months >= 6"),
    ]


def test_doc_and_diff_show_a_list_rows_own_cite() -> None:
    child = engine.load(LIST_CITES)
    document = markdown(Document(child).blocks())
    assert "| 国家级 | 主持人 | 1 | 45（原 40；依据 新§1(1)） |" in document
    assert "| 省部级 | 参与人 | 2 | 10（依据 新§1(3)） |" in document
    assert "| [4, 6)（由 >= 4 拆分） | —（不满规定月数）（原 20；依据 新§3） |" in document
    base = engine.load(LIST_CITES / "base")
    tables = {t["name"]: t for t in diff(base, child)["structure"]["tables"]}
    assert tables["hours"]["cells"][0] == {
        "row": "national, host, 1",
        "column": None,
        "old": "40",
        "new": "45",
        "cite": "新§1(1)",
    }
    assert [c.get("split") for c in tables["abroad"]["cells"]] == [">= 4", ">= 4"]
