"""Writes `unit-2021.xlsx` and `unit-2021.jsonl`: one unit's 2021 batch, as units keep it.

The sheet has the batch-import layout: a header row of Chinese labels and one activity
per row, with no id column, so that an error points at the row to fix. A few rows are
wrong on purpose. Run from anywhere: `python3 examples/make_unit_batch.py`.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import openpyxl

HERE = Path(__file__).parent
COLUMNS = ["人员", "年度", "类型", "学时", "天数", "是否合格", "刊号", "字数", "作者人数",
           "作者位次", "级别", "等次", "位次", "月数", "专利类型", "合格科目数"]  # fmt: skip
KEYS = {"人员": "person", "年度": "year", "类型": "kind", "学时": "hours", "天数": "days",
        "是否合格": "passed", "刊号": "venue", "字数": "words", "作者人数": "authors",
        "作者位次": "position", "级别": "level", "等次": "tier", "位次": "rank", "月数": "months",
        "专利类型": "patent_type", "合格科目数": "subjects"}  # fmt: skip


def people(rnd: random.Random) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for n in range(1, 61):
        who = f"3716{n:04d}"
        rows.append({"人员": who, "类型": "公需科目", "学时": rnd.choice([20, 24, 28, 30, 30, 32])})
        if rnd.random() < 0.5:
            rows.append({"人员": who, "类型": "公需科目", "学时": rnd.choice([2, 4, 6])})
        rows.append({"人员": who, "类型": "专业科目", "学时": rnd.choice([24, 36, 40, 48, 60])})
        if rnd.random() < 0.4:
            rows.append({"人员": who, "类型": "专业科目", "天数": rnd.randint(1, 4)})
        extra = rnd.random()
        if extra < 0.25:
            authors = rnd.randint(1, 4)
            venue = rnd.choice(["全国统一刊号", "省内部资料准印证"])
            words = rnd.choice([2500, 4000, 6000])
            paper = {"类型": "论文", "刊号": venue, "字数": words, "作者人数": authors}
            rows.append({"人员": who, **paper, "作者位次": rnd.randint(1, authors)})
        elif extra < 0.4:
            rows.append(
                {
                    "人员": who,
                    "类型": "成果奖项",
                    "级别": rnd.choice(["地市级", "省部级"]),
                    "等次": rnd.choice(["一等奖", "二等奖", "三等奖"]),
                    "位次": rnd.randint(1, 6),
                }
            )
        elif extra < 0.5:
            rows.append({"人员": who, "类型": "考察留学", "月数": rnd.choice([0.5, 1, 2.5])})
        elif extra < 0.6:
            rows.append(
                {"人员": who, "类型": "专利", "专利类型": "实用新型专利", "位次": rnd.randint(1, 5)}
            )
        elif extra < 0.65:
            rows.append({"人员": who, "类型": "学历教育", "是否合格": "是"})
    for row in rows:
        row["年度"] = 2021
    rows[7] = {"人员": rows[7]["人员"], "年度": 2021, "类型": "论文", "刊号": "全国统一刊号",
               "字数": 3000, "作者人数": 2, "作者位次": 3}  # fmt: skip
    rows[20]["学时"] = "三十"
    rows[33] = {"人员": rows[33]["人员"], "年度": 2021, "类型": "讲座培训", "学时": 4}
    rows[51] = {"人员": rows[51]["人员"], "年度": 2021, "类型": "专业科目"}
    rows[64]["年度"] = 2022
    return rows


def main() -> None:
    rows = people(random.Random(2021))
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "继续教育学时"
    sheet.append(COLUMNS)
    for row in rows:
        sheet.append([row.get(c) for c in COLUMNS])
    book.save(HERE / "unit-2021.xlsx")
    with (HERE / "unit-2021.jsonl").open("w", encoding="utf-8") as out:
        for number, row in enumerate(rows, 2):
            record = {"id": str(number), **{KEYS[k]: v for k, v in row.items()}}
            if record.get("passed") == "是":
                record["passed"] = True
            out.write(json.dumps(record, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
