"""The server under test, the PostgreSQL database, and the report table.

Each scenario starts its own `longrun serve` (LONGRUN_BIN) on free loopback
ports, with its database where the scenario wants it (a file in a tmpfs it
mounted, a PostgreSQL database made for it), optionally under strace. Every
scenario adds a row to the table printed at the end (and written to
LONGRUN_FAULTS_REPORT=FILE when set).

LONGRUN_FAULTS_SMOKE=1 makes the counts and windows small (for CI: the
scenarios still run and still check everything they check, on less load).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]

sys.path.insert(0, str(REPO / "tests" / "pysupport"))
from longrun_process import die_with_parent, free_ports, longrun_binary, wait_ready  # noqa: E402

SMOKE = os.environ.get("LONGRUN_FAULTS_SMOKE", "") not in ("", "0")
READY_WITHIN_S = 60.0  # under strace, start-up is slower
STOP_WITHIN_S = 40.0


def scaled(full, smoke):
    return smoke if SMOKE else full


@dataclass
class Server:
    proc: subprocess.Popen  # longrun, or strace running it
    pid: int  # longrun's own pid
    public_addr: str
    control_addr: str
    log_path: Path

    @property
    def public_url(self) -> str:
        return f"http://{self.public_addr}"

    @property
    def ports(self) -> set[int]:
        return {int(self.public_addr.rsplit(":", 1)[1]), int(self.control_addr.rsplit(":", 1)[1])}

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def assert_alive(self) -> None:
        assert self.proc.poll() is None, f"longrun exited with {self.proc.returncode}:\n{self.log()}"

    def _signal_state(self) -> str:
        """What the kernel says of the process's signals, for a failure."""
        try:
            status = Path(f"/proc/{self.pid}/status").read_text().splitlines()
        except OSError as err:
            return f"no /proc status: {err}"
        keep = ("State", "TracerPid", "Threads", "SigPnd", "ShdPnd", "SigBlk", "SigCgt")
        return ", ".join(line.replace("\t", " ") for line in status if line.split(":")[0] in keep)

    def kill(self) -> None:
        """SIGKILL, at once: what a power cut does to the process."""
        _kill(self)

    def stop(self) -> None:
        """SIGTERM to longrun itself (strace passes nothing on; it exits
        with its tracee's status), then a clean exit within STOP_WITHIN_S."""
        if self.proc.poll() is None:
            try:
                os.kill(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=STOP_WITHIN_S)
            except subprocess.TimeoutExpired:
                state = self._signal_state()
                _kill(self)
                pytest.fail(f"longrun did not stop within {STOP_WITHIN_S}s of SIGTERM ({state}):\n{self.log()}")
        assert self.proc.returncode == 0, f"longrun exited with {self.proc.returncode}:\n{self.log()}"


def _kill(server: Server) -> None:
    """SIGKILL to longrun; strace, if it runs it, then ends by itself and
    flushes its trace (killed too if it does not within 10 s)."""
    try:
        os.kill(server.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        server.proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.proc.kill()
        server.proc.wait()


def _traced_pid(strace: subprocess.Popen) -> int:
    """The pid of longrun under strace: the child that runs the binary
    (strace first forks short-lived children of its own to test ptrace;
    setpriv execs longrun in place)."""
    binary = longrun_binary().resolve()
    deadline = time.monotonic() + READY_WITHIN_S
    path = Path(f"/proc/{strace.pid}/task/{strace.pid}/children")
    while time.monotonic() < deadline:
        for child in path.read_text().split() if path.exists() else []:
            try:
                if Path(f"/proc/{child}/exe").resolve() == binary:
                    return int(child)
            except OSError:
                continue
        if strace.poll() is not None:
            raise RuntimeError(f"strace exited with {strace.returncode}")
        time.sleep(0.01)
    raise RuntimeError("strace did not start longrun")



def start_server(
    workdir: Path,
    database: str,
    *,
    trace: Path | None = None,
    strace_args: list[str] = (),
    extra_env: dict[str, str] | None = None,
) -> Server:
    """`longrun serve` on free ports with `database`; under strace writing
    to `trace` when given; `extra_env` on top of the environment. The
    caller stops it (`Server.stop`)."""
    public_port, control_port = free_ports(2)
    log_path = workdir / f"server-{public_port}.log"
    # Every flag also reads LONGRUN_<NAME>: none of the caller's may change
    # the server under test (LONGRUN_LOG aside).
    env = {k: v for k, v in os.environ.items() if not k.startswith("LONGRUN_")}
    env["LONGRUN_LOG"] = os.environ.get("LONGRUN_LOG", "warn")
    env.update(extra_env or {})
    command = [
        str(longrun_binary()), "serve",
        "--listen", f"127.0.0.1:{public_port}",
        "--control-listen", f"127.0.0.1:{control_port}",
        "--database", database,
    ]
    if trace is not None:
        # setpriv: longrun gets SIGTERM if strace dies (strace would leave
        # it running); strace itself dies with pytest (die_with_parent).
        command = ["strace", *strace_args, "-o", str(trace), "setpriv", "--pdeathsig", "TERM", *command]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
            preexec_fn=die_with_parent if sys.platform == "linux" else None,
        )
    server = Server(proc, proc.pid, f"127.0.0.1:{public_port}", f"127.0.0.1:{control_port}", log_path)
    try:
        if trace is not None:
            server.pid = _traced_pid(proc)
        wait_ready(server.proc, server.public_addr, server.control_addr, server.log, READY_WITHIN_S)
    except BaseException:
        _kill(server)
        raise
    return server


@pytest.fixture
def postgres_url():
    """A fresh PostgreSQL database (power_<random>) on the server named by
    LONGRUN_TEST_DATABASE_URL, dropped afterwards; skips without it."""
    base = os.environ.get("LONGRUN_TEST_DATABASE_URL")
    if not base:
        pytest.skip("LONGRUN_TEST_DATABASE_URL is not set: the PostgreSQL scenario needs a server")
    if shutil.which("psql") is None:
        pytest.skip("psql is not installed: the PostgreSQL scenario makes its database with it")
    name = f"power_{uuid.uuid4().hex[:12]}"
    parts = urllib.parse.urlsplit(base)
    url = urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))
    subprocess.run(["psql", base, "-q", "-c", f"CREATE DATABASE {name}"], check=True, timeout=30)
    try:
        yield url
    finally:
        subprocess.run(["psql", base, "-q", "-c", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"],
                       check=False, timeout=30)


@dataclass
class Row:
    scenario: str
    injected: str
    times: str
    lost: str
    figures: str


ROWS: list[Row] = []


def pytest_terminal_summary(terminalreporter) -> None:
    if not ROWS:
        return
    lines = [
        "| scenario | injected | times | acknowledged writes lost | figures |",
        "| --- | --- | --- | --- | --- |",
    ]
    lines += [f"| {r.scenario} | {r.injected} | {r.times} | {r.lost} | {r.figures} |" for r in ROWS]
    mode = "smoke (small counts)" if SMOKE else "full"
    terminalreporter.write_sep("=", f"power loss and disk full, {mode}")
    for line in lines:
        terminalreporter.write_line(line)
    report = os.environ.get("LONGRUN_FAULTS_REPORT")
    if report:
        Path(report).write_text("\n".join(lines) + "\n")
