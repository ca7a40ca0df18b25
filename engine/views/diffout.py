"""Rendering a policy comparison (`engine.views.diff`): text for a terminal, or a workbook.

Input: the data `engine.views.diff.diff` returns. Output: lines of text in the officer's
words — changed tables drawn as grids with `old → new` in each changed cell — or an
`.xlsx` workbook with one sheet per part (structure, tables, records, people, kinds),
its texts never taken for formulas and its numbers never written with an exponent.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any

from engine.io.outputs import flatten, plain_text, table, xlsx_row
from engine.syntax.format import grid_lines

SECTIONS = {
    "regimes": "适用年度与制度",
    "params": "参数",
    "tables": "折算表",
    "rules": "规则",
    "functions": "函数",
    "kinds": "记录种类",
    "enums": "枚举",
    "summaries": "汇总与要求",
    "categories": "类别与不计原因",
}
MARK = {"added": "+", "removed": "-", "changed": "~"}
CHANGE_WORDS = {"added": "新增", "removed": "删除", "changed": "改动"}


def _title(change: dict[str, Any]) -> str:
    label = f"（{change['label']}）" if change.get("label") else ""
    return f"{MARK[change['change']]} {change['what']} {change['name']}{label}"


def _detail(change: dict[str, Any]) -> list[str]:
    what = change["what"]
    if what in ("param", "policy"):
        cite = f"（依据 {plain_text(change['cite'])}）" if "cite" in change else ""
        if change["change"] == "changed":
            old, new = plain_text(change["old"]), plain_text(change["new"])
            return [f"{_title(change)}：{old} → {new}{cite}"]
        value = change.get("new", change.get("old"))
        return [f"{_title(change)} = {plain_text(value)}{cite}"]
    lines = [_title(change)]
    if what == "table" and "grid" in change:
        lines[0] += f"：{len(change['cells'])} 个单元格改动"
        grid = change["grid"]
        lines += ["    " + line for line in grid_lines([grid["head"], *grid["rows"]])]
        lines += [f"    {_where(c)} 依据 {plain_text(c['cite'])}" for c in change["cells"]
                  if "cite" in c]  # fmt: skip
    elif what == "kind":
        for f in change.get("fields", []):
            mark = MARK.get(f.get("change", change["change"]), "~")
            old, new = f.get("old"), f.get("new")
            text = f"{old} → {new}" if old and new else new or old
            lines.append(f"    {mark} {f['name']}: {text}")
    elif what == "enum":
        lines += [f"    + {m}" for m in change.get("added", [])]
        lines += [f"    - {m}" for m in change.get("removed", [])]
    lines += ["    " + line for line in change.get("diff", [])]
    return lines


def _where(cell: dict[str, Any]) -> str:
    """A changed cell as `[row, column]` (`[row]` in a one-key table)."""
    keys = [cell["row"]] + ([cell["column"]] if cell["column"] is not None else [])
    return plain_text("[" + ", ".join(keys) + "]")


def text(result: dict[str, Any]) -> str:
    old, new = result["old"], result["new"]
    lines = [
        f"政策比较：{old['name']}（{old['version']}，{old['years']}）→ "
        f"{new['name']}（{new['version']}，{new['years']}）"
    ]
    structure = result["structure"]
    if not any(structure.values()):
        lines.append("结构：没有改动")
    for section, title in SECTIONS.items():
        changes = structure[section]
        if changes:
            lines += ["", title]
            for change in changes:
                lines += ["  " + line for line in _detail(change)]
    if "impact" in result:
        lines += ["", *_impact_text(result["impact"])]
    return "\n".join(lines) + "\n"


RECORD_COLUMNS = [
    "position",
    "id",
    "person",
    "year",
    "kind",
    "old.amount",
    "new.amount",
    "delta",
    "old.reason",
    "new.reason",
    "old.error",
    "new.error",
]
PEOPLE_COLUMNS = [
    "person",
    "year",
    "window",
    "old_qualified",
    "new_qualified",
    "old_total",
    "new_total",
    "why",
]
KIND_COLUMNS = ["kind", "unit", "old_count", "old", "new_count", "new", "delta"]
NAMES = {
    "position": "行",
    "id": "编号",
    "person": "人员",
    "year": "年度",
    "kind": "种类",
    "old.amount": "原数额",
    "new.amount": "新数额",
    "delta": "增减",
    "old.reason": "原不计原因",
    "new.reason": "新不计原因",
    "old.error": "原错误",
    "new.error": "新错误",
    "window": "年度区间",
    "old_qualified": "原合格",
    "new_qualified": "新合格",
    "old_total": "原总数",
    "new_total": "新总数",
    "why": "各项要求的变化",
    "unit": "单位",
    "old_count": "原条数",
    "new_count": "新条数",
    "old": "原合计",
    "new": "新合计",
}


def _impact_text(impact: dict[str, Any]) -> list[str]:
    shift = impact["shift"]
    note = f"；新政策按年度 {shift:+d} 计算" if shift else ""
    lines = [f"影响（{impact['records']} 条记录{note}）"]
    changed = impact["changed"]
    lines.append(f"结果改变的记录：{len(changed)} 条")
    if changed:
        lines += ["  " + x for x in table(changed, RECORD_COLUMNS, NAMES).splitlines()]
    people = impact["people"]
    lines.append(f"合格情况改变：{len(people)} 人次")
    if people:
        lines += ["  " + x for x in table(people, PEOPLE_COLUMNS, NAMES).splitlines()]
    lines.append("按种类合计（计入的数额）：")
    lines += ["  " + x for x in table(impact["kinds"], KIND_COLUMNS, NAMES).splitlines()]
    old, new = impact["qualified"]["old"], impact["qualified"]["new"]
    lines.append(
        f"合格：原 {old['qualified']}/{old['judged']} → 新 {new['qualified']}/{new['judged']}"
    )
    return lines


_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def _number(text: str) -> Any:
    """A grid cell as a number where it is one (`-3` too), so that the sheet can compute
    with it."""
    return Decimal(text) if _NUMBER.fullmatch(text) else text


def workbook(result: dict[str, Any], path: Path) -> None:
    """The comparison as an `.xlsx` file: structure, tables, records, people, kinds."""
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("结构")
    sheet.append(["部分", "类型", "名称", "标签", "变化", "原", "新", "依据"])
    for section, title in SECTIONS.items():
        for change in result["structure"][section]:
            what, name, label = change["what"], change["name"], change.get("label")
            word, old, new = CHANGE_WORDS[change["change"]], change.get("old"), change.get("new")
            row = [title, what, name, label, word, old, new, change.get("cite")]
            sheet.append(xlsx_row(sheet, row))
    sheet = book.create_sheet("表格")
    for change in result["structure"]["tables"]:
        if "grid" in change:
            sheet.append(xlsx_row(sheet, [f"{change['name']}（{change.get('label') or ''}）"]))
            sheet.append(xlsx_row(sheet, change["grid"]["head"]))
            for row in change["grid"]["rows"]:
                sheet.append(xlsx_row(sheet, [_number(cell) for cell in row]))
            sheet.append([])
    impact = result.get("impact")
    if impact is not None:
        parts = (
            ("记录", impact["changed"], RECORD_COLUMNS),
            ("人员", impact["people"], PEOPLE_COLUMNS),
            ("种类", impact["kinds"], KIND_COLUMNS),
        )
        for title, rows, columns in parts:
            sheet = book.create_sheet(title)
            sheet.append([NAMES.get(c, c) for c in columns])
            for row in rows:
                flat = flatten(row)
                sheet.append(xlsx_row(sheet, [flat.get(c) for c in columns]))
    book.save(path)
