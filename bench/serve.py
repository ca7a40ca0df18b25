"""Benchmark: `rules serve` under load, against in-process `evaluate_many` in the same run.

Starts the server on a loopback port, then drives it with concurrent clients (threads
with keep-alive connections, bodies encoded beforehand so the clients stay light) for a
bounded number of requests: first single-record requests, then 1,000-record batches.
Prints requests/s, records/s and p50/p99 latency of each, and the batch rate against
the in-process `evaluate_many` rate (target: at least half). The two are timed in turn,
round after round, and the median round is reported (the machine is shared and noisy);
both sides have seen the records once before, so the policy's caches are as warm on each.

    python bench/serve.py [--singles 3000] [--batches 60] [--clients 4] [--decision-log]
"""

from __future__ import annotations

import argparse
import http.client
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from evaluate import drain, stream

import engine
from engine.running.jsonout import dumps

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(port: int, log: Path | None, *more: str) -> subprocess.Popen:
    """`rules serve` on `port` (`more`: further options), once it accepts connections."""
    args = [sys.executable, "-m", "engine", "serve", "--port", str(port), "--reload-every", "0"]
    if log is not None:
        args += ["--decision-log", str(log)]
    args += more
    server = subprocess.Popen(args, cwd=ROOT, stderr=subprocess.DEVNULL)
    for _ in range(600):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return server
        except OSError:
            time.sleep(0.05)
    server.kill()
    raise SystemExit("the server did not start")


def drive(port: int, bodies: list[bytes], clients: int) -> tuple[float, list[float]]:
    """Send every body once, spread over `clients` threads; elapsed time and latencies."""
    latencies: list[float] = []
    lock = threading.Lock()
    queue = list(reversed(bodies))

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        mine = []
        while True:
            with lock:
                if not queue:
                    break
                body = queue.pop()
            began = time.perf_counter()
            conn.request("POST", "/v1/evaluate", body, {"Content-Type": "application/json"})
            answer = conn.getresponse()
            answer.read()
            if answer.status != 200:
                raise SystemExit(f"status {answer.status}")
            mine.append(time.perf_counter() - began)
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - began, sorted(latencies)


def percentile(sorted_values: list[float], p: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(p * len(sorted_values)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--singles", type=int, default=3000)
    parser.add_argument("--batches", type=int, default=60)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=5, help="in-process and HTTP, in turn")
    parser.add_argument("--decision-log", action="store_true", help="with the decision log on")
    args = parser.parse_args()

    records = list(stream(args.batches * args.batch_size, args.batches * 50))
    singles = [dumps(r).encode() for r in records[: args.singles]]
    batches = [
        dumps(records[i : i + args.batch_size]).encode()
        for i in range(0, len(records), args.batch_size)
    ]
    policy = engine.load()
    drain(policy.evaluate_many(records))  # warm, as the server will be

    with tempfile.TemporaryDirectory() as scratch:
        log = Path(scratch) / "decisions.jsonl" if args.decision_log else None
        port = free_port()
        server = start(port, log)
        rounds = []
        try:
            # warm up as the in-process side is: the same records seen once
            drive(port, batches, args.clients)
            single_time, single_lat = drive(port, singles, args.clients)
            for _ in range(args.rounds):  # in turn, so that both see the same machine
                began = time.perf_counter()
                drain(policy.evaluate_many(records))
                in_process = len(records) / (time.perf_counter() - began)
                batch_time, batch_lat = drive(port, batches, args.clients)
                rounds.append(
                    (len(records) / batch_time / in_process, in_process, batch_time, batch_lat)
                )
        finally:
            server.terminate()
            server.wait(timeout=30)
        logged = sum(1 for _ in log.open()) if log else 0

    rounds.sort(key=lambda r: r[0])
    ratio, in_process, batch_time, batch_lat = rounds[len(rounds) // 2]  # the median round
    print(
        f"clients: {args.clients} threads on loopback; decision log: "
        f"{'on, ' + str(logged) + ' lines' if log else 'off'}"
    )
    print(f"{'':22}{'requests/s':>12}{'records/s':>12}{'p50 ms':>10}{'p99 ms':>10}")
    for name, count, size, elapsed, lat in (
        ("single records", len(singles), 1, single_time, single_lat),
        (f"{args.batch_size}-record batches", len(batches), args.batch_size, batch_time, batch_lat),
    ):
        print(
            f"{name:22}{count / elapsed:12,.0f}{count * size / elapsed:12,.0f}"
            f"{percentile(lat, 0.5) * 1000:10.1f}{percentile(lat, 0.99) * 1000:10.1f}"
        )
    print(f"in-process evaluate_many: {in_process:,.0f} records/s (the same round)")
    print("batch rate / in-process rate, each round: " + ", ".join(f"{r[0]:.2f}" for r in rounds))
    print(f"median: {ratio:.2f} (target: >= 0.5)")


if __name__ == "__main__":
    main()
