"""How checking time grows with the size of a rule: `let`s, `when`s and chained calls.

Prints, for each shape, the time to load a policy of N and of 2N statements and their
ratio, measured in the same run: about 2 means linear; 4, quadratic. Usage:
`python3 bench/check_scaling.py [N]` (default 10,000).
"""

import sys
import tempfile
import time
from pathlib import Path

import engine

HEAD = 'policy scaling\nregime hours { years 2020..2021 unit hours cite "§1" }\ncategory c\n'
HEAD += "kind k { n: int }\n"


def lets(n: int) -> str:
    body = "\n".join(f"    let a{i} = n + {i}" for i in range(n))
    return HEAD + f'rule k {{ category c cite "§2"\n{body}\n    amount a{n - 1}\n}}\n'


def whens(n: int) -> str:
    body = "\n".join(f"    when n == {i} then {i}" for i in range(n))
    return HEAD + f'rule k {{ category c cite "§2"\n{body}\n    amount 0\n}}\n'


def seconds(text: str) -> float:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "p.rules"
        path.write_text(text, encoding="utf-8")
        started = time.perf_counter()
        engine.load(path)
        return time.perf_counter() - started


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    for name, make in (("lets", lets), ("whens", whens)):
        small, large = seconds(make(n)), seconds(make(2 * n))
        sizes = f"{n:>7}: {small:6.2f} s  {2 * n:>7}: {large:6.2f} s"
        print(f"{name:6} {sizes}  ratio {large / small:.2f}")


if __name__ == "__main__":
    main()
