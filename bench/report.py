"""Benchmark: `rules report` on a large JSON Lines file — speed and peak memory.

Writes N generated records for P people to a temporary JSONL file, then, each in a fresh
process, (1) evaluates every record with `evaluate_many` (the baseline rate) and (2)
reports on the same file, and prints records/second, the ratio, and each process's peak
memory. A second report over the same number of records but a tenth of the people shows
that memory follows the number of people, not of records.

    python bench/report.py [--records 1000000] [--people 100000]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from evaluate import stream

from engine.running.jsonout import dumps

WORKER = """
import resource, sys, time
from pathlib import Path
import engine
from engine.io.inputs import read_records
policy = engine.load()
path, mode = Path(sys.argv[1]), sys.argv[2]
start = time.perf_counter()
numbered = read_records(path)
rows = policy.report_numbered(numbered) if mode == "report" else policy.evaluate_numbered(numbered)
count = sum(1 for _ in rows)
elapsed = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(elapsed, peak, count)
"""


def write(path: Path, records: int, people: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        for record in stream(records, people, seed=7):
            out.write(dumps(record) + "\n")


def measure(path: Path, mode: str) -> tuple[float, int, int]:
    done = subprocess.run(
        [sys.executable, "-c", WORKER, str(path), mode], capture_output=True, text=True, check=True
    )
    elapsed, peak, count = done.stdout.split()
    return float(elapsed), int(peak), int(count)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--people", type=int, default=100_000)
    args = parser.parse_args()
    n = args.records
    with tempfile.TemporaryDirectory() as folder:
        path, few = Path(folder) / "records.jsonl", Path(folder) / "few-people.jsonl"
        write(path, n, args.people)
        write(few, n, max(1, args.people // 10))
        size = path.stat().st_size / 2**20
        print(f"input: {n:,} records, {args.people:,} people, {size:,.0f} MiB of JSON Lines")
        e_time, e_peak, _ = measure(path, "eval")
        r_time, r_peak, rows = measure(path, "report")
        f_time, f_peak, f_rows = measure(few, "report")
    print(f"evaluate_many:  {n / e_time:10,.0f} records/s   peak {e_peak / 1024:7,.0f} MiB")
    print(
        f"report:         {n / r_time:10,.0f} records/s   peak {r_peak / 1024:7,.0f} MiB"
        f"   ({rows:,} rows)"
    )
    print(f"report/evaluate rate: {e_time / r_time:.2f} (target: >= 0.5)")
    print(
        f"report, {args.people // 10:,} people: {n / f_time:10,.0f} records/s   "
        f"peak {f_peak / 1024:7,.0f} MiB   ({f_rows:,} rows)"
    )


if __name__ == "__main__":
    main()
