"""The web page the service serves, and the policy document it shows.

Input: the serving policy. Output: the page (`engine/ui/`: HTML, CSS and a script, no
build step, no outside resource) and the policy as `rules doc --html` renders it, each
policy of a set in turn. The page builds its forms from `GET /v1/schema`, so another
policy gives another form: nothing about a policy is written in it.
"""

from __future__ import annotations

from pathlib import Path

from engine.running.protocol import Decides
from engine.views.document import Document, html_page

UI = Path(__file__).resolve().parent / "ui"


def index_page() -> bytes:
    return (UI / "index.html").read_bytes()


def document_page(policy: Decides) -> str:
    blocks = [block for member in policy.members for block in Document(member).blocks()]
    return html_page(blocks, policy.label or policy.name)
