"""The server under attack and the measuring around each attack.

Each scenario gets its own `longrun serve` (LONGRUN_BIN) on free loopback
ports with an in-memory database, so one attack's memory or connections
never show in the next one's figures. Around the attack, `measure` runs the
normal client (probe.py, its own process) once before it for the baseline
and once during it, samples the server's resident memory from
/proc/PID/status, and records a row for the table printed at the end.

LONGRUN_ABUSE_SMOKE=1 makes every count and window tiny (for CI: it shows
the scenarios still run and the server still survives them, not figures).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]

sys.path.insert(0, str(REPO / "tests" / "pysupport"))
from longrun_process import die_with_parent, free_ports, longrun_binary, wait_ready  # noqa: E402

SMOKE = os.environ.get("LONGRUN_ABUSE_SMOKE", "") not in ("", "0")
READY_WITHIN_S = 30.0
STOP_WITHIN_S = 40.0

# How long the normal client is measured, before the attack and during it.
WINDOW_S = 1.0 if SMOKE else 4.0
# The machine is a shared 2-core one: a p99 of a few milliseconds doubles
# from scheduling noise alone, so "within 2x" has a floor of 20 ms on top
# of the baseline.
P99_FLOOR_MS = 20.0
RSS_LIMIT_MIB = 64.0
PROBE_OPERATION = "projects/abuse/locations/here/operations/probe"


def scaled(full: int, smoke: int) -> int:
    return smoke if SMOKE else full


@dataclass
class Server:
    proc: subprocess.Popen
    public_addr: str
    control_addr: str
    log_path: Path

    @property
    def public_url(self) -> str:
        return f"http://{self.public_addr}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def rss_mib(self) -> float:
        """VmRSS of the server process, in MiB."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS in /proc status")

    def assert_alive(self) -> None:
        assert self.proc.poll() is None, f"longrun exited with {self.proc.returncode}:\n{self.log()}"


def _post(url: str, body: dict) -> dict:
    request = urllib.request.Request(
        url, method="POST", data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())



def _stop(server: Server) -> None:
    proc = server.proc
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=STOP_WITHIN_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            pytest.fail(f"longrun did not stop within {STOP_WITHIN_S}s of SIGTERM:\n{server.log()}")
    assert proc.returncode == 0, f"longrun exited with {proc.returncode} after SIGTERM:\n{server.log()}"


@pytest.fixture
def server(tmp_path) -> Server:
    public_port, control_port = free_ports(2)
    log_path = tmp_path / "server.log"
    # Every flag also reads LONGRUN_<NAME>: none of the caller's may change
    # the server under test (LONGRUN_BIN and LONGRUN_LOG aside).
    env = {k: v for k, v in os.environ.items() if not k.startswith("LONGRUN_")}
    env["LONGRUN_LOG"] = os.environ.get("LONGRUN_LOG", "warn")
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [
                str(longrun_binary()), "serve",
                "--listen", f"127.0.0.1:{public_port}",
                "--control-listen", f"127.0.0.1:{control_port}",
                "--database", "sqlite::memory:",
            ],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
            preexec_fn=die_with_parent if sys.platform == "linux" else None,
        )
    server = Server(proc, f"127.0.0.1:{public_port}", f"127.0.0.1:{control_port}", log_path)
    try:
        wait_ready(server.proc, server.public_addr, server.control_addr, server.log, READY_WITHIN_S)
        parent, _, operation_id = PROBE_OPERATION.rpartition("/operations/")
        _post(f"http://{server.control_addr}/v1/{parent}/operations", {"operationId": operation_id})
        yield server
    finally:
        _stop(server)


def p99(values: list[float]) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


@dataclass
class Probe:
    latencies_ms: list[float]
    error_count: int
    errors: list[str]

    @property
    def p99(self) -> float:
        return p99(self.latencies_ms)


def start_probe(server: Server, seconds: float) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(HERE / "probe.py"), f"{server.public_url}/v1/{PROBE_OPERATION}", str(seconds)],
        stdout=subprocess.PIPE, text=True,
    )


def finish_probe(proc: subprocess.Popen, seconds: float) -> Probe:
    out, _ = proc.communicate(timeout=seconds + 30)
    data = json.loads(out)
    return Probe(data["latencies_ms"], data["error_count"], data["errors"])


@dataclass
class Outcome:
    """What an attack returns: how many it sent and what the server did."""

    count: str  # e.g. "40,000 streams on 2 connections"
    closed: str  # e.g. "GOAWAY ENHANCE_YOUR_CALM after 0.02 s"
    # The longest time any attacking connection stayed open (None: the
    # cost is bounded otherwise, and `bound` says how).
    closed_after_s: float | None = None
    bound: str = ""


@dataclass
class Row:
    scenario: str
    sent: str
    outcome: Outcome
    baseline: Probe
    attack: Probe
    rss_before: float
    rss_peak: float

    @property
    def rss_growth(self) -> float:
        return max(0.0, self.rss_peak - self.rss_before)


ROWS: list[Row] = []


class _RssSampler(threading.Thread):
    def __init__(self, server: Server):
        super().__init__(daemon=True)
        self.server = server
        self.peak = server.rss_mib()
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.02):
            try:
                self.peak = max(self.peak, self.server.rss_mib())
            except (OSError, RuntimeError):
                return


def measure(
    server: Server,
    scenario: str,
    sent: str,
    attack: Callable[[float], Outcome],
    *,
    window_s: float = WINDOW_S,
    close_within_s: float | None = 1.0,
    prepare: Callable[[], None] | None = None,
) -> Row:
    """Baseline, then the attack (`attack(deadline)` runs until the
    monotonic deadline at most) with the normal client measuring during
    it; records the row and checks the three bounds. `prepare` runs after
    the baseline and before the normal client starts again: for an attack
    that sets up what it holds, so the p99 is of the holding, not of the
    setting up (its memory still counts)."""
    baseline = finish_probe(start_probe(server, WINDOW_S), WINDOW_S)
    rss_before = server.rss_mib()
    sampler = _RssSampler(server)
    sampler.start()
    if prepare is not None:
        prepare()
    probe = start_probe(server, window_s)
    outcome = attack(time.monotonic() + window_s)
    during = finish_probe(probe, window_s)
    sampler.stop.set()
    sampler.join()
    row = Row(scenario, sent, outcome, baseline, during, rss_before, sampler.peak)
    ROWS.append(row)
    server.assert_alive()

    assert baseline.latencies_ms, f"no baseline call succeeded: {baseline.errors}"
    assert during.latencies_ms, f"no call succeeded during the attack: {during.errors}"
    assert during.error_count == 0, f"the normal client failed during the attack: {during.errors}"
    allowed = max(2 * baseline.p99, baseline.p99 + P99_FLOOR_MS)
    assert during.p99 <= allowed, (
        f"p99 {during.p99:.1f} ms during the attack, baseline {baseline.p99:.1f} ms, allowed {allowed:.1f} ms"
    )
    assert row.rss_growth < RSS_LIMIT_MIB, f"RSS grew {row.rss_growth:.1f} MiB"
    if close_within_s is not None:
        assert outcome.closed_after_s is not None, f"the attacker was not closed: {outcome.closed}"
        assert outcome.closed_after_s <= close_within_s, outcome.closed
    else:
        assert outcome.bound, "an attack left open must say what bounds its cost"
    return row


def pytest_terminal_summary(terminalreporter) -> None:
    if not ROWS:
        return
    lines = [
        "| scenario | sent | how many | server's answer | p99 baseline → attack (ms) | RSS growth (MiB) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in ROWS:
        answer = r.outcome.closed + (f"; {r.outcome.bound}" if r.outcome.bound else "")
        lines.append(
            f"| {r.scenario} | {r.sent} | {r.outcome.count} | {answer} | "
            f"{r.baseline.p99:.1f} → {r.attack.p99:.1f} | {r.rss_growth:.1f} |"
        )
    mode = "smoke (tiny counts, figures not meaningful)" if SMOKE else "full"
    terminalreporter.write_sep("=", f"connection abuse, {mode}")
    for line in lines:
        terminalreporter.write_line(line)
    report = os.environ.get("LONGRUN_ABUSE_REPORT")
    if report:
        Path(report).write_text("\n".join(lines) + "\n")
