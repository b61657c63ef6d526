"""Power cut: writes not yet synced are lost, and no acknowledged one is.

The server runs with powercut.so preloaded (see powercut.c): every fsync
of a file in the database's directory also keeps a copy of the file as it
then is. Writers run Create, then Complete or Cancel, then (one in three)
Delete; at a random moment the server gets SIGKILL, and the test puts back
each file's last synced copy and removes every file never synced (the
-shm, the lock): all that only the page cache held is gone. The next
server must show every acknowledged write. The shim is checked first on a
plain file (what was not synced does not survive the cut).
"""

from __future__ import annotations

import os
import random
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from calls import Client
from conftest import HERE, ROWS, Row, scaled, start_server

PARENT = "projects/power/locations/cut"
CUTS = scaled(5, 2)
WRITERS = 4
# When, after the writers start, the power goes.
CUT_AFTER_S = scaled((0.3, 1.5), (0.3, 0.6))


@pytest.fixture(scope="module")
def powercut_so(tmp_path_factory) -> Path:
    if shutil.which("gcc") is None:
        pytest.skip("gcc is not installed: the power-cut scenario builds its LD_PRELOAD shim with it")
    out = tmp_path_factory.mktemp("shim") / "powercut.so"
    built = subprocess.run(["gcc", "-shared", "-fPIC", "-O2", "-Wall", "-o", str(out),
                            str(HERE / "powercut.c"), "-ldl"], capture_output=True, text=True, timeout=120)
    assert built.returncode == 0, f"gcc failed:\n{built.stderr}"
    return out


BLOCK = 4096


def _blocks_differing(a: bytes, b: bytes) -> int:
    """4 KiB blocks that differ between two versions of a file."""
    length = max(len(a), len(b))
    return sum(a[i : i + BLOCK] != b[i : i + BLOCK] for i in range(0, length, BLOCK))


def cut_power(directory: Path) -> tuple[int, list[str]]:
    """Every file back to its last synced state; never-synced files gone.
    Returns the 4 KiB blocks dropped from synced files (written since their
    last sync) and the files removed."""
    dropped, removed = 0, []
    for path in sorted(directory.iterdir()):
        name = path.name
        if name.endswith(".tmp"):
            path.unlink()
            continue
        if name.endswith(".durable") or not path.is_file():
            continue
        durable = path.with_name(name + ".durable")
        if durable.exists():
            dropped += _blocks_differing(path.read_bytes(), durable.read_bytes())
            shutil.copyfile(durable, path)  # the copy stays: still durable
        else:
            removed.append(name)
            path.unlink()
    return dropped, removed


def settle(directory: Path) -> None:
    """After a server that ran without the shim stopped cleanly (it synced
    all it kept): what is there now is what is durable."""
    for path in directory.iterdir():
        if path.name.endswith(".durable"):
            if not path.with_name(path.name[: -len(".durable")]).exists():
                path.unlink()
        elif path.is_file():
            shutil.copyfile(path, path.with_name(path.name + ".durable"))


def test_the_shim_drops_what_was_not_synced(tmp_path, powercut_so):
    data = tmp_path / "data"
    data.mkdir()
    script = (
        "import os, sys\n"
        "d = sys.argv[1]\n"
        "f = os.open(d + '/kept', os.O_CREAT | os.O_WRONLY); os.write(f, b'synced'); os.fsync(f)\n"
        "os.write(f, b' and not synced')\n"
        "g = os.open(d + '/never', os.O_CREAT | os.O_WRONLY); os.write(g, b'never synced')\n"
        "os.kill(os.getpid(), 9)\n"
    )
    env = {**os.environ, "LD_PRELOAD": str(powercut_so), "POWERCUT_DIR": str(data)}
    subprocess.run([sys.executable, "-c", script, str(data)], env=env, timeout=30)
    assert (data / "kept").read_bytes() == b"synced and not synced"  # the page cache has it all
    dropped, removed = cut_power(data)
    assert (data / "kept").read_bytes() == b"synced"
    assert not (data / "never").exists()
    assert (dropped, removed) == (1, ["never"])


@dataclass
class History:
    """What each operation was last acknowledged as, and what is in doubt."""

    created: set[str] = field(default_factory=set)
    done: set[str] = field(default_factory=set)
    deleted: set[str] = field(default_factory=set)
    doubtful: set[str] = field(default_factory=set)  # its last call got no answer
    acks: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ack(self, into: set[str], op: str) -> None:
        with self.lock:
            into.add(op)
            self.acks += 1

    def doubt(self, op: str) -> None:
        with self.lock:
            self.doubtful.add(op)


def _writer(client: Client, history: History, stop: threading.Event, seed: int) -> None:
    rng = random.Random(seed)
    while not stop.is_set():
        op = f"cut{uuid.uuid4().hex[:12]}"
        name = f"{PARENT}/operations/{op}"
        if not client.create(PARENT, op).ok:
            history.doubt(op)
            return
        history.ack(history.created, op)
        end = client.complete if rng.random() < 0.5 else client.cancel
        if not end(name).ok:
            history.doubt(op)
            return
        history.ack(history.done, op)
        if rng.random() < 1 / 3:
            if not client.delete(name).ok:
                history.doubt(op)
                return
            history.ack(history.deleted, op)


def _verify(client: Client, history: History) -> list[str]:
    """Every acknowledged state, as the server shows it now. A call cut
    without an answer leaves its operation in either state: one whose
    Delete got no answer may be gone (else it is still done); one whose
    Complete or Cancel got none must still exist."""
    wrong = []
    for op in sorted(history.created):
        got = client.get(f"{PARENT}/operations/{op}")
        if op in history.deleted:
            if got.ok or got.code != "NOT_FOUND":
                wrong.append(f"{op}: deleted, but Get says {got}")
        elif op in history.done and op in history.doubtful:  # its Delete was cut
            if not got.ok and got.code != "NOT_FOUND":
                wrong.append(f"{op}: Get says {got}")
            elif got.ok and not got.done:
                wrong.append(f"{op}: acknowledged done, but it is running again")
        elif not got.ok:
            wrong.append(f"{op}: acknowledged, but Get says {got}")
        elif op in history.done and not got.done:
            wrong.append(f"{op}: acknowledged done, but it is running again")
    return wrong


def _cut(tmp_path: Path, data: Path, history: History, rng: random.Random, env: dict[str, str],
         lie: Path | None = None) -> tuple[list[str], int, list[str]]:
    """One server life: check what is there, write, lose the power. With
    `lie`, the syncs stop keeping anything once the writers are going."""
    db = data / "longrun.db"
    server = start_server(tmp_path, f"sqlite://{db}", extra_env=env)
    try:
        client = Client(server.public_addr, server.control_addr)
        wrong = _verify(client, history)
        stop = threading.Event()
        threads = [threading.Thread(target=_writer, args=(client, history, stop, rng.random()), daemon=True)
                   for _ in range(WRITERS)]
        for t in threads:
            t.start()
        if lie is not None:
            time.sleep(0.2)
            lie.touch()
        time.sleep(rng.uniform(*CUT_AFTER_S))
        server.kill()
        stop.set()
        for t in threads:
            t.join(timeout=30)
    finally:
        server.kill()
    if lie is not None:
        lie.unlink()
    dropped, removed = cut_power(data)
    return wrong, dropped, removed


def test_acknowledged_writes_survive_power_cuts(tmp_path, powercut_so):
    data = tmp_path / "data"
    data.mkdir()
    db = data / "longrun.db"
    lie = tmp_path / "lie"
    env = {"LD_PRELOAD": str(powercut_so), "POWERCUT_DIR": str(data), "POWERCUT_LIE": str(lie)}
    history = History()
    rng = random.Random(15)
    dropped_total, removed = 0, []
    wrong: list[str] = []
    for _ in range(CUTS):
        found, dropped, gone = _cut(tmp_path, data, history, rng, env)
        wrong += found
        dropped_total += dropped
        removed += gone

    # The last look: a server without the shim, then the file itself.
    server = start_server(tmp_path, f"sqlite://{db}")
    try:
        wrong += _verify(Client(server.public_addr, server.control_addr), history)
    finally:
        server.stop()
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]

    # The control: the same cut after syncs that keep nothing (a server
    # that skipped its fsyncs) must lose acknowledged writes, or the whole
    # database, and the check must see it.
    settle(data)
    control = History()
    _cut(tmp_path, data, control, rng, env, lie=lie)
    try:
        server = start_server(tmp_path, f"sqlite://{db}")
    except RuntimeError as err:
        control_lost = [f"the database did not open: {str(err).splitlines()[-1]}"]
    else:
        try:
            control_lost = _verify(Client(server.public_addr, server.control_addr), control)
        finally:
            server.stop()

    kinds = sorted({name.split(".")[-1] if "." in name else name for name in removed})
    ROWS.append(Row(
        "power cut (SQLite, LD_PRELOAD shim)",
        f"SIGKILL at a random moment under {WRITERS} writers, then every file back to its last fsync",
        f"{CUTS} cuts, {history.acks} acknowledged writes (Create, Complete or Cancel, Delete)",
        f"{len(wrong)} of {history.acks}",
        f"{dropped_total} unsynced 4 KiB blocks dropped from synced files, {len(removed)} never-synced files removed "
        f"({', '.join(kinds)}); {len(history.doubtful)} calls cut without an answer; integrity_check {integrity}; "
        f"control (fsyncs kept nothing): {len(control_lost)} of {control.acks} acknowledged writes lost"
        + (f" ({control_lost[0]})" if control_lost and control_lost[0].startswith("the database") else ""),
    ))
    assert not wrong, "\n".join(wrong[:20])
    assert integrity == "ok", integrity
    assert history.acks > 0
    assert control_lost, "the control lost nothing: the cut does not drop unsynced writes"
