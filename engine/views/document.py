"""The policy as a document an officer can set beside the notice.

Input: a loaded `Policy` (its checked model and parsed files, comments included).
Output: a list of blocks — headings, paragraphs, tables, lists, quotes — rendered as
Markdown or as one self-contained HTML page. Tables are drawn as grids with the rows and
columns written in the policy; rules are put in words; the comments before and inside a
declaration (where the readings are named) are quoted beside it.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.assembly.inherit import gap_text, years_text
from engine.running.protocol import Member
from engine.syntax import ast
from engine.syntax.printer import cell_text, cite_text, credit_text, expr_text, type_text

MARKS = {"override": "改动", "extend": "扩充", "add": "新增"}
WHAT = {"parameter": "参数", "table": "表", "cell": "表格单元", "rule": "规则", "function": "函数",
        "split": "拆分的表格行", "kind": "记录种类", "enum": "枚举", "regime": "制度",
        "year summary": "年度汇总",
        "window": "年度区间", "category": "类别", "reason": "不计原因"}  # fmt: skip
Block = tuple[Any, ...]  # ("h", level, text) | ("p", text) | ("table", head, rows) | …


@dataclass
class _Notes:
    """The comments of one file, by line."""

    lines: dict[int, str]

    def around(self, decl: Any, after: int) -> tuple[list[str], list[str]]:
        """Comments between `after` and the declaration, and those inside it."""
        span = decl.span
        before = [t for n, t in sorted(self.lines.items()) if after < n < span.line]
        inside = [t for n, t in sorted(self.lines.items()) if span.line <= n <= span.end_line]
        return before, inside


def _cell(cell: ast.Cell, reasons: dict[str, str] | None = None) -> str:
    """A grid cell for readers: labels without their quotes, `— REASON` as
    `—（the reason's label）`."""
    if isinstance(cell, ast.Hole) and cell.reason is not None:
        return f"—（{(reasons or {}).get(cell.reason, cell.reason)}）"
    return cell.value if isinstance(cell, ast.Text) else cell_text(cell)


def _words(stmt: Any, reasons: dict[str, str]) -> str:
    """A body statement in words; a reason by its label."""
    match stmt:
        case ast.Let(name, value, cite):
            where = f"（{cite_text(cite)}）" if cite else ""
            return f"记 `{name}` = `{expr_text(value)}`{where}"
        case ast.When(condition, ast.Uncounted(reason)):
            return f"若 `{expr_text(condition)}`，则不计（{reasons.get(reason, reason)}）"
        case ast.When(condition, result):
            return f"若 `{expr_text(condition)}`，则为 `{expr_text(result)}`"
        case ast.Show(name, label, value):
            shown = f"`{name}`" + (f"（{label}）" if label else "")
            return f"列出 {shown}" + (f" = `{expr_text(value)}`" if value is not None else "")
        case ast.Requirement(name, label, condition, reason):
            named = f"`{name}`" + (f"（{label}）" if label else "") if name else ""
            otherwise = f"；否则不合格（{reasons.get(reason, reason)}）" if reason else ""
            text = f"要求 {named}：`{expr_text(condition)}`{otherwise}"
            return text.replace("要求 ：", "要求：")
    raise AssertionError(stmt)


class Document:
    """Builds the blocks of a policy's document."""

    def __init__(self, policy: Member) -> None:
        self.policy = policy
        self.symbols = policy.model.symbols
        self.notes: dict[str, _Notes] = {
            m.file: _Notes({c.span.line: c.text.strip() for c in m.comments})
            for m in policy.modules
        }
        self.previous_end: dict[tuple[str, int], int] = {}  # (file, line) -> previous end
        for module in policy.modules:
            end = 0
            for decl in module.declarations:
                self.previous_end[(decl.span.file, decl.span.line)] = end
                end = decl.span.end_line
        self.lineage = policy.lineage

    def _comments(self, decl: Any) -> list[Block]:
        notes = self.notes.get(decl.span.file)
        if notes is None:
            return []
        before, inside = notes.around(decl, self._after(decl))
        lines = before + inside
        return [("quote", lines)] if lines else []

    def _after(self, decl: Any) -> int:
        return self.previous_end.get((decl.span.file, decl.span.line), 0)

    def _mark(self, decl: Any) -> str:
        """`【改动】`, `【新增】` or `【扩充】` for what this policy changed in its base."""
        mark = self.lineage.mark(decl) if self.lineage else None
        return f" 【{MARKS[mark]}】" if mark else ""

    def blocks(self) -> list[Block]:
        p = self.policy
        title = f"{p.label}（`{p.name}`）" if p.label else f"`{p.name}`"
        folders: dict[Path, list[str]] = {}
        for m in p.modules:
            folders.setdefault(Path(m.file).parent, []).append(f"`{Path(m.file).name}`")
        *bases, own = folders.values()
        files = "、".join(own)
        if p.lineage is not None:
            files += f"，与基础政策 `{p.lineage.base}` 的 {sum(map(len, bases))} 个文件"
        out: list[Block] = [
            ("h", 1, title),
            ("p", f"版本 `{p.version}`，由 {files} 生成。本文件由 `rules doc` 生成，请勿手改。"),
        ]
        heads = [
            d
            for m in p.modules
            for d in m.declarations
            if isinstance(d, ast.PolicyDecl) and d.name == p.name
        ]
        out += self._comments(heads[0]) if heads else []  # the policy's source, as its header says
        out += self._lineage() + self._regimes() + self._enums() + self._kinds() + self._params()
        out += self._tables() + self._functions() + self._rules() + self._summaries()
        return out

    def _lineage(self) -> list[Block]:
        lineage = self.lineage
        if lineage is None:
            return []
        years = years_text(self.policy.years)
        out: list[Block] = [
            ("h", 2, "继承与改动 Changes to the base"),
            ("p", f"本政策以 `{lineage.base}`（版本 `{lineage.base_version}`，适用 "
                  f"{years_text(lineage.base_years)}）为基础，适用 {years}。{self._gap()}"
                  "下表是它改动、扩充和新增的内容；没有列出的，都照基础政策继承。"
                  "下文标有【改动】【扩充】【新增】。"),
        ]  # fmt: skip
        rows = [
            [MARKS[c.action], WHAT.get(c.what, c.what), f"`{c.name}`", c.old or "", c.new or "",
             cite_text(c.cite), f"{Path(c.span.file).name}:{c.span.line}"]
            for c in lineage.changes
        ]  # fmt: skip
        out.append(("table", ["变化", "类型", "名称", "原", "新", "依据", "位置"], rows))
        return out

    def _gap(self) -> str:
        """The declared gap in words, or nothing."""
        gap = self.lineage.gap if self.lineage else None
        if gap is None:
            return ""
        years = f"{gap[0]} 年度" if gap[0] == gap[1] else f"{gap[0]}–{gap[1]} 年度"
        return (f"{years}是两套政策之间的空档（`gap {gap_text(gap)}`）：两者都不适用，"
                "这些年度的记录得到 `no_policy_in_force`，报告里也没有这些年度的行。")  # fmt: skip

    def _regimes(self) -> list[Block]:
        rows = []
        for r in self.policy.regimes:
            years = f"{r.first or ''}..{r.last or ''}"
            name = f"`{r.name}`{self._mark(r)}"
            rows.append(
                [name, r.label or "", years, f"{r.unit_label or r.unit}", cite_text(r.cite)]
            )
        out: list[Block] = [("h", 2, "适用年度 Regimes"),
                            ("table", ["制度", "名称", "年度", "单位", "依据"], rows)]  # fmt: skip
        return out + ([("p", self._gap())] if self._gap() else [])

    def _enums(self) -> list[Block]:
        out: list[Block] = [("h", 2, "枚举 Enums")]
        for enum in self.symbols.enums.values():
            order = "（有序，由低到高）" if enum.ordered else ""
            out.append(("h", 3, f"`{enum.name}` {enum.label or ''}{order}{self._mark(enum)}"))
            out += self._comments(enum)
            out.append(("table", ["名称", "标签"],
                        [[f"`{m.name}`", m.label or ""] for m in enum.members]))  # fmt: skip
        return out

    def _kinds(self) -> list[Block]:
        out: list[Block] = [("h", 2, "记录种类 Kinds")]
        for kind in self.symbols.kinds.values():
            like = f"（字段同 `{kind.like}`）" if kind.like else ""
            like += "（事实记录：不计学时，供年度汇总读取）" if kind.facts else ""
            out.append(("h", 3, f"`{kind.name}` {kind.label or ''}{like}{self._mark(kind)}"))
            out += self._comments(kind)
            spec = self.policy.model.kinds[kind.name]
            rows = []
            for f in spec.fields.values():
                decl = f.decl
                assert decl is not None
                written = type_text(decl.type)
                need = "必填"
                if decl.default is not None:
                    need = f"默认 `{expr_text(decl.default)}`"
                elif f.optional:
                    need = "可选"
                rows.append([f"`{f.name}`", f.label or "", f"`{written}`", need])
            if rows:
                out.append(("table", ["字段", "标签", "类型", "填写"], rows))
            requires = []
            for r in spec.requires:
                if isinstance(r, ast.RequireOne):
                    requires.append("恰好填写其一：" + "、".join(f"`{n}`" for n in r.fields))
                else:
                    requires.append(
                        f"`{expr_text(r.condition)}`" + (f"：{r.label}" if r.label else "")
                    )
            if kind.facts is not None:
                requires += self._fact_rules(kind.facts)
            if requires:
                out.append(("list", requires))
        return out

    def _fact_rules(self, facts: ast.FactRules) -> list[str]:
        """What a `facts` kind's absence, or several of its records, mean, in words."""
        out = []
        if facts.missing_reason or facts.defaults:
            parts = (
                [f"不合格（{self._reason(facts.missing_reason)}）"] if facts.missing_reason else []
            )
            parts += [f"`{name}` 按 `{expr_text(value)}` 计算" for name, value in facts.defaults]
            out.append("本年度没有此记录：" + "，".join(parts))
        several = "本年度有多条且不一致："
        if facts.several is None:
            out.append(several + "后一条不予受理")
        elif facts.several[0] == "reason":
            out.append(f"{several}不合格（{self._reason(facts.several[1])}）")
        else:
            how, name = facts.several
            out.append(f"{several}取 `{name}` {'最高' if how == 'highest' else '最低'}的一条")
        return out

    @property
    def reason_words(self) -> dict[str, str]:
        return {n: r.label or n for n, r in self.symbols.reasons.items()}

    def _result(self, result: ast.Expr) -> str:
        """A rule's amount: `not counted REASON` in words, else as written."""
        if isinstance(result, ast.Uncounted):
            return f"不计（{self.reason_words.get(result.reason, result.reason)}）"
        return f"数额为 `{expr_text(result)}`"

    def _reason(self, name: str) -> str:
        reason = self.symbols.reasons.get(name)
        return reason.label if reason is not None and reason.label else name

    def _params(self) -> list[Block]:
        rows = []
        for param in self.symbols.params.values():
            notes = self.notes.get(param.span.file)
            before = notes.around(param, self._after(param))[0] if notes else []
            name = f"`{param.name}`{self._mark(param)}"
            rows.append([name, param.label or "", f"`{expr_text(param.value)}`",
                         cite_text(param.cite), " ".join(before)])  # fmt: skip
        return [("h", 2, "参数 Parameters"),
                ("table", ["参数", "名称", "值", "依据", "说明"], rows)]  # fmt: skip

    def _tables(self) -> list[Block]:
        out: list[Block] = [("h", 2, "折算表 Tables")]
        for table in self.symbols.tables.values():
            keys = " × ".join(k.type for k in table.keys)
            out.append(("h", 3, f"`{table.name}` {table.label or ''}{self._mark(table)}"))
            out.append(
                ("p", f"按 `{keys}` 查得 `{table.value_type}`。依据：{cite_text(table.cite)}")
            )
            out += self._comments(table)
            header, *rows = table.rows
            out.append(("table", [_cell(c) for c in header.cells],
                        [self._row(r, table.key_cells) for r in rows]))  # fmt: skip
            if table.otherwise is not None:
                reason = self._reasons().get(table.otherwise.reason, table.otherwise.reason)
                out.append(("p", f"表中没有列出的，不计（{reason}）。"))
        return out

    def _reasons(self) -> dict[str, str]:
        return {r.name: r.label or r.name for r in self.symbols.reasons.values()}

    def _row(self, row: ast.Row, width: int) -> list[str]:
        """A grid or list row: a split row says which row it splits; a changed cell shows
        its base value and its own citation."""
        keys, cells = row.cells[:width], row.cells[width:]
        head = [_cell(k, self._reasons()) for k in keys]
        if row.splits is not None:
            head[0] += f"（由 {cell_text(row.splits)} 拆分）"
        cites = row.cites or (None,) * len(cells)
        return [*head, *(self._changed(c, cite) for c, cite in zip(cells, cites, strict=True))]

    def _changed(self, cell: ast.Cell, cite: ast.Cite | None) -> str:
        """A cell, with its base value if this policy changed it and its own cite."""
        old = self.lineage.old_cells.get(cell.span) if self.lineage else None
        notes = [f"原 {old}"] if old is not None else []
        notes += [f"依据 {cite_text(cite)}"] if cite else []
        return _cell(cell, self._reasons()) + (f"（{'；'.join(notes)}）" if notes else "")

    def _functions(self) -> list[Block]:
        out: list[Block] = [("h", 2, "函数 Functions")]
        for fn in self.symbols.functions.values():
            params = ", ".join(f"{p.name}: {type_text(p.type)}" for p in fn.params)
            out.append(("h", 3, f"`{fn.name}` {fn.label or ''}{self._mark(fn)}"))
            out.append(
                (
                    "p",
                    f"`{fn.name}({params}) -> {type_text(fn.returns)}`。依据：{cite_text(fn.cite)}",
                )
            )
            out += self._comments(fn)
            steps = [_words(s, self.reason_words) for s in fn.body]
            steps.append(f"结果为 `{expr_text(fn.result)}`")
            out.append(("list", steps))
        return out

    def _rules(self) -> list[Block]:
        out: list[Block] = [("h", 2, "规则 Rules")]
        categories = {c.name: c.label or c.name for c in self.symbols.categories.values()}
        for rule in self.symbols.rules:
            regimes = "、".join(f"`{r}`" for r in rule.regimes) or "各制度"
            kind = self.symbols.kinds.get(rule.kind)
            label = rule.label or (kind.label if kind else "") or ""
            out.append(("h", 3, f"`{rule.kind}` {label}（{regimes}）{self._mark(rule)}"))
            category = categories.get(rule.category, rule.category)
            out.append(
                ("p", f"类别：{category}（`{rule.category}`）。依据：{cite_text(rule.cite)}")
            )
            out += self._comments(rule)
            steps = [_words(s, self.reason_words) for s in rule.body]
            steps.append(self._result(rule.result))
            if rule.credit is not None:
                steps.append(f"分记到各年度：`{credit_text(rule.credit)}`")
            out.append(("list", steps))
        return out

    def _summaries(self) -> list[Block]:
        out: list[Block] = [("h", 2, "汇总与要求 Summaries")]
        nodes: list[Any] = list(self.symbols.summaries) + list(self.symbols.windows.values())
        for node in nodes:
            if isinstance(node, ast.Window):
                years = f"{node.first or ''}..{node.last or ''}"
                if node.anchor is not None:
                    kind = self.symbols.kinds.get(node.anchor.kind)
                    what = kind.label if kind is not None and kind.label else node.anchor.kind
                    where = "（含当年）" if node.anchor.through else "之前"
                    years = f"{what}所在年度{where}的 {node.anchor.count} 年"
                head = f"年度区间 `{node.name}` {node.label or ''}（`{node.regime}`，{years}）"
            else:
                head = f"年度汇总 {node.label or ''}（{'、'.join(node.regimes)}）"
            out.append(("h", 3, head + self._mark(node)))
            out.append(("p", f"依据：{cite_text(node.cite)}"))
            out += self._comments(node)
            out.append(("list", [_words(s, self.reason_words) for s in node.body]))
        return out


# ── rendering ────────────────────────────────────────────────────────────


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|") or " "


def markdown(blocks: list[Block]) -> str:
    out: list[str] = []
    for block in blocks:
        kind = block[0]
        if kind == "h":
            out.append("#" * block[1] + " " + block[2])
        elif kind == "p":
            out.append(block[1])
        elif kind == "quote":
            out.append("\n".join(f"> {line}" if line else ">" for line in block[1]))
        elif kind == "list":
            out.append("\n".join(f"- {item}" for item in block[1]))
        elif kind == "table":
            head, rows = block[1], block[2]
            lines = ["| " + " | ".join(_md_cell(h) for h in head) + " |",
                     "|" + "---|" * len(head)]  # fmt: skip
            lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
            out.append("\n".join(lines))
    return "\n\n".join(out) + "\n"


_CODE = re.compile(r"`([^`]*)`")

STYLE = """
body { font-family: "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif;
       max-width: 60rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.6; color: #222; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; }
th, td { border: 1px solid #bbb; padding: 0.25rem 0.6rem; text-align: left; }
th { background: #f0f0f0; }
blockquote { color: #555; border-left: 4px solid #ddd; margin: 0.5rem 0; padding: 0 0.8rem; }
code { background: #f6f6f6; padding: 0 0.2rem; border-radius: 3px; }
"""


def _inline(text: str) -> str:
    return _CODE.sub(r"<code>\1</code>", html.escape(text, quote=False))


def html_page(blocks: list[Block], title: str) -> str:
    """One self-contained HTML page: no external style, script or font."""
    body: list[str] = []
    for block in blocks:
        kind = block[0]
        if kind == "h":
            body.append(f"<h{block[1]}>{_inline(block[2])}</h{block[1]}>")
        elif kind == "p":
            body.append(f"<p>{_inline(block[1])}</p>")
        elif kind == "quote":
            body.append(
                "<blockquote>" + "<br>".join(_inline(x) for x in block[1]) + "</blockquote>"
            )
        elif kind == "list":
            body.append("<ul>" + "".join(f"<li>{_inline(x)}</li>" for x in block[1]) + "</ul>")
        elif kind == "table":
            head = "".join(f"<th>{_inline(h)}</th>" for h in block[1])
            rows = "".join(
                "<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in row) + "</tr>"
                for row in block[2]
            )
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>\n<body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )
