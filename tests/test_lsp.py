"""`rules lsp`, driven through the protocol: a real server process over stdio."""

import asyncio
import shutil
import sys
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient
from pygls.uris import from_fs_path

ROOT = Path(__file__).resolve().parent.parent


async def session(folder: Path, checks) -> None:
    client = LanguageClient("test", "1")
    published: dict[str, list[types.Diagnostic]] = {}
    arrived = asyncio.Event()

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def on_diagnostics(params: types.PublishDiagnosticsParams) -> None:
        published[params.uri] = params.diagnostics
        arrived.set()

    await client.start_io(sys.executable, "-m", "engine", "lsp", cwd=str(ROOT))
    await client.initialize_async(types.InitializeParams(capabilities=types.ClientCapabilities()))
    client.initialized(types.InitializedParams())
    try:
        await asyncio.wait_for(checks(client, published, arrived), timeout=60)
    finally:
        await client.shutdown_async(None)
        client.exit(None)
        await client.stop()


def open_doc(client: LanguageClient, path: Path, text: str) -> str:
    uri = from_fs_path(str(path))
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id="rules", version=1, text=text)
    ))  # fmt: skip
    return uri


def test_diagnostics_hover_definition_and_formatting(tmp_path: Path) -> None:
    folder = tmp_path / "binzhou"
    shutil.copytree(ROOT / "policies" / "binzhou", folder)
    papers = folder / "papers.rules"
    text = papers.read_text(encoding="utf-8")

    async def checks(client, published, arrived) -> None:
        broken = text.replace("let total = publications[level, paper]",
                              "let total = publicatons[level, paper]")  # fmt: skip
        uri = open_doc(client, papers, broken)
        await arrived.wait()
        while not published.get(uri):
            arrived.clear()
            await arrived.wait()
        (diagnostic,) = published[uri]
        assert diagnostic.code == "unknown-name"
        assert diagnostic.message == "unknown table `publicatons`\ndid you mean `publications`?"
        line = broken.splitlines().index("    let total = publicatons[level, paper]")
        assert diagnostic.range.start == types.Position(line, 16)

        # fixed in the editor: the diagnostics clear
        arrived.clear()
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
        ))  # fmt: skip
        while published.get(uri):
            arrived.clear()
            await arrived.wait()

        where = types.Position(line, 20)
        hover = await client.text_document_hover_async(types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri), position=where))  # fmt: skip
        assert hover is not None and "论文著作折算" in hover.contents.value
        assert "附件一(三)" in hover.contents.value

        found = await client.text_document_definition_async(types.DefinitionParams(
            text_document=types.TextDocumentIdentifier(uri=uri), position=where))  # fmt: skip
        assert found.uri.endswith("tables.rules")
        tables = (folder / "tables.rules").read_text(encoding="utf-8").splitlines()
        assert tables[found.range.start.line].startswith("table publications(level, work)")

        messy = "param   a  =  1\n"
        other = open_doc(client, folder / "extra.rules", messy)
        edits = await client.text_document_formatting_async(types.DocumentFormattingParams(
            text_document=types.TextDocumentIdentifier(uri=other),
            options=types.FormattingOptions(tab_size=4, insert_spaces=True)))  # fmt: skip
        assert [e.new_text for e in edits] == ["param a = 1\n"]

    asyncio.run(session(folder, checks))
