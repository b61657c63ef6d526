"""Replicas, databases and the figures table of the replica fault scenarios.

Every scenario runs real `longrun serve` processes (LONGRUN_BIN) on free
loopback ports, two replicas on one PostgreSQL database:

- the race and clock-skew scenarios use a fresh schema (`replicas_...`) in
  the database LONGRUN_TEST_DATABASE_URL names, dropped afterwards, and
  skip visibly without it;
- the restart scenario stops its database, so it starts a private
  PostgreSQL cluster of its own (initdb into a temporary directory, a free
  port, trust auth, fsync on) and never touches the machine's shared one;
  it skips visibly when no cluster can be made.

LONGRUN_FAULTS_SMOKE=1 makes every count small (for CI: the scenarios still
run and still check every invariant, the figures are not the README's).
The table printed at the end is also written to LONGRUN_FAULTS_REPORT=FILE.
"""

from __future__ import annotations

import os
import secrets
import shutil
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
REPO = HERE.parents[2]

sys.path.insert(0, str(REPO / "tests" / "pysupport"))
from longrun_process import die_with_parent, free_ports, longrun_binary, wait_ready  # noqa: E402

from rest import Replica  # noqa: E402

SMOKE = os.environ.get("LONGRUN_FAULTS_SMOKE", "") not in ("", "0")
DATABASE_URL_VAR = "LONGRUN_TEST_DATABASE_URL"
READY_WITHIN_S = 30.0
STOP_WITHIN_S = 40.0
PARENT = "projects/faults/locations/replicas"


def scaled(full: int, smoke: int) -> int:
    return smoke if SMOKE else full


# ---------------------------------------------------------------- the table


@dataclass
class Row:
    scenario: str
    injected: str
    times: str
    lost_errors: str
    figures: str


ROWS: list[Row] = []


def record(row: Row) -> None:
    ROWS.append(row)
    print(f"\n[{row.scenario}] {row.times}; lost/errors: {row.lost_errors}; {row.figures}")


def pytest_terminal_summary(terminalreporter) -> None:
    if not ROWS:
        return
    lines = [
        "| scenario | injected | how many times | lost / errors | figures |",
        "| --- | --- | --- | --- | --- |",
    ]
    lines += [f"| {r.scenario} | {r.injected} | {r.times} | {r.lost_errors} | {r.figures} |" for r in ROWS]
    mode = "smoke (small counts, figures not the README's)" if SMOKE else "full"
    terminalreporter.write_sep("=", f"replica faults, {mode}")
    for line in lines:
        terminalreporter.write_line(line)
    report = os.environ.get("LONGRUN_FAULTS_REPORT")
    if report:
        Path(report).write_text("\n".join(lines) + "\n")


# ---------------------------------------------------------------- replicas


@dataclass
class Launched:
    proc: subprocess.Popen
    replica: Replica
    log_path: Path
    label: str

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def assert_alive(self) -> None:
        assert self.proc.poll() is None, f"{self.label} exited with {self.proc.returncode}:\n{self.log()}"


def _server_env() -> dict[str, str]:
    # Every flag also reads LONGRUN_<NAME>: none of the caller's may change
    # the servers under test (LONGRUN_LOG aside).
    env = {k: v for k, v in os.environ.items() if not k.startswith("LONGRUN_")}
    env["LONGRUN_LOG"] = os.environ.get("LONGRUN_LOG", "warn")
    return env



def migrate(database_url: str) -> None:
    subprocess.run(
        [str(longrun_binary()), "migrate", "--database", database_url],
        check=True, env=_server_env(), stdin=subprocess.DEVNULL, capture_output=True, timeout=60,
    )


class Replicas:
    """Starts `longrun serve` processes and stops them all at the end."""

    def __init__(self, tmp_path: Path):
        self.tmp_path = tmp_path
        self.started: list[Launched] = []

    def start(self, database_url: str, label: str, *, wrapper: list[str] | None = None,
              env: dict[str, str] | None = None, args: list[str] | None = None) -> Launched:
        public_port, control_port = free_ports(2)
        log_path = self.tmp_path / f"{label}.log"
        server_env = _server_env() | (env or {})
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                [*(wrapper or []), str(longrun_binary()), "serve",
                 "--listen", f"127.0.0.1:{public_port}",
                 "--control-listen", f"127.0.0.1:{control_port}",
                 "--database", database_url, "--migrate=false", *(args or [])],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=server_env,
                preexec_fn=die_with_parent if sys.platform == "linux" else None,
            )
        launched = Launched(proc, Replica(f"127.0.0.1:{public_port}", f"127.0.0.1:{control_port}"),
                            log_path, label)
        self.started.append(launched)
        wait_ready(launched.proc, launched.replica.public_addr, launched.replica.control_addr,
                   launched.log, READY_WITHIN_S, launched.label)
        return launched

    def stop(self, launched: Launched) -> None:
        """SIGTERM, and the clean exit a drained replica owes."""
        launched.proc.send_signal(signal.SIGTERM)
        try:
            launched.proc.wait(timeout=STOP_WITHIN_S)
        except subprocess.TimeoutExpired:
            launched.proc.kill()
            launched.proc.wait()
            pytest.fail(f"{launched.label} did not stop within {STOP_WITHIN_S}s of SIGTERM")
        assert launched.proc.returncode == 0, f"{launched.label} exited with {launched.proc.returncode}"

    def stop_all(self) -> list[str]:
        problems = []
        for launched in self.started:
            proc = launched.proc
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=STOP_WITHIN_S)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
                    problems.append(f"{launched.label} did not stop within {STOP_WITHIN_S}s of SIGTERM")
                    continue
            if proc.returncode != 0:
                problems.append(f"{launched.label} exited with {proc.returncode}:\n{launched.log()[-3000:]}")
        return problems


@pytest.fixture
def replicas(tmp_path):
    started = Replicas(tmp_path)
    try:
        yield started
    finally:
        problems = started.stop_all()
        if problems:
            pytest.fail("\n".join(problems))


# ---------------------------------------------------------------- databases


def psql(url: str, sql: str, *, timeout: float = 30) -> str:
    done = subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-Atqc", sql],
                          capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"psql failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout.strip()


def with_params(url: str, **params: str) -> str:
    separator = "&" if "?" in url else "?"
    return url + separator + "&".join(f"{k}={v}" for k, v in params.items())


@dataclass
class Schema:
    admin_url: str
    name: str

    def url(self, application: str) -> str:
        return with_params(self.admin_url, **{
            "options%5Bsearch_path%5D": self.name,
            "application_name": f"{self.name}_{application}",
        })


@pytest.fixture
def schema():
    """A fresh schema in the shared test database, dropped afterwards."""
    admin_url = os.environ.get(DATABASE_URL_VAR)
    if not admin_url:
        pytest.skip(f"{DATABASE_URL_VAR} not set: this scenario needs PostgreSQL")
    if shutil.which("psql") is None:
        pytest.skip("psql not found: it makes and drops the scenario's schema")
    name = f"replicas_{secrets.token_hex(6)}"
    psql(admin_url, f"CREATE SCHEMA {name}")
    made = Schema(admin_url, name)
    migrate(made.url("migrate"))
    try:
        yield made
    finally:
        psql(admin_url, f"DROP SCHEMA IF EXISTS {name} CASCADE")
