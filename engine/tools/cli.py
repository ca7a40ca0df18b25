"""The `rules` command line: a thin layer over the Python API.

Exit status: 0 success; 1 a check or test failed, or a record was invalid; 2 a usage
error, an unreadable input or a policy that does not load.
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
from collections.abc import Callable, Sized
from pathlib import Path
from typing import Any

from engine import __version__
from engine.assembly.inherit import gap_text, years_text
from engine.io.cells import CellReader
from engine.io.inputs import InputError, Numbered, json_lines, read_records
from engine.io.outputs import (
    OUTPUTS,
    Writer,
    labels,
    reason_labels,
    report_columns,
    result_columns,
    table,
)
from engine.io.progress import Progress
from engine.pipeline.policy import load
from engine.pipeline.policyset import PolicySet
from engine.running.coverage import Coverage
from engine.running.jsonout import dumps, pretty
from engine.running.protocol import Decides
from engine.syntax.diagnostics import Diagnostic, PolicyError, as_dict, render, unreadable
from engine.syntax.format import format_module
from engine.syntax.parse import PolicySyntaxError, parse
from engine.tools.cases import Outcome, PolicyCache, run_files
from engine.tools.update import update
from engine.tools.workspace import Workspace, find, named, policy_paths, shown
from engine.views.diff import diff
from engine.views.diffout import text as diff_text
from engine.views.diffout import workbook
from engine.views.document import Document, html_page, markdown
from engine.views.needs import needs, needs_text

OK, FAILED, USAGE = 0, 1, 2
INPUT_CODES = ("no-policy", "unreadable", "set-file")  # without a place: the path itself


def _load(given: str | list[str] | None) -> tuple[Decides, str]:
    """The policy given (a set if several), else the one being edited; and its name for
    the closing line."""
    paths, bundled = policy_paths(given)
    policy = load(paths)
    return policy, named(policy, paths, bundled)


def _closing(args: argparse.Namespace, name: str) -> None:
    """The closing line of a command whose stdout carries data: on stderr."""
    print(f"rules {args.command}: {name}", file=sys.stderr)


def _records(args: argparse.Namespace, policy: Decides, progress: Progress) -> Numbered:
    if args.file is None or args.file == "-":
        return json_lines(sys.stdin.buffer)
    cells = CellReader([m.model for m in policy.members])
    return read_records(Path(args.file), cells, args.sheet, progress.read)


def _writer(args: argparse.Namespace, policy: Decides, report: bool) -> Writer | None:
    if args.output is None:
        return None
    path = Path(args.output)
    if path.is_dir():
        raise InputError(f"`{path}` is a folder; name a file ending in {', '.join(OUTPUTS)}")
    if not path.parent.is_dir():
        raise InputError(f"cannot write `{path}`: there is no folder `{path.parent}`")
    if path.suffix.lower() not in OUTPUTS:
        raise InputError(f"`{path}`: cannot write `{path.suffix}`; use one of {', '.join(OUTPUTS)}")
    columns = report_columns(policy) if report else result_columns(policy)
    return Writer(path, columns, labels(policy), report)


def _run(args: argparse.Namespace, report: bool) -> int:
    policy, name = _load(args.policy)
    progress = Progress(sys.stderr, not args.quiet)
    numbered = _records(args, policy, progress)
    rows = policy.report_numbered(numbered) if report else policy.evaluate_numbered(numbered)
    writer = _writer(args, policy, report)
    table_rows: list[dict[str, Any]] | None = [] if report and args.format == "table" else None
    status = OK
    try:
        for row in rows:
            if "error" in row:
                status = FAILED
            progress.done()
            if writer is not None:
                writer.write(row)
            elif table_rows is not None:
                table_rows.append(row)
            else:
                sys.stdout.write(dumps(row) + "\n")
    finally:
        progress.close()
        if writer is not None:
            writer.close()
    if table_rows is not None:
        _print_table(policy, table_rows)
    _closing(args, name)
    return status


def _print_table(policy: Decides, rows: list[dict[str, Any]]) -> None:
    names = labels(policy)
    summary = [r for r in rows if r["scope"] != "error"]
    errors = [r for r in rows if r["scope"] == "error"]
    hidden = ("scope", "id", "version") + (("policy",) if len(policy.members) == 1 else ())
    columns = [
        c
        for c in report_columns(policy)
        if not c.startswith(("error.", "required")) and c not in hidden
    ]
    print(table(summary, columns, names, reason_labels(policy)))
    if errors:
        print()
        print(table(errors, ["id", "error.code", "error.field", "error.message"], names))


def cmd_eval(args: argparse.Namespace) -> int:
    return _run(args, report=False)


def cmd_report(args: argparse.Namespace) -> int:
    return _run(args, report=True)


def cmd_check(args: argparse.Namespace) -> int:
    try:
        policy, name = _load(args.path)
    except PolicyError as error:
        if args.format == "json":
            print(pretty([as_dict(d) for d in error.diagnostics]))
        else:
            print(error)
            print(f"{len(error.diagnostics)} error(s)")
            alone = _one_file_of_a_folder(args.path, error.diagnostics)
            if alone is not None:
                print(alone)
        unreadable = any(d.code in INPUT_CODES and d.span is None for d in error.diagnostics)
        return USAGE if unreadable else FAILED
    if args.format == "json":
        print("[]")
        _closing(args, name)
        return OK
    for member in policy.members:
        model = member.model
        lineage = member.lineage
        base = f", extends {lineage.base}" if lineage else ""
        if lineage is not None and lineage.gap is not None:
            base += f" after a gap of {gap_text(lineage.gap)}"
        head = name if member is policy else f"{member.name} {member.version}"
        print(
            f"{head}: ok — {_count(member.sources, 'file')}{base}, "
            f"years {years_text(member.years)}, {_count(model.kinds, 'kind')}, "
            f"{_count(model.tables, 'table')}, {_count(model.rules, 'rule')}"
        )
    if len(policy.members) > 1:
        gaps = "".join(f"; {gap}" for gap in policy.gaps()) if isinstance(policy, PolicySet) else ""
        print(
            f"{name}: ok — {len(policy.members)} policies, years {years_text(policy.years)}{gaps}"
        )
    return OK


def _one_file_of_a_folder(path: str | None, diagnostics: list[Diagnostic]) -> str | None:
    """A note when one `.rules` file of a policy folder is checked alone: a name it does
    not know is declared in one of the folder's other files."""
    file = Path(path) if path else None
    if file is None or not file.is_file() or file.suffix != ".rules":
        return None
    others = [f for f in file.parent.glob("*.rules") if f.name != file.name]
    unknown = {
        m.group(1)
        for d in diagnostics
        if d.code == "unknown-name"
        for m in [re.search(r"`([^`]+)`", d.message)]
        if m is not None
    }
    declared = re.compile(
        r"(?m)^\s*(?:param|table|function|enum|kind|facts|category|reason|regime)\s+("
        + "|".join(map(re.escape, unknown or {"\0"}))
        + r")\b"
    )
    if not any(declared.search(_text_of(f)) for f in others):
        return None
    return (
        f"note: `{file.name}` is one of {len(others) + 1} files of the policy in "
        f"`{shown(file.parent)}`; check them together: rules check {shown(file.parent)}"
    )


def _text_of(file: Path) -> str:
    try:
        return file.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _count(things: Sized, word: str) -> str:
    return f"{len(things)} {word}" + ("" if len(things) == 1 else "s")


def cmd_schema(args: argparse.Namespace) -> int:
    policy, name = _load(args.policy)
    try:
        schema = policy.schema(args.kind)
    except KeyError:
        print(f"rules schema: unknown kind `{args.kind}`", file=sys.stderr)
        return USAGE
    print(dumps(schema) if args.compact else pretty(schema))
    _closing(args, name)
    return OK


def cmd_test(args: argparse.Namespace) -> int:
    here = find()
    paths = [Path(p) for p in args.paths] or [_cases(here)]
    if args.min is not None and not args.coverage:
        raise InputError("`--min` goes with `--coverage`")
    if args.changes and not args.coverage:
        raise InputError("`--changes` goes with `--coverage`")
    coverage = Coverage() if args.coverage else None
    default = Path(args.policy) if args.policy else here.policy
    cache = PolicyCache(coverage, default)
    passed = failed = 0
    broken = False  # a case file or a policy that could not be read
    to_update: dict[Path, list[Outcome]] = {}
    for outcome in run_files(paths, cache, args.k):
        if isinstance(outcome, Outcome) and outcome.fixes and args.update:
            to_update.setdefault(outcome.case.file, []).append(outcome)
        if isinstance(outcome, Outcome) and outcome.passed:
            passed += 1
            if args.verbose:
                print(f"ok   {outcome.case.file}:{outcome.case.line}: {outcome.case.name}")
            continue
        failed += 1
        broken = broken or not isinstance(outcome, Outcome)
        text = outcome.describe() if isinstance(outcome, Outcome) else outcome
        print(f"FAIL {text}")
    for file, outcomes in to_update.items():
        for line in update(file, outcomes):
            print(f"updated {_relative(line)}")
    if args.k is not None and passed + failed == 0:
        print(f"no case matches `-k {args.k}`")
    status = USAGE if broken else OK if failed == 0 and passed > 0 else FAILED
    if coverage is not None:
        if args.changes:
            coverage = coverage.within(cache.changed_files())
        for where, what in coverage.missed():
            print(f"not reached: {_relative(where)}: {what}")
        covered = len(coverage.items) - len(coverage.missed())
        changes = " written by the changes of a policy that extends another" if args.changes else ""
        print(
            f"coverage: {coverage.percent:.1f}% ({covered} of {len(coverage.items)} "
            f"rule branches, table cells and summaries{changes})"
        )
        if args.min is not None and coverage.percent < args.min:
            print(f"coverage is below the minimum of {args.min:g}%")
            status = FAILED
    print(f"{passed} passed, {failed} failed{_tested(cache, here)}")
    return status


def _cases(here: Workspace) -> Path:
    """The golden cases of the policy being edited (relative to here when inside)."""
    if here.cases is None:
        raise InputError(
            f"no golden cases for `{shown(here.policy)}`: no `cases/` or `tests/golden/` "
            "folder; name case files or folders"
        )
    return Path(shown(here.cases))


def _tested(cache: PolicyCache, here: Workspace) -> str:
    """` — ` and the policies the cases ran against (none if no case ran)."""
    names = [
        named(cache.get(path), [path], here.bundled and path == here.policy)
        for path in list(cache.used)
        if path is not None
    ]
    return " — " + ", ".join(names) if names else ""


def _relative(place: str) -> str:
    """A `file:line:col` place, its file relative to the working folder when inside it."""
    file, _, rest = place.partition(":")
    return f"{shown(file)}:{rest}"


def cmd_explain(args: argparse.Namespace) -> int:
    policy, name = _load(args.policy)
    numbered = _records(args, policy, Progress(sys.stderr, False))
    status = OK
    if args.needs:
        for position, record in numbered:
            if not isinstance(record, dict):
                print(f"记录 {position}：不是一条记录")
                status = FAILED
                continue
            found = needs(policy, record)
            ident = record.get("id", position)
            words = f"记录 {ident}：{needs_text(policy, record, found)}"
            print(dumps({"id": ident, **found}) if args.format == "json" else words)
        _closing(args, name)
        return status
    if args.report:
        traces: list[Any] = []
        rows = list(policy.report_numbered(numbered, traces))
        for row, trace in traces:
            lines = policy.explainer(row.get("policy")).person_year(row, trace)
            if args.format == "json":
                print(dumps({"row": row, "steps": [dict(s) for s in trace], "text": lines}))
            else:
                print("\n".join(lines))
        for row in rows:
            if row["scope"] == "error":
                status = FAILED
                print(
                    dumps(row)
                    if args.format == "json"
                    else f"记录 {row['id']}：{row['error']['message']}"
                )
        _closing(args, name)
        return status
    for position, record in numbered:
        explained = policy.explain(record, position)
        if "error" in explained:
            status = FAILED
        text = policy.explainer(explained.get("policy")).text
        print(dumps(explained) if args.format == "json" else text(explained))
    _closing(args, name)
    return status


def cmd_fmt(args: argparse.Namespace) -> int:
    paths = [Path(p) for p in args.paths] or [Path(shown(find().sources))]
    files = [f for p in paths for f in (sorted(p.rglob("*.rules")) if p.is_dir() else [p])]
    changed, broken = [], 0
    for file in files:
        source = _source(file)
        if source is None:
            broken += 1
            continue
        try:
            formatted = format_module(parse(source, str(file)), source)
        except PolicySyntaxError as error:
            print(render(error.diagnostic, {str(file): source}), file=sys.stderr)
            broken += 1
            continue
        if formatted == source:
            continue
        changed.append(file)
        if args.diff:
            sys.stdout.writelines(
                difflib.unified_diff(
                    source.splitlines(keepends=True),
                    formatted.splitlines(keepends=True),
                    f"{file} (as is)",
                    f"{file} (formatted)",
                )
            )
        elif args.check:
            print(f"would reformat {file}")
        else:
            file.write_text(formatted, encoding="utf-8")
            print(f"reformatted {file}")
    if broken:
        return USAGE
    return FAILED if changed and (args.check or args.diff) else OK


def _source(file: Path) -> str | None:
    """A file's text; None, with a diagnostic on stderr, if it cannot be read."""
    try:
        return file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        print(f"{file}: " + render(unreadable(error), {}), file=sys.stderr)
    return None


def cmd_lsp(args: argparse.Namespace) -> int:
    from engine.tools.lsp import main as serve  # pygls loads only for the server

    return serve()


def cmd_doc(args: argparse.Namespace) -> int:
    policy, name = _load(args.policy_path)
    blocks = [block for member in policy.members for block in Document(member).blocks()]
    title = policy.label or policy.name
    text = html_page(blocks, title) if args.html else markdown(blocks)
    if args.output is None:
        sys.stdout.write(text)
    else:
        Path(args.output).write_text(text, encoding="utf-8")
    _closing(args, name)
    return OK


def cmd_diff(args: argparse.Namespace) -> int:
    olds, news = load(args.old).members, load(args.new).members
    if len(olds) > 1 or len(news) > 1:
        raise InputError("`rules diff` compares two policies, not sets")
    old, new = olds[0], news[0]
    records = None
    if args.records is not None:
        cells = CellReader([old.model, new.model])
        path = Path(args.records)
        records = [r for _, r in read_records(path, cells, args.sheet)]
    result = diff(old, new, records, args.shift_years)
    if args.output is not None:
        path = Path(args.output)
        if path.suffix.lower() != ".xlsx":
            raise InputError(f"`{path}`: `rules diff --output` writes an .xlsx file")
        workbook(result, path)
    if args.format == "json":
        print(dumps(result))
    else:
        sys.stdout.write(diff_text(result))
    return OK


def _size(text: str) -> int:
    """`10MB`, `512KB`, `1048576`: a size in bytes."""
    units = {"GB": 2**30, "MB": 2**20, "KB": 2**10, "B": 1}
    cleaned = text.strip().upper()
    for unit, factor in units.items():
        if cleaned.endswith(unit) and cleaned[: -len(unit)].strip().isdigit():
            return int(cleaned[: -len(unit)]) * factor
    if cleaned.isdigit():
        return int(cleaned)
    raise argparse.ArgumentTypeError(f"`{text}` is not a size such as 10MB, 512KB or 1048576")


def _seconds(text: str) -> float:
    """A time limit: a number of seconds over 0."""
    try:
        seconds = float(text)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds < float("inf"):
        raise argparse.ArgumentTypeError(f"`{text}` is not a number of seconds over 0")
    return seconds


def cmd_serve(args: argparse.Namespace) -> int:
    import logging

    from engine.service.decisionlog import read_salt
    from engine.service.serve import Options, build

    token = None
    if args.token_file is not None:
        token = Path(args.token_file).read_text(encoding="utf-8").strip()
        if not token:
            raise InputError(f"`{args.token_file}` holds no token")
    log_path = Path(args.decision_log) if args.decision_log else None
    salt = None
    if args.hash_person:
        if log_path is None:
            raise InputError("--hash-person goes with --decision-log")
        salt = read_salt(Path(args.salt_file) if args.salt_file else log_path.with_suffix(".salt"))
    options = Options(
        args.max_body,
        args.max_records,
        token,
        args.reload_every,
        args.reload_settle,
        args.allow_shrink,
        args.header_timeout,
        args.body_timeout,
        args.request_timeout,
    )
    paths, bundled = policy_paths(args.policy)
    service = build([str(p) for p in paths], options, log_path, salt, args.fsync)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    name = named(service.holder.current, paths, bundled)
    print(
        f"rules serve: {name} on http://{args.host}:{args.port}",
        file=sys.stderr,
        flush=True,
    )
    service.run(args.host, args.port)
    return OK


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="rules",
        description="Evaluate records against a policy.",
        epilog="The policy here (what a command uses when no policy is named): the nearest "
        "folder, from the working folder up, that holds .rules files with a `policy` line or "
        "is a repository with policies/DEFAULT; else the bundled copy. Closing lines name it.",
    )
    top.add_argument("--version", action="version", version=f"rules {__version__}")
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(
        name: str, run: Callable[[argparse.Namespace], int], help: str
    ) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        p.set_defaults(run=run)
        return p

    def with_policy(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--policy",
            metavar="PATH",
            action="append",
            help="policy folder, file or set file (default: the one here); several times for a "
            "set: each record goes to the policy in force in its year",
        )

    def with_records(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "file",
            nargs="?",
            metavar="FILE",
            help=".jsonl, .json, .yaml, .csv or .xlsx (default: JSON Lines on stdin)",
        )
        p.add_argument("--sheet", metavar="NAME", help="the .xlsx sheet (default: the first)")
        p.add_argument("--output", "-o", metavar="FILE", help="write a .jsonl, .csv or .xlsx file")
        p.add_argument("--quiet", "-q", action="store_true", help="no progress line")
        with_policy(p)

    p = command("eval", cmd_eval, "one result per record, as JSON Lines, in input order")
    with_records(p)
    p = command("report", cmd_report, "per person: yearly sums, shortfalls, windows; then errors")
    with_records(p)
    p.add_argument(
        "--format",
        choices=("json", "table"),
        default="json",
        help="JSON Lines (default), or a table to read",
    )
    p = command("check", cmd_check, "parse and check policy files; print every diagnostic")
    p.add_argument("path", nargs="?", metavar="PATH", help="policy folder or file (default: here)")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p = command("schema", cmd_schema, "the JSON Schema of records, derived from the policy")
    p.add_argument("kind", nargs="?", metavar="KIND", help="one kind, by name or label")
    p.add_argument("--compact", action="store_true", help="one line")
    with_policy(p)
    p = command("explain", cmd_explain, "each record's derivation, step by step, in words")
    p.add_argument("file", nargs="?", metavar="FILE", help="records (default: JSON Lines on stdin)")
    p.add_argument("--sheet", metavar="NAME", help="the .xlsx sheet (default: the first)")
    p.add_argument("--report", action="store_true", help="explain each person-year instead")
    p.add_argument(
        "--needs", action="store_true",
        help="for a record still being filled in: what is left, what changes the amount",
    )  # fmt: skip
    p.add_argument("--format", choices=("text", "json"), default="text")
    with_policy(p)
    p = command("fmt", cmd_fmt, "format .rules files the one canonical way, comments kept")
    p.add_argument(
        "paths", nargs="*", metavar="PATH", help="files or folders (default: the policy here)"
    )
    p.add_argument(
        "--check", action="store_true", help="change nothing; exit 1 if a file would change"
    )
    p.add_argument("--diff", action="store_true", help="change nothing; print what would change")
    command("lsp", cmd_lsp, "a language server for .rules files, on stdin and stdout")
    p = command("doc", cmd_doc, "the policy as a document: enums, tables as grids, rules in words")
    p.add_argument(
        "policy_path", nargs="?", metavar="POLICY", help="policy folder or file (default: here)"
    )
    p.add_argument("--output", "-o", metavar="FILE", help="write to FILE (default: stdout)")
    p.add_argument("--html", action="store_true", help="one self-contained HTML page")
    p = command("diff", cmd_diff, "what changes between two policies, and its impact on records")
    p.add_argument("old", metavar="OLD", help="the policy as it is (folder or file)")
    p.add_argument("new", metavar="NEW", help="the policy as it would be")
    p.add_argument("records", nargs="?", metavar="RECORDS", help="records to measure the impact")
    p.add_argument("--sheet", metavar="NAME", help="the .xlsx sheet (default: the first)")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--output", "-o", metavar="FILE", help="also write the comparison as .xlsx")
    p.add_argument(
        "--shift-years",
        type=int,
        default=0,
        metavar="N",
        help="NEW sees each record N years later (try next year's rules on this year's records)",
    )
    p = command("serve", cmd_serve, "an HTTP decision service (evaluate, report, explain)")
    with_policy(p)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    p.add_argument("--port", type=int, default=8181, help="port (default: 8181)")
    p.add_argument("--decision-log", metavar="FILE", help="append each decision to FILE (JSONL)")
    p.add_argument(
        "--hash-person",
        action="store_true",
        help="log a salted hash (HMAC-SHA256) in place of `person`",
    )
    p.add_argument(
        "--salt-file",
        metavar="FILE",
        help="the salt for --hash-person (default: the log's name with .salt; made if missing)",
    )
    p.add_argument("--fsync", action="store_true", help="sync the log to disk on every request")
    p.add_argument(
        "--max-body",
        type=_size,
        default=10 * 2**20,
        metavar="SIZE",
        help="largest request body (default: 10MB)",
    )
    p.add_argument(
        "--max-records",
        type=int,
        default=10_000,
        metavar="N",
        help="most records in one request (default: 10000)",
    )
    p.add_argument(
        "--token-file",
        metavar="FILE",
        help="require `Authorization: Bearer TOKEN` on /v1/ (TOKEN: the file's text)",
    )
    p.add_argument(
        "--reload-every",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="look for changed policy files this often; 0: never (default: 1)",
    )
    p.add_argument(
        "--reload-settle",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="load changed files once they have stayed unchanged this long (default: 1)",
    )
    p.add_argument(
        "--allow-shrink",
        action="store_true",
        help="load a new version even if it drops kinds, year summaries or windows "
        "(default: hold it back until POST /v1/policies/confirm)",
    )
    p.add_argument(
        "--header-timeout",
        type=_seconds,
        default=10.0,
        metavar="SECONDS",
        help="close a connection whose request head takes longer (default: 10)",
    )
    p.add_argument(
        "--body-timeout",
        type=_seconds,
        default=60.0,
        metavar="SECONDS",
        help="refuse (408) a request whose body takes longer to arrive, and cut a client that "
        "takes longer to read an answer (default: 60)",
    )
    p.add_argument(
        "--request-timeout",
        type=_seconds,
        default=60.0,
        metavar="SECONDS",
        help="refuse (503) a request whose work takes longer (default: 60)",
    )
    p = command("test", cmd_test, "run golden case files; ends with `N passed, M failed`")
    p.add_argument(
        "paths", nargs="*", metavar="PATH", help="case files or folders (default: the cases here)"
    )
    p.add_argument("-v", "--verbose", action="store_true", help="list passing cases too")
    p.add_argument(
        "--update", action="store_true",
        help="write the actual values into failing expectations (review them with git diff)",
    )  # fmt: skip
    p.add_argument(
        "-k", metavar="PATTERN",
        help="run only the cases whose name or file name holds PATTERN, or at FILE:LINE",
    )  # fmt: skip
    p.add_argument(
        "--policy",
        metavar="PATH",
        help="the policy for cases that name none (default: the one here)",
    )
    p.add_argument(
        "--coverage",
        action="store_true",
        help="list rule branches, table cells and summaries no case reached",
    )
    p.add_argument(
        "--changes",
        action="store_true",
        help="with --coverage: count only what the own files of a policy that extends "
        "another declare (its changes)",
    )
    p.add_argument("--min", type=float, metavar="PCT", help="with --coverage: fail below PCT%%")
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        status: int = args.run(args)
        return status
    except PolicyError as error:
        print(error, file=sys.stderr)
        return USAGE
    except InputError as error:
        print(f"rules {args.command}: {error}", file=sys.stderr)
        return USAGE
    except BrokenPipeError:
        sys.stderr.close()
        return OK
    except OSError as error:  # a file to write in a folder that is not there, a full disk
        where = f" `{error.filename}`" if error.filename else ""
        print(f"rules {args.command}: cannot write{where}: {error.strerror}", file=sys.stderr)
        return USAGE
