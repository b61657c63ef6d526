"""Fixtures for test_worker.py: a running `longrun serve` (started by run.sh,
which passes its addresses in the environment), plain REST calls to it, and
worker processes.

    LONGRUN_PUBLIC=127.0.0.1:8080 LONGRUN_CONTROL=127.0.0.1:8081 pytest

LONGRUN_BIN names the server binary, for the tests that start one of their
own. LONGRUN_RUST_WORKER, when set, names the Rust example's binary
(target/debug/examples/worker); each test then runs with both workers.
"""

from __future__ import annotations

import itertools
import json
import os
import select
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
# How long any one wait in these tests may take before it fails.
WITHIN_S = 15.0


class RestError(Exception):
    def __init__(self, status: int, body: str):
        super().__init__(f"HTTP {status}: {body}")
        self.status = status


def rest(method: str, url: str, body: dict | None = None) -> dict:
    """One JSON call, as any HTTP client would make it."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, method=method, data=data)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=WITHIN_S) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as e:
        raise RestError(e.code, e.read().decode(errors="replace")) from None


@dataclass
class Server:
    public: str  # host:port of the public API (REST here)
    control: str  # host:port of the control API (the workers' gRPC, REST here)

    def get(self, name: str) -> dict:
        return rest("GET", f"http://{self.public}/v1/{name}")

    def cancel(self, name: str) -> dict:
        return rest("POST", f"http://{self.public}/v1/{name}:cancel", {})

    def create(self, parent: str, body: dict) -> dict:
        """CreateOperation over the control API's REST route: a producer
        that is not the worker."""
        return rest("POST", f"http://{self.control}/v1/{parent}/operations", body)


@pytest.fixture(scope="session")
def server() -> Server:
    public = os.environ.get("LONGRUN_PUBLIC")
    control = os.environ.get("LONGRUN_CONTROL")
    if not public or not control:
        pytest.exit("set LONGRUN_PUBLIC and LONGRUN_CONTROL (run.sh does)", returncode=2)
    return Server(public=public, control=control)


_locations = itertools.count(1)


@pytest.fixture
def parent() -> str:
    return f"projects/workers/locations/loc-{next(_locations)}"


def _commands() -> dict[str, list[str]]:
    commands = {"python": [sys.executable, str(HERE / "worker.py")]}
    rust = os.environ.get("LONGRUN_RUST_WORKER")
    if rust:
        commands["rust"] = [rust]
    return commands


class Worker:
    """One worker process; its stdout's first line names the operation."""

    def __init__(self, command: list[str], control: str, args: list[str], log: Path):
        self.log_path = log
        with open(log, "wb") as err:
            self.proc = subprocess.Popen(
                [*command, "--control", control, *args],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=err,
            )
        self.name = self._read_name()

    def _read_name(self) -> str:
        ready, _, _ = select.select([self.proc.stdout], [], [], WITHIN_S)
        line = self.proc.stdout.readline().decode() if ready else ""
        if not line.startswith("operation "):
            self.proc.kill()
            self.proc.wait()
            pytest.fail(f"worker printed {line!r}, not `operation NAME`:\n{self.log()}")
        return line.split(" ", 1)[1].strip()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait(self) -> int:
        try:
            return self.proc.wait(timeout=WITHIN_S)
        except subprocess.TimeoutExpired:
            pytest.fail(f"worker still running after {WITHIN_S}s:\n{self.log()}")

    def terminate(self) -> None:
        self.proc.send_signal(signal.SIGTERM)


@pytest.fixture(params=sorted(_commands()))
def start_worker(request, server, tmp_path):
    """start_worker(*args, on=server) runs the worker under test with these
    arguments, against the session's server or the one given."""
    command = _commands()[request.param]
    started: list[Worker] = []

    def start(*args: str, on: Server = server) -> Worker:
        worker = Worker(command, on.control, list(args), tmp_path / f"worker-{len(started)}.log")
        started.append(worker)
        return worker

    yield start
    for worker in started:
        if worker.proc.poll() is None:
            worker.proc.kill()
            worker.proc.wait()


def wait_for(what: str, probe, explain=None):
    """Calls probe() until it returns something truthy; fails after WITHIN_S,
    with what explain() returns (a worker's log, say) in the message."""
    deadline = time.monotonic() + WITHIN_S
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            detail = f":\n{explain()}" if explain else ""
            pytest.fail(f"no {what} within {WITHIN_S}s{detail}")
        time.sleep(0.05)


class OwnServer(Server):
    """A `longrun serve` of one test's own, on a SQLite file, so that it can
    be stopped and started again on the same ports with its operations."""

    def __init__(self, binary: str, workdir: Path):
        sockets = [socket.socket() for _ in range(2)]
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        public, control = (f"127.0.0.1:{s.getsockname()[1]}" for s in sockets)
        for s in sockets:
            s.close()
        super().__init__(public=public, control=control)
        self.binary = binary
        self.database = f"sqlite://{workdir / 'ops.db'}"
        self.log_path = workdir / "server.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("LONGRUN_")}
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [self.binary, "serve", "--listen", self.public, "--control-listen", self.control,
                 "--database", self.database],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
            )
        wait_for("server on " + self.public, self._ready)

    def _ready(self) -> bool:
        if self.proc.poll() is not None:
            pytest.fail(f"longrun exited with {self.proc.returncode}:\n{self.log_path.read_text()}")
        try:
            for addr in (self.public, self.control):
                host, port = addr.rsplit(":", 1)
                socket.create_connection((host, int(port)), timeout=1).close()
            return True
        except OSError:
            return False

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            status = self.proc.wait(timeout=WITHIN_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            pytest.fail(f"longrun did not stop within {WITHIN_S}s of SIGTERM")
        assert status == 0, f"longrun exited with {status}:\n{self.log_path.read_text()}"


@pytest.fixture
def own_server(tmp_path):
    binary = os.environ.get("LONGRUN_BIN")
    if not binary:
        pytest.skip("set LONGRUN_BIN to the server binary (run.sh does)")
    server = OwnServer(binary, tmp_path)
    server.start()
    yield server
    if server.proc.poll() is None:
        server.stop()
