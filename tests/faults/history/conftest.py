"""What the campaigns share: the binary, free ports, a directory per
campaign for its history and database, and the table printed at the end.

LONGRUN_FAULTS_SMOKE=1 runs a few cycles of each campaign (for CI: the
campaigns still run and find nothing, not figures). CYCLES sets the
cycles of every campaign (default 100 kill -9, 50 SIGTERM).
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]

sys.path.insert(0, str(REPO / "tests" / "pysupport"))
sys.path.insert(0, str(HERE))
from longrun_process import die_with_parent, free_ports, longrun_binary  # noqa: E402,F401

SMOKE = os.environ.get("LONGRUN_FAULTS_SMOKE", "") not in ("", "0")


def cycles(full: int, smoke: int) -> int:
    if os.environ.get("CYCLES"):
        return int(os.environ["CYCLES"])
    return smoke if SMOKE else full


@dataclass
class Row:
    scenario: str
    injected: str
    times: int
    lost: int
    figures: str


ROWS: list[Row] = []


@pytest.fixture
def campaign_dir(request) -> Path:
    """target/faults-history/<test name>/, emptied first: the history,
    the server's log and the SQLite files stay there after the run."""
    root = Path(os.environ.get("LONGRUN_FAULTS_HISTORY_DIR", REPO / "target" / "faults-history"))
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in request.node.name)
    path = root / safe
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def pytest_terminal_summary(terminalreporter) -> None:
    if not ROWS:
        return
    lines = [
        "| scenario | injected | how many times | acknowledged writes lost | figures |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in ROWS:
        lines.append(f"| {r.scenario} | {r.injected} | {r.times} | {r.lost} | {r.figures} |")
    mode = "smoke (a few cycles, figures not meaningful)" if SMOKE else "full"
    terminalreporter.write_sep("=", f"history campaigns, {mode}, {longrun_binary()}")
    for line in lines:
        terminalreporter.write_line(line)
    report = os.environ.get("LONGRUN_FAULTS_REPORT")
    if report:
        Path(report).write_text("\n".join(lines) + "\n")
