"""Hypothesis profiles: `bounded` for every run, `fuzz` for a long one (nightly):

python3 -m pytest tests/test_fuzz.py --hypothesis-profile=fuzz

and `serve`: a real `rules serve` on a free loopback port, for the tests that need one.
"""

import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parent.parent

settings.register_profile(
    "bounded", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "fuzz", max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("bounded")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(*args: str) -> tuple[subprocess.Popen, int]:
    """`rules serve ARGS` on a free port, once it accepts connections."""
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "engine", "serve", "--port", str(port), *args],
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return server, port
        except OSError:
            if server.poll() is not None:
                raise AssertionError(server.stderr.read().decode()) from None
            time.sleep(0.05)
    server.kill()
    raise AssertionError("the server did not start")


@pytest.fixture
def serve() -> Callable[..., tuple[subprocess.Popen, int]]:
    return _start
