"""A `kocall serve` on loopback, for the benches and tests that run a real server: a free port, and the wait
until it answers /healthz."""

from __future__ import annotations

import socket
import subprocess
import time

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthy(server: subprocess.Popen, port: int, timeout_s: float = 300.0) -> bool:
    """Whether the server answers /healthz with 200 within ``timeout_s`` (False: it was killed, or died)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and server.poll() is None:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    server.kill()
    return False
