"""Checks on the stored rows themselves, after the server stopped, and a
PostgreSQL database of a campaign's own.

Both schemas (migrations/) keep a result as response_type/response_value or
error_code/error_message: a done row has exactly one of them, a running row
neither. A request_id names one operation per parent (a unique index; the
check repeats it). SQLite also gets `PRAGMA integrity_check`, on the file
opened read-only. PostgreSQL is read with `psql` (the client CI installs
with the server), so the suite needs no driver.
"""

from __future__ import annotations

import subprocess
import urllib.parse
import sqlite3
import uuid
from pathlib import Path

_CONSISTENCY = {
    "done row without exactly one of response and error":
        "SELECT count(*) FROM operations WHERE done = true AND "
        "((response_type IS NOT NULL) = (error_code IS NOT NULL))",
    "running row with a result":
        "SELECT count(*) FROM operations WHERE done = false AND "
        "(response_type IS NOT NULL OR error_code IS NOT NULL)",
    "request_id naming two operations":
        "SELECT count(*) FROM (SELECT 1 FROM operations WHERE request_id IS NOT NULL "
        "GROUP BY project, location, request_id HAVING count(*) > 1) AS dup",
}


def sqlite_problems(path: Path) -> tuple[list[str], int]:
    """(problems, rows) of a SQLite database file whose server has stopped."""
    problems: list[str] = []
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = db.execute("PRAGMA integrity_check").fetchall()
        if rows != [("ok",)]:
            problems.append(f"integrity_check: {rows[:10]}")
        for what, query in _CONSISTENCY.items():
            n = db.execute(query).fetchone()[0]
            if n:
                problems.append(f"{n} {what}")
        total = db.execute("SELECT count(*) FROM operations").fetchone()[0]
    finally:
        db.close()
    return problems, total


def _psql(url: str, sql: str) -> str:
    result = subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-Atqc", sql],
                            capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise RuntimeError(f"psql failed ({result.returncode}): {result.stderr.strip()}")
    return result.stdout.strip()


def postgres_problems(url: str) -> tuple[list[str], int]:
    problems: list[str] = []
    for what, query in _CONSISTENCY.items():
        n = int(_psql(url, query) or "0")
        if n:
            problems.append(f"{n} {what}")
    total = int(_psql(url, "SELECT count(*) FROM operations") or "0")
    return problems, total


class PostgresDatabase:
    """A database of its own on the server LONGRUN_TEST_DATABASE_URL names,
    made at start and dropped at the end."""

    def __init__(self, admin_url: str, prefix: str = "history"):
        self.admin_url = admin_url
        self.name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        parts = urllib.parse.urlsplit(admin_url)
        self.url = urllib.parse.urlunsplit(parts._replace(path=f"/{self.name}"))

    def __enter__(self) -> "PostgresDatabase":
        _psql(self.admin_url, f'CREATE DATABASE "{self.name}"')
        return self

    def __exit__(self, *exc) -> None:
        _psql(self.admin_url, f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
