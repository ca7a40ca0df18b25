"""The TextMate grammar knows every keyword of the Lark grammar, and its patterns compile."""

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TM = json.loads((ROOT / "editors" / "rules.tmLanguage.json").read_text(encoding="utf-8"))


def patterns(node: object) -> list[str]:
    found = []
    if isinstance(node, dict):
        found += [node[k] for k in ("match", "begin", "end") if k in node]
        for value in node.values():
            found += patterns(value)
    elif isinstance(node, list):
        for value in node:
            found += patterns(value)
    return found


def test_every_keyword_of_the_language_is_highlighted() -> None:
    grammar = (ROOT / "grammar" / "rules.lark").read_text(encoding="utf-8")
    keywords = set(re.findall(r'"([a-z_]+)"', grammar))
    highlighted = set()
    for rule in TM["repository"]["keyword"]["patterns"] + [TM["repository"]["constant"]]:
        highlighted |= set(re.findall(r"[a-z_]+", rule["match"].split("(", 1)[1]))
    assert keywords - highlighted == set()


def test_patterns_compile_and_match_what_they_should() -> None:
    compiled = [re.compile(p) for p in patterns(TM)]
    assert len(compiled) > 10
    repo = TM["repository"]
    assert re.search(repo["comment"]["match"], "amount n  # 说明").group() == "# 说明"
    assert re.match(repo["number"]["match"], "2.5").group() == "2.5"
    declaration = re.match(repo["declaration"]["match"], "table 成果 (level)")
    assert declaration.group(2) == "成果"
    assert re.match(repo["table-row"]["begin"], "    | 县区级 | 15 |")
