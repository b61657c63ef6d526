"""What every Python suite here needs to run `longrun serve` as a child
process: free loopback ports, the binary under test, a child that dies
with pytest, and the wait until it serves. Each suite's conftest puts this directory on sys.path."""

from __future__ import annotations

import os
import signal
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def free_ports(count: int) -> list[int]:
    """Ports free on loopback now, all different (held open together)."""
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def die_with_parent() -> None:
    """Runs in the child before exec: if pytest itself is killed (run.sh's
    timeout), the server gets SIGTERM instead of living on."""
    import ctypes

    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def longrun_binary() -> Path:
    """LONGRUN_BIN (relative to the repository), by default the debug build;
    ends the run with a clear message when it is not there."""
    path = Path(os.environ.get("LONGRUN_BIN", "target/debug/longrun"))
    if not path.is_absolute():
        path = REPO / path
    if not path.is_file():
        pytest.exit(
            f"longrun binary not found at {path}: build it (cargo build) or set LONGRUN_BIN",
            returncode=3,
        )
    return path


def wait_ready(proc, public_addr: str, control_addr: str, log, within_s: float,
               label: str = "longrun") -> None:
    """Returns once both ports accept connections and the public one answers
    HTTP (a 404 for a name that does not exist will do); raises with the
    server's log (`log()`) if the process exits first or `within_s` passes."""
    deadline = time.monotonic() + within_s
    probe = f"http://{public_addr}/v1/projects/ready/locations/probe/operations/none"
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"{label} exited before it was ready:\n{log()}")
        try:
            for addr in (public_addr, control_addr):
                host, port = addr.rsplit(":", 1)
                socket.create_connection((host, int(port)), timeout=1).close()
            try:
                urllib.request.urlopen(probe, timeout=2)
            except urllib.error.HTTPError as e:
                if e.code != 404:
                    raise
            return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{label} not ready within {within_s}s:\n{log()}") from None
            time.sleep(0.05)
