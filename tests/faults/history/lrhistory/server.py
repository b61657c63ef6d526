"""One `longrun serve` that a campaign kills and starts again on the same
ports and the same database, and how long it takes to serve again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from .client import OK, Connection

READY_WITHIN_S = 60.0
PROBE_NAME = "projects/hist/locations/east/operations/readiness-probe"


class Server:
    def __init__(self, binary: Path, database: str, public_port: int, control_port: int, log_path: Path,
                 preexec=None, extra_args: list[str] | None = None):
        self.binary = binary
        self.database = database
        self.public_addr = f"127.0.0.1:{public_port}"
        self.control_addr = f"127.0.0.1:{control_port}"
        self.log_path = log_path
        self.preexec = preexec
        self.extra_args = extra_args or []
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> None:
        # Every flag also reads LONGRUN_<NAME>: none of the caller's may
        # change the server under test (LONGRUN_LOG aside).
        env = {k: v for k, v in os.environ.items() if not k.startswith("LONGRUN_")}
        env["LONGRUN_LOG"] = os.environ.get("LONGRUN_LOG", "warn")
        with open(self.log_path, "ab") as log:
            log.write(f"--- start {self.starts} ---\n".encode())
            log.flush()
            self.proc = subprocess.Popen(
                [str(self.binary), "serve", "--listen", self.public_addr, "--control-listen", self.control_addr,
                 "--database", self.database, *self.extra_args],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
                preexec_fn=self.preexec if sys.platform == "linux" else None,
            )
        self.starts += 1

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def wait_serving(self, probe_name: str | None = None) -> float:
        """Seconds from now until a GetOperation on the public port is
        answered from the store: 200 for `probe_name` (an operation known
        to exist), else the 404 of a name that does not."""
        assert self.proc is not None
        began = time.monotonic()
        conn = Connection(self.public_addr, timeout_s=5.0)
        try:
            while True:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"longrun exited with {self.proc.returncode} while starting:\n{self.log_tail()}")
                answer = conn.call("GET", f"/v1/{probe_name or PROBE_NAME}")
                if probe_name and answer.outcome == OK:
                    return time.monotonic() - began
                if not probe_name and answer.code == "NOT_FOUND":
                    return time.monotonic() - began
                if probe_name and answer.code == "NOT_FOUND":
                    # Served, but without an operation it had acknowledged:
                    # the checker will report it; serving is what is timed here.
                    return time.monotonic() - began
                if time.monotonic() - began > READY_WITHIN_S:
                    raise RuntimeError(f"longrun not serving within {READY_WITHIN_S}s:\n{self.log_tail()}")
                time.sleep(0.005)
        finally:
            conn.close()

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def sigterm(self, within_s: float = 40.0) -> tuple[float, int | None]:
        """Sends SIGTERM; (seconds until it exited, its status), status None
        when it had not exited within `within_s` (it is then killed)."""
        assert self.proc is not None
        began = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            status = self.proc.wait(timeout=within_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return time.monotonic() - began, None
        return time.monotonic() - began, status

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None
