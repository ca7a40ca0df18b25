"""Walking the syntax tree: every node below a node, in source order."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import fields, is_dataclass
from typing import Any


def walk(node: Any) -> Iterator[Any]:
    """`node` and every syntax node inside it, depth first."""
    yield node
    for f in fields(node):
        if f.name == "span":
            continue
        value = getattr(node, f.name)
        items = value if isinstance(value, tuple) else (value,)
        for item in items:
            if is_dataclass(item):
                yield from walk(item)
