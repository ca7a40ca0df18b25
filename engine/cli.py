"""The `rules` command line: a thin layer over the Python API.

Exit status: 0 success; 1 a check or test failed, or a record was invalid; 2 a usage
error, an unreadable input or a policy that does not load.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from engine.cases import Outcome, run_files
from engine.diagnostics import PolicyError, as_dict
from engine.inputs import InputError, Numbered, json_lines, read_records
from engine.jsonout import dumps
from engine.policy import Policy, load
from engine.resources import policies_dir

OK, FAILED, USAGE = 0, 1, 2


def _policy(args: argparse.Namespace) -> Policy:
    return load(args.policy)


def _records(args: argparse.Namespace) -> Numbered:
    if args.file is None or args.file == "-":
        return json_lines(sys.stdin.buffer)
    return read_records(Path(args.file))


def cmd_eval(args: argparse.Namespace) -> int:
    policy = _policy(args)
    status = OK
    write = sys.stdout.write
    for result in policy.evaluate_numbered(_records(args)):
        if "error" in result:
            status = FAILED
        write(dumps(result) + "\n")
    return status


def cmd_check(args: argparse.Namespace) -> int:
    try:
        policy = load(args.path)
    except PolicyError as error:
        if args.format == "json":
            print(json.dumps([as_dict(d) for d in error.diagnostics], ensure_ascii=False, indent=2))
        else:
            print(error)
            print(f"{len(error.diagnostics)} error(s)")
        return FAILED
    model = policy.model
    if args.format == "json":
        print("[]")
    else:
        print(
            f"{policy.name} {policy.version}: ok — {len(policy.sources)} files, "
            f"{len(model.kinds)} kinds, {len(model.tables)} tables, {len(model.rules)} rules"
        )
    return OK


def cmd_schema(args: argparse.Namespace) -> int:
    policy = _policy(args)
    try:
        schema = policy.schema(args.kind)
    except KeyError:
        print(f"rules schema: unknown kind `{args.kind}`", file=sys.stderr)
        return USAGE
    print(
        dumps(schema)
        if args.compact
        else json.dumps(json.loads(dumps(schema)), ensure_ascii=False, indent=2)
    )
    return OK


def cmd_test(args: argparse.Namespace) -> int:
    paths = [Path(p) for p in args.paths] or [default_cases()]
    passed = failed = 0
    for outcome in run_files(paths):
        if isinstance(outcome, Outcome) and outcome.passed:
            passed += 1
            if args.verbose:
                print(f"ok   {outcome.case.file}:{outcome.case.line}: {outcome.case.name}")
            continue
        failed += 1
        text = outcome.describe() if isinstance(outcome, Outcome) else outcome
        print(f"FAIL {text}")
    print(f"{passed} passed, {failed} failed")
    return OK if failed == 0 and passed > 0 else FAILED


def default_cases() -> Path:
    """The project's own golden cases: `tests/golden` beside the policies."""
    return policies_dir().parent / "tests" / "golden"


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="rules", description="Evaluate records against a policy.")
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(
        name: str, run: Callable[[argparse.Namespace], int], help: str
    ) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        p.set_defaults(run=run)
        return p

    def with_policy(p: argparse.ArgumentParser) -> None:
        p.add_argument("--policy", metavar="PATH", help="policy folder or file (default: bundled)")

    p = command("eval", cmd_eval, "one result per record, as JSON Lines, in input order")
    p.add_argument(
        "file", nargs="?", metavar="FILE", help=".jsonl, .json or .yaml (default: stdin)"
    )
    with_policy(p)
    p = command("check", cmd_check, "parse and check policy files; print every diagnostic")
    p.add_argument(
        "path", nargs="?", metavar="PATH", help="policy folder or file (default: bundled)"
    )
    p.add_argument("--format", choices=("text", "json"), default="text")
    p = command("schema", cmd_schema, "the JSON Schema of records, derived from the policy")
    p.add_argument("kind", nargs="?", metavar="KIND", help="one kind, by name or label")
    p.add_argument("--compact", action="store_true", help="one line")
    with_policy(p)
    p = command("test", cmd_test, "run golden case files; ends with `N passed, M failed`")
    p.add_argument("paths", nargs="*", metavar="PATH", help="case files or folders")
    p.add_argument("-v", "--verbose", action="store_true", help="list passing cases too")
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except PolicyError as error:
        print(error, file=sys.stderr)
        return USAGE
    except InputError as error:
        print(f"rules {args.command}: {error}", file=sys.stderr)
        return USAGE
    except BrokenPipeError:
        sys.stderr.close()
        return OK
