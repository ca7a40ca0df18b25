"""Coverage: which rule branches, table cells and summaries a set of cases reached.

The compiler declares an item for every rule (per regime), both outcomes of every `when`
and `if`, every table cell and bracket row, every year summary and window, and both
outcomes of every requirement; a policy loaded with a `Coverage` marks the items its
evaluations reach. Items are keyed by place, so a rule shared by two regimes is one item.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.syntax import ast


def place(span: ast.Span) -> str:
    return f"{span.file}:{span.line}:{span.column}"


@dataclass
class Coverage:
    items: dict[str, tuple[str, str]] = field(default_factory=dict)  # key -> (place, what)
    hits: set[str] = field(default_factory=set)

    def declare(self, where: str, suffix: str, description: str) -> str:
        """An item at `where` (file:line:col); `suffix` tells apart items at one place."""
        key = f"{where} {suffix}"
        self.items.setdefault(key, (where, description))
        return key

    def within(self, files: set[str]) -> Coverage:
        """The items declared in these files, and those of them reached."""
        items = {k: v for k, v in self.items.items() if v[0].rsplit(":", 2)[0] in files}
        return Coverage(items, self.hits & items.keys())

    def missed(self) -> list[tuple[str, str]]:
        """(place, what) of every item not reached, in place order."""
        return sorted(v for k, v in self.items.items() if k not in self.hits)

    @property
    def percent(self) -> float:
        if not self.items:
            return 100.0
        return 100.0 * len(self.hits & self.items.keys()) / len(self.items)
