"""The kill -9 and SIGTERM campaigns, on SQLite and on PostgreSQL.

kill -9: the server is killed at random intervals of 0.5-3 s under 8
clients and 4 workers and started again on the same database; no
acknowledged write may be lost, and the restart-to-serving time is
measured. SIGTERM: the same with a clean stop, which must exit 0 within
30 s and lose nothing either. After each campaign every operation is read
back, the server stopped, the rows checked (SQLite integrity_check; a done
row has exactly one of response and error) and the history checked
(lrhistory/checker.py).
"""

from __future__ import annotations

import os
import statistics

import pytest
from conftest import ROWS, Row, cycles, die_with_parent, free_ports, longrun_binary
from lrhistory import campaign, checker, store
from lrhistory.server import Server

SEED = int(os.environ.get("LONGRUN_FAULTS_SEED", "7"))

SCENARIOS = {
    campaign.KILL9: ("kill -9 at random 0.5-3 s intervals", (0.5, 3.0), (100, 4)),
    campaign.SIGTERM: ("SIGTERM at random 0.5-2 s intervals", (0.5, 2.0), (50, 3)),
}


def _figures(result: campaign.Result) -> str:
    r = result.report
    parts = [
        f"{r.calls:,} calls ({r.acknowledged_writes:,} acknowledged writes, {r.unknown:,} unknown outcome), "
        f"{r.operations:,} operations ({result.rows:,} rows)",
        f"restart to serving median/max {result.serving_text()} s",
    ]
    if result.exit_s:
        parts.append(f"exit after SIGTERM median/max {statistics.median(result.exit_s):.2f} / {max(result.exit_s):.2f} s")
    parts.append(f"{result.seconds:.0f} s")
    return "; ".join(parts)


def _run(scenario: str, backend: str, database: str, campaign_dir, store_check) -> None:
    injected, interval, counts = SCENARIOS[scenario]
    n = cycles(*counts)
    public_port, control_port = free_ports(2)
    server = Server(longrun_binary(), database, public_port, control_port, campaign_dir / "server.log",
                    preexec=die_with_parent)
    try:
        result = campaign.run(scenario, server, n, campaign_dir / "history.jsonl", seed=SEED,
                              interval_s=interval, store_check=store_check)
    finally:
        if server.running():
            server.kill9()
    ROWS.append(Row(f"{scenario}, {backend}", injected, n, result.report.lost, _figures(result)))
    print(f"\n{scenario} on {backend}: {checker.summary(result.report)}\nhistory: {result.history_path}")
    failures = result.failures()
    assert not failures, "\n".join(failures) + f"\nhistory: {result.history_path}\nlog: {campaign_dir / 'server.log'}"
    assert result.report.calls > n, "the load made almost no calls"


@pytest.mark.parametrize("scenario", [campaign.KILL9, campaign.SIGTERM])
def test_sqlite(scenario, campaign_dir):
    path = campaign_dir / "longrun.db"
    _run(scenario, "SQLite", f"sqlite://{path}", campaign_dir, lambda: store.sqlite_problems(path))


@pytest.mark.parametrize("scenario", [campaign.KILL9, campaign.SIGTERM])
def test_postgres(scenario, campaign_dir):
    admin = os.environ.get("LONGRUN_TEST_DATABASE_URL")
    if not admin:
        ROWS.append(Row(f"{scenario}, PostgreSQL", SCENARIOS[scenario][0], 0, 0,
                        "skipped: LONGRUN_TEST_DATABASE_URL not set"))
        pytest.skip("LONGRUN_TEST_DATABASE_URL not set: the PostgreSQL campaigns need a server")
    with store.PostgresDatabase(admin) as db:
        _run(scenario, "PostgreSQL", db.url, campaign_dir, lambda: store.postgres_problems(db.url))


def test_the_campaign_sees_a_store_that_forgets(campaign_dir):
    """The whole chain (load, history, final read, checker) on a server
    that does lose everything on kill -9: an in-memory database. If this
    found nothing lost, a clean campaign above would prove nothing."""
    public_port, control_port = free_ports(2)
    server = Server(longrun_binary(), "sqlite::memory:", public_port, control_port, campaign_dir / "server.log",
                    preexec=die_with_parent)
    try:
        result = campaign.run(campaign.KILL9, server, 2, campaign_dir / "history.jsonl", seed=SEED,
                              interval_s=(1.0, 1.5))
    finally:
        if server.running():
            server.kill9()
    kinds = result.report.kinds()
    print(f"\nkill9 on sqlite::memory: {checker.summary(result.report, limit=3)}")
    assert result.report.lost > 0, f"an in-memory store lost nothing across kill -9? {kinds}"
    assert kinds.get("lost create", 0) > 0, kinds
