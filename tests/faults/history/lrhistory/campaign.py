"""A fault campaign on one server: the load runs throughout while the
server is stopped (kill -9, or SIGTERM) and started again on the same
database, cycle after cycle; then every operation is read back, the
server stopped cleanly, the rows checked, and the history checked.
"""

from __future__ import annotations

import random
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import checker
from .final import final_read
from .generator import GRACES, PARENTS, Load, Settings
from .history import History
from .server import Server

KILL9 = "kill9"
SIGTERM = "sigterm"
SIGTERM_EXIT_LIMIT_S = 30.0


@dataclass
class Result:
    scenario: str
    backend: str
    cycles: int
    report: checker.Report
    history_path: Path
    serving_s: list[float] = field(default_factory=list)
    exit_s: list[float] = field(default_factory=list)
    bad_exits: list[str] = field(default_factory=list)
    store_problems: list[str] = field(default_factory=list)
    read_problems: list[str] = field(default_factory=list)
    load_errors: list[str] = field(default_factory=list)
    rows: int = 0
    seconds: float = 0.0

    def serving_text(self) -> str:
        if not self.serving_s:
            return "-"
        return f"{statistics.median(self.serving_s):.2f} / {max(self.serving_s):.2f}"

    def failures(self) -> list[str]:
        out = [str(v) for v in self.report.violations[:20]]
        out += self.bad_exits + self.store_problems + self.read_problems + self.load_errors
        if self.scenario == SIGTERM and self.exit_s and max(self.exit_s) >= SIGTERM_EXIT_LIMIT_S:
            out.append(f"SIGTERM exit took {max(self.exit_s):.1f}s (limit {SIGTERM_EXIT_LIMIT_S}s)")
        return out


def run(
    scenario: str,
    server: Server,
    cycles: int,
    history_path: Path,
    *,
    seed: int,
    settings: Settings | None = None,
    interval_s: tuple[float, float] = (0.5, 3.0),
    store_check=None,
) -> Result:
    """`store_check()` runs after the server stopped cleanly and returns
    (problems, rows)."""
    began = time.monotonic()
    rng = random.Random(seed)
    history = History(history_path)
    result = Result(scenario, "", cycles, checker.Report(), history_path)
    settings = settings or Settings(seed=seed)
    server.start()
    history.fault("start", pid=server.proc.pid)
    server.wait_serving()
    load = Load(history, [server.public_addr], [server.control_addr], settings)
    load.start()
    try:
        for cycle in range(cycles):
            time.sleep(rng.uniform(*interval_s))
            if scenario == KILL9:
                history.fault("kill -9", cycle=cycle, pid=server.proc.pid)
                server.kill9()
            else:
                history.fault("SIGTERM", cycle=cycle, pid=server.proc.pid)
                took, status = server.sigterm(within_s=SIGTERM_EXIT_LIMIT_S + 10)
                history.fault("exited", cycle=cycle, after_s=round(took, 3), status=status)
                result.exit_s.append(took)
                if status != 0:
                    result.bad_exits.append(f"cycle {cycle}: exit status {status} after SIGTERM ({took:.1f}s)")
            server.start()
            history.fault("start", cycle=cycle, pid=server.proc.pid)
            serving = server.wait_serving()
            history.fault("serving", cycle=cycle, after_s=round(serving, 3))
            result.serving_s.append(serving)
    finally:
        load.stop()
        result.load_errors = list(load.errors)
    # A cancel of an operation with a grace above zero ends it when the
    # grace runs out, even across the restarts: give the timers that long.
    time.sleep(max(g for _, g in GRACES) + 1.0)
    if server.running():
        result.read_problems = final_read(history, [server.public_addr], PARENTS)
        took, status = server.sigterm(within_s=SIGTERM_EXIT_LIMIT_S + 10)
        history.fault("final stop", after_s=round(took, 3), status=status)
        if status != 0:
            result.bad_exits.append(f"final stop: exit status {status}")
    else:
        result.read_problems = ["the server was not running at the end"]
    history.close()
    if store_check is not None:
        result.store_problems, result.rows = store_check()
    result.report = checker.check(history.entries)
    result.seconds = time.monotonic() - began
    return result
