"""Explanations: a result's trace told in words an officer reads.

Input: results and report traces made by the one evaluator (`compile.py`); each step
says what kind of step it is (`Step.how`). Output: for each step a sentence with its
citation and value — members by their Chinese labels, tables and functions by their
titles — and for a record that does not count, the reason and what would have made it
count; for a person-year, the allocation steps, caps that were reached and what is
still missing. Nothing is computed again here: the words follow the steps as made.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from engine.checking import tree
from engine.checking.types import NEGATED
from engine.running.protocol import Member
from engine.running.records import RecordError, result_of, usable_id
from engine.running.values import amount_value, value_text
from engine.syntax import ast
from engine.syntax.printer import expr_text


class Explainer:
    """Puts a policy's traces in words."""

    def __init__(self, policy: Member) -> None:
        self.policy = policy
        self.symbols = policy.model.symbols
        self.reasons = {r.name: r.label or r.name for r in self.symbols.reasons.values()}
        self.units = {r.name: r.unit_label or r.unit for r in self.symbols.regimes.values()}
        self.regimes = {r.name: r.label or r.name for r in self.symbols.regimes.values()}
        owners: dict[str, list[str]] = {}
        for enum in self.symbols.enums.values():
            for m in enum.members:
                owners.setdefault(m.name, []).append(enum.name)
        self.owners = owners

    # ── values in words ─────────────────────────────────────────────────
    def label(self, value: Any, enum: str | None = None) -> str:
        """A value as an officer reads it: a member by its label."""
        if isinstance(value, str):
            enums = [enum] if enum else self.owners.get(value, [])
            if len(enums) == 1 and enums[0] in self.symbols.enums:
                return self.symbols.labels(enums[0]).get(value) or value
            return value
        if isinstance(value, bool):
            return "是" if value else "否"
        if isinstance(value, int | Decimal):
            return value_text(amount_value(value))
        return str(value)

    def _values(self, expr: tree.Node, env: dict[str, Any]) -> str:
        """`words = 800，min_words = 1000` for the names an expression uses."""
        shown: dict[str, str] = {}
        for node in tree.nodes(expr):
            if isinstance(node, tree.Param) and node.name not in shown:
                shown[node.name] = self.label(node.value)
            elif isinstance(node, tree.Var) and node.name not in shown and node.name in env:
                shown[node.name] = self.label(env[node.name])
        return "，".join(f"{name} = {value}" for name, value in shown.items())

    def _outcome(self, value: Any, unit: str) -> str:
        if isinstance(value, str) and value.startswith("not counted: "):
            reason = value.removeprefix("not counted: ")
            return f"不计（{self.reasons.get(reason, reason)}）"
        return f"{self.label(value)} {unit}".rstrip()

    # ── one step ────────────────────────────────────────────────────────
    def sentence(self, step: dict[str, Any], env: dict[str, Any], unit: str) -> str:
        how: tuple[Any, ...] = getattr(step, "how", ())
        value = step["value"]
        kind = how[0] if how else ""
        if kind == "lookup":
            table = self.policy.model.tables[how[1]]
            title, shown = self._looked_up(how)
            if _withheld(value):
                return f"查「{title}」：{shown} → {self._outcome(value, '')}"
            return f"查「{title}」：{shown} → {self.label(value, table.value_type.enum)}"
        if kind == "let":
            source = expr_text(how[2].source)
            shown = "" if source == how[1] else f" = {source}"  # `show NAME` of a `let`
            return f"{how[1]}{shown} = {self.label(value)}"
        if kind == "when":
            condition, result = how[1], how[2]
            values = self._values(condition, env)
            given = f"（{values}）" if values else ""
            outcome = self._outcome(value, unit)
            cause, effect = expr_text(condition.source), expr_text(result.source)
            return f"因为 {cause}{given}，所以为 {outcome}（{effect}）"
        if kind == "call":
            fn = self.symbols.functions[how[1]]
            args = ", ".join(self.label(v) for v in how[2])
            return f"{fn.label or fn.name}：{how[1]}({args}) = {self.label(value)}"
        if kind == "amount":
            return f"结果：{self._outcome(value, unit)}（{expr_text(how[1].source)}）"
        if kind == "credit":
            parts = []
            for part in value:
                year, amount = part["year"], self.label(part["amount"])
                gone = (
                    "（该年度没有适用的政策，不计入）"
                    if self.policy.regime_for(year) is None
                    else ""
                )
                parts.append(f"{year} 年度 {amount} {unit}".rstrip() + gone)
            total = self.label(sum(part["amount"] for part in value))
            return f"共 {total} {unit}".rstrip() + "，分记到各年度：" + "，".join(parts)
        if kind == "require":
            met = "满足" if value else "未满足"
            source = how[2].source
            reason = source.reason
            if reason is not None and not value:
                met += f"（{self.reasons.get(reason, reason)}）"
            return f"要求 {expr_text(source.condition)}：{met}"
        return f"{step['step']} = {self.label(value)}"

    def _looked_up(self, how: tuple[Any, ...]) -> tuple[str, str]:
        """A look-up step's table title and its keys in words."""
        table = self.policy.model.tables[how[1]]
        keys = how[2] if isinstance(how[2], tuple) else (how[2],)
        enums = [t.enum for t in table.key_types]
        shown = "、".join(self.label(k, e) for k, e in zip(keys, enums, strict=False))
        return self.symbols.tables[how[1]].label or how[1], shown

    # ── records ─────────────────────────────────────────────────────────
    def record(self, record: Any, position: int = 1) -> dict[str, Any]:
        """The explanation of one record: its result, the steps in words, and (if it does
        not count) the reason and what would have made it count."""
        try:
            decision = self.policy.decide(record, position)
        except RecordError as error:
            return error_explanation(record, position, error)
        result = result_of(decision, self.policy.name, self.policy.version)
        env = decision.fields  # checked once, `year` included
        unit = self.units.get(result["regime"], "")
        steps = [
            {"text": self.sentence(s, env, unit), "cite": s["cite"], "value": s["value"]}
            for s in result["trace"]
        ]
        if "fact" in result:
            return self._fact(result)
        keys = ("id", "kind", "year", "regime", "unit", "amount", "counted", "policy", "version")
        out = {k: result[k] for k in keys}
        out["steps"] = steps
        if not result["counted"]:
            out["reason"] = result["reason"]
            out["why_not"] = self.why_not(result, env)
        return out

    def _fact(self, result: dict[str, Any]) -> dict[str, Any]:
        """A `facts` kind's record: what it states; it earns nothing."""
        kind = self.symbols.kinds[result["kind"]]
        labels = {f.name: f.label or f.name for f in kind.fields}
        stated = "，".join(
            f"{labels.get(name, name)}：{self.label(value)}"
            for name, value in result["fact"].items()
        )
        keys = ("id", "kind", "year", "regime", "fact", "policy", "version")
        out = {k: result[k] for k in keys}
        what = kind.label or kind.name
        out["steps"] = [
            {"text": f"{what}：{stated}（记录事实，不计学时）", "cite": "", "value": None}
        ]
        return out

    def why_not(self, result: dict[str, Any], env: dict[str, Any]) -> str:
        reason = self.reasons.get(result["reason"], result["reason"])
        last = result["trace"][-1]
        how = getattr(last, "how", ())
        if how and how[0] == "when":
            need = _negation(how[1].source)
            values = self._values(how[1], env)
            given = f"（现在 {values}）" if values else ""
            return f"不计：{reason}。若 {need}{given}，则可计入。"
        if how and how[0] == "amount" and isinstance(how[1], tree.If):
            branch = how[1]
            need = (
                expr_text(branch.condition.source)
                if isinstance(branch.otherwise, tree.Uncounted)
                else _negation(branch.condition.source)
            )
            values = self._values(branch.condition, env)
            given = f"（现在 {values}）" if values else ""
            return f"不计：{reason}。若 {need}{given}，则可计入。"
        if how and how[0] in ("lookup", "call") and _withheld(last["value"]):
            steps = [s for s in result["trace"] if getattr(s, "how", ("",))[0] == "lookup"]
            title, shown = self._looked_up(steps[-1].how)
            return f"不计：{reason}。「{title}」对 {shown} 规定不计入。"
        regime = self.regimes.get(result["regime"], result["regime"])
        return f"不计：{reason}。在{regime}下，此类记录不计入。"

    def text(self, explained: dict[str, Any]) -> str:
        """The explanation as lines of text."""
        if "error" in explained:
            return f"记录 {explained['id']}：{explained['text'][0]}"
        regime = self.regimes.get(explained["regime"], explained["regime"])
        kind = self._kind_label(explained["kind"])
        head = f"记录 {explained['id']}：{kind}，{explained['year']} 年（{regime}）"
        lines = [head]
        lines += [
            f"  {n}. {s['text']}" + (f"  [{s['cite']}]" if s["cite"] else "")
            for n, s in enumerate(explained["steps"], 1)
        ]
        if "why_not" in explained:
            lines.append(f"  {explained['why_not']}")
        return "\n".join(lines)

    def _kind_label(self, kind: str) -> str:
        decl = self.symbols.kinds.get(kind)
        return f"{decl.label}（{kind}）" if decl and decl.label else kind

    # ── person-years ────────────────────────────────────────────────────
    def person_year(self, row: dict[str, Any], trace: list[dict[str, Any]]) -> list[str]:
        """A report row's derivation: each step, caps reached, and what is missing."""
        unit = self.units.get(row.get("regime", ""), "")
        when = row.get("year") or row.get("window")
        if row.get("scope") == "window":  # its name, and the year it is counted from
            when = f"{row['window']}" + (f"（{row['year']} 年度）" if "year" in row else "")
        regime = self.regimes.get(row.get("regime", ""), row.get("regime"))
        lines = [f"人员 {row['person']}，{when}（{regime}）"]
        caps = []
        for n, step in enumerate(trace, 1):
            lines.append(f"  {n}. {self.sentence(step, {}, unit)}  [{step['cite']}]")
            cap = self._cap(step)
            if cap:
                lines.append(f"     {cap}")
                caps.append(cap)
        shortfall = row.get("shortfall") or {}
        for name, missing in shortfall.items():
            if missing:
                note = "；" + "；".join(caps) + "，不能再补" if caps else ""
                label = self._requirement_label(name)
                lines.append(f"  {label} 还差 {self.label(missing)} {unit}{note}")
        for name, reason in (row.get("reasons") or {}).items():
            if reason:
                label = self._requirement_label(name)
                lines.append(f"  {label}：未满足（{self.reasons.get(reason, reason)}）")
        if "qualified" in row:
            lines.append("  合格" if row["qualified"] else "  不合格")
        return lines

    def _cap(self, step: dict[str, Any]) -> str | None:
        """`a` reached the cap `converted_public_cap` when `min(cap, …)` gave the cap."""
        how = getattr(step, "how", ())
        if not how or how[0] != "let" or not isinstance(how[2], tree.Builtin):
            return None
        call = how[2]
        if call.name != "min":
            return None
        for arg in call.args:
            if isinstance(arg, tree.Param) and arg.value == step["value"]:
                param = self.symbols.params[arg.name]
                label = f"（{param.label}）" if param.label else ""
                return f"已达上限 {arg.name}{label} = {self.label(arg.value)}"
        return None

    def _requirement_label(self, name: str) -> str:
        kind = self.symbols.kinds.get(name)
        if kind is not None and kind.facts is not None:
            return kind.label or name  # a `facts` kind's declared reason
        for summary in list(self.symbols.summaries) + list(self.symbols.windows.values()):
            for stmt in summary.body:
                if isinstance(stmt, ast.Requirement) and stmt.name == name and stmt.label:
                    return stmt.label
        return name


def _withheld(value: Any) -> bool:
    """A step's value is `not counted` (a look-up landed on `— REASON`)."""
    return isinstance(value, str) and value.startswith("not counted: ")


def _negation(condition: ast.Expr) -> str:
    """A condition's opposite, as text: `words >= min_words` for `words < min_words`."""
    match condition:
        case ast.Compare(op, left, right):
            return expr_text(ast.Compare(NEGATED[op], left, right, span=condition.span))
        case ast.Unary("not", operand):
            return expr_text(operand)
        case ast.Membership(item, collection, negated):
            return expr_text(ast.Membership(item, collection, not negated, span=condition.span))
    return f"not ({expr_text(condition)})"


def error_explanation(record: Any, position: int, error: RecordError) -> dict[str, Any]:
    """An invalid record's explanation: its error, in words."""
    message = f"记录无效（{error.code}）：{error.message}"
    return {"id": _ident(record, position), "error": error.as_dict(), "text": [message]}


def _ident(record: Any, position: int) -> Any:
    ident = record.get("id", position) if isinstance(record, dict) else position
    return ident if usable_id(ident) else position
