"""Soak test: `rules serve` under mixed load while its policy files are rewritten.

Starts the service on a loopback port with a decision log, over a temporary copy of
`policies/binzhou`. Client threads send a mix of requests — evaluations, reports,
explanations, uploads of small sheets and bad requests — while a writer rewrites the
policy's `summaries.rules` every few seconds, atomically (a new file renamed over the
old) or not (cut short, a pause, then the rest: a save that is half done for a while).
At the end it prints the requests served, the answers by status, the service's memory
at the start and at the end, and the decisions logged against those acknowledged. It
fails (exit 1) if an acknowledged decision is missing from the log, if any answer is a
5xx (but `/readyz`'s 503 while a half-done save is held back), if a connection broke, or
if any report was decided by a version without its windows. Bounded in time
(`--seconds`), loopback only.

    python bench/soak.py [--seconds 150] [--clients 6] [--rewrite-every 3]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import socket
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import openpyxl
from serve import start  # bench/serve.py, beside this script

ROOT = Path(__file__).resolve().parent.parent
CREDITS = {"person": "p1", "year": 2019, "kind": "public_course", "hours": 30}  # has windows
PAPER = {"year": 2021, "kind": "paper", "venue": "cn_serial", "words": 3000, "authors": 4}
JSON = {"Content-Type": "application/json"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss(pid: int) -> int:
    """The process's resident memory, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) // 1024
    return 0


def sheet(folder: Path) -> bytes:
    """A small unit sheet (40 rows, a few of them wrong), as an .xlsx file's bytes."""
    book = openpyxl.Workbook(write_only=True)
    rows = book.create_sheet("records")
    rows.append(["人员", "年度", "类型", "学时"])
    for n in range(40):
        rows.append([f"3716{n % 9:04d}", 2019 + n % 3, "公需科目", n % 7 if n % 13 else "x"])
    path = folder / "unit.xlsx"
    book.save(path)
    return path.read_bytes()


class Tally:
    """What the clients saw: statuses, acknowledged decisions, windowless reports."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.statuses: Counter[str] = Counter()  # "200", "415", "readyz 503"…
        self.acknowledged: dict[str, int] = {}  # request id -> decisions answered
        self.windowless = 0
        self.failures = 0  # connections that broke

    def add(self, status: int, rid: str | None = None, decisions: int = 0, what: str = "") -> None:
        with self.lock:
            self.statuses[f"{what} {status}".strip()] += 1
            if rid is not None and status == 200:
                self.acknowledged[rid] = decisions


def ask(
    conn: http.client.HTTPConnection, method: str, path: str, body: bytes | None, headers: dict
) -> tuple[int, bytes]:
    conn.request(method, path, body, headers)
    answer = conn.getresponse()
    return answer.status, answer.read()


def one_request(
    conn: http.client.HTTPConnection, rnd: random.Random, rid: str, book: bytes, tally: Tally
) -> None:
    """One request of the mix; its outcome to `tally`."""
    kind = rnd.choice(["evaluate", "evaluate", "report", "report", "explain", "upload", "bad"])
    headers = {**JSON, "X-Request-Id": rid}
    if kind == "evaluate":
        batch = [
            {**PAPER, "id": f"{rid}-{i}", "position": 1 + i % 4} for i in range(rnd.randint(1, 40))
        ]
        status, data = ask(conn, "POST", "/v1/evaluate", json.dumps(batch).encode(), headers)
        tally.add(status, rid, len(json.loads(data)) if status == 200 else 0)
    elif kind == "report":
        people = [
            {**CREDITS, "person": f"p{i}", "id": f"{rid}-{i}"} for i in range(rnd.randint(1, 20))
        ]
        status, data = ask(
            conn, "POST", "/v1/report", json.dumps([*people, "bad"]).encode(), headers
        )
        rows = json.loads(data) if status == 200 else []
        if status == 200 and not any(r["scope"] == "window" for r in rows):
            with tally.lock:
                tally.windowless += 1
        tally.add(status, rid, len(rows))
    elif kind == "explain":
        status, data = ask(
            conn, "POST", "/v1/explain", json.dumps([CREDITS, {"kind": 1}]).encode(), headers
        )
        tally.add(status, rid, len(json.loads(data)) if status == 200 else 0)
    elif kind == "upload":
        status, data = ask(
            conn, "POST", "/v1/report/upload?name=unit.xlsx", book, {"X-Request-Id": rid}
        )
        tally.add(status, rid, len(json.loads(data)["rows"]) if status == 200 else 0)
    else:
        bad = rnd.choice(
            [
                ("POST", "/v1/evaluate", b'{"year": ', JSON),
                ("POST", "/v1/evaluate", b"{}", {"Content-Type": "text/csv"}),
                ("POST", "/v1/report", b"5", JSON),
                ("GET", "/v1/evaluate", None, {}),
                ("GET", "/v2/nothing", None, {}),
                ("POST", "/v1/report/upload?name=a.xlsx", b"not a workbook", {}),
                ("GET", "/readyz", None, {}),
            ]
        )
        status, _ = ask(conn, *bad)
        tally.add(status, what="readyz" if bad[1] == "/readyz" else "")


def client(port: int, seed: int, until: float, book: bytes, tally: Tally) -> None:
    rnd = random.Random(seed)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    n = 0
    while time.monotonic() < until:
        n += 1
        try:
            one_request(conn, rnd, f"c{seed}-{n}", book, tally)
        except (OSError, http.client.HTTPException):
            with tally.lock:
                tally.failures += 1
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.close()


def rewrite(folder: Path, until: float, every: float, counts: Counter[str]) -> None:
    """Save `summaries.rules` again and again: atomically, or cut short for a while."""
    path = folder / "summaries.rules"
    whole = path.read_text(encoding="utf-8")
    cut = whole[: whole.index("\nwindow ")] + "\n"  # still checks, but has no windows
    rnd, n = random.Random(1), 0
    while time.monotonic() < until:
        time.sleep(every)
        n += 1
        text = whole + f"\n# save {n}\n"
        if n % 2:
            spare = folder / ".summaries.rules.new"
            spare.write_text(text, encoding="utf-8")
            os.replace(spare, path)
            counts["atomic"] += 1
        else:
            with path.open("w", encoding="utf-8") as out:
                out.write(cut)
                out.flush()
                time.sleep(rnd.uniform(0.2, 2.0))
                out.write(text[len(cut) :])
            counts["non-atomic"] += 1


def logged(log: Path) -> Counter[str]:
    """Decisions in the log, by request id (every line must parse)."""
    counts: Counter[str] = Counter()
    with log.open(encoding="utf-8") as lines:
        for line in lines:
            counts[json.loads(line)["request_id"]] += 1
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=150.0)
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument("--rewrite-every", type=float, default=3.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp) / "binzhou"
        shutil.copytree(ROOT / "policies" / "binzhou", folder)
        log = Path(temp) / "decisions.jsonl"
        port = free_port()
        server = start(port, log, "--policy", str(folder), "--reload-every", "0.5")
        started_rss = rss(server.pid)
        book, tally, saves = sheet(Path(temp)), Tally(), Counter[str]()
        until = time.monotonic() + args.seconds
        threads = [
            threading.Thread(target=client, args=(port, seed, until, book, tally))
            for seed in range(args.clients)
        ]
        threads.append(
            threading.Thread(target=rewrite, args=(folder, until, args.rewrite_every, saves))
        )
        began = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - began
        ended_rss = rss(server.pid)
        server.terminate()
        server.wait(timeout=30)
        in_log = logged(log)
    served = sum(tally.statuses.values())
    acknowledged = sum(tally.acknowledged.values())
    missing = sum(max(0, n - in_log.get(rid, 0)) for rid, n in tally.acknowledged.items())
    server_errors = sum(n for status, n in tally.statuses.items() if status.startswith("5"))
    print(f"requests served: {served} in {elapsed:.0f} s ({served / elapsed:.0f}/s)")
    statuses = sorted(tally.statuses.items())
    print("answers by status: " + ", ".join(f"{s}: {n}" for s, n in statuses))
    print(f"broken connections: {tally.failures}")
    print(f"policy saves: {saves['atomic']} atomic, {saves['non-atomic']} non-atomic")
    print(f"reports without their windows: {tally.windowless}")
    print(f"service memory (RSS): {started_rss} MB at the start, {ended_rss} MB at the end")
    print(f"decisions acknowledged: {acknowledged}; logged: {sum(in_log.values())}")
    print(f"acknowledged decisions missing from the log: {missing}")
    failed = missing or server_errors or tally.windowless or tally.failures
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
