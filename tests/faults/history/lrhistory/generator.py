"""A seeded load of clients and workers that records every call.

Clients (the public Operations API, plus CreateOperation on the control
API) create operations (with a request_id, sometimes repeated), Get, List,
Wait (with a bound), Cancel and Delete them. Workers (the control API)
list running operations, claim one by opening its Watch, Update it, then
Complete it with a result of their own or, when the Watch shows a cancel
request, acknowledge the cancel with CANCELLED. Two workers may claim the
same operation: one Complete wins, the other is refused.

Every call goes into the History with its outcome. A call that cannot
connect (the server is down) is recorded as failed and the thread pauses
briefly, so a restart does not turn into a busy loop.

Several addresses (replicas) may be given; each call picks one at random.
"""

from __future__ import annotations

import random
import threading
import time
import urllib.parse
from dataclasses import dataclass, field

from .client import FAILED, OK, UNKNOWN, Answer, Connection, WatchStream
from .history import History, compact_operation

PARENTS = ("projects/hist/locations/east", "projects/hist/locations/west")
# Zero-grace operations end at once on Cancel; the others wait for the
# worker (or the stored grace deadline, which must outlive restarts).
GRACES = (("0s", 0.0), ("1s", 1.0))
WAIT_TIMEOUTS_S = (0.2, 0.5, 1.0, 1.5)
DOWN_PAUSE_S = 0.02
RECENT_NAMES = 300


@dataclass
class Settings:
    clients: int = 8
    workers: int = 4
    seed: int = 1
    call_timeout_s: float = 10.0
    # Of a client's steps, the share of each kind (the rest are Gets).
    create: float = 0.25
    list: float = 0.08
    cancel: float = 0.12
    delete: float = 0.05
    wait: float = 0.12
    repeat_request_id: float = 0.3
    zero_grace: float = 0.75


@dataclass
class _Shared:
    names: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, name: str) -> None:
        with self.lock:
            if name not in self.names:
                self.names.append(name)
                if len(self.names) > RECENT_NAMES:
                    del self.names[: len(self.names) - RECENT_NAMES]

    def pick(self, rng: random.Random) -> str | None:
        with self.lock:
            return rng.choice(self.names) if self.names else None


class Load:
    """Starts the threads; `stop()` ends them (each finishes its call)."""

    def __init__(self, history: History, public_addrs: list[str], control_addrs: list[str], settings: Settings):
        self.history = history
        self.public_addrs = public_addrs
        self.control_addrs = control_addrs
        self.settings = settings
        self.shared = _Shared()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.errors: list[str] = []

    def start(self) -> None:
        s = self.settings
        for i in range(s.clients):
            self._spawn(f"client-{i}", _Client(self, i, random.Random(s.seed * 1000 + i)).run)
        for i in range(s.workers):
            self._spawn(f"worker-{i}", _Worker(self, i, random.Random(s.seed * 1000 + 500 + i)).run)

    def _spawn(self, name: str, target) -> None:
        def guarded() -> None:
            try:
                target()
            except Exception as e:  # a bug in the generator must not pass silently
                self.errors.append(f"{name}: {type(e).__name__}: {e}")
                raise

        thread = threading.Thread(target=guarded, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def stop(self, join_timeout_s: float = 30.0) -> None:
        self._stop.set()
        deadline = time.monotonic() + join_timeout_s
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))
        alive = [t.name for t in self._threads if t.is_alive()]
        if alive:
            self.errors.append(f"threads still running {join_timeout_s}s after stop: {alive}")


class _Actor:
    def __init__(self, load: Load, index: int, rng: random.Random, proc: str):
        self.load = load
        self.rng = rng
        self.proc = proc
        self.index = index
        self.counter = 0
        self.public = {a: Connection(a, load.settings.call_timeout_s) for a in load.public_addrs}
        self.control = {a: Connection(a, load.settings.call_timeout_s) for a in load.control_addrs}

    def _pick(self, conns: dict[str, Connection]) -> Connection:
        return conns[self.rng.choice(sorted(conns))]

    def call(self, op: str, conns: dict[str, Connection], method: str, path: str, body: dict | None,
             *, name: str | None, req: dict, timeout_s: float | None = None) -> Answer:
        conn = self._pick(conns)
        start = self.load.history.now()
        answer = conn.call(method, path, body, timeout_s=timeout_s)
        end = self.load.history.now()
        ans = answer.body
        if answer.outcome == OK and isinstance(ans, dict):
            if "operations" in ans:
                ans = {"operations": [compact_operation(o) for o in ans.get("operations") or []]}
            elif "name" in ans:
                ans = compact_operation(ans)
        elif isinstance(ans, dict) and "error" in ans:
            error = ans["error"] if isinstance(ans["error"], dict) else {}
            ans = {"error": {k: error.get(k) for k in ("code", "status", "message")}}
        if answer.outcome == OK and op == "create" and isinstance(ans, dict):
            name = ans.get("name")
        self.load.history.record({
            "proc": self.proc, "op": op, "start": start, "end": end, "outcome": answer.outcome,
            "code": answer.code, "name": name, "addr": f"{conn.host}:{conn.port}", "req": req, "ans": ans,
        })
        if answer.outcome == FAILED and answer.code and answer.code.startswith("CONNECT"):
            time.sleep(DOWN_PAUSE_S)
        elif answer.outcome == UNKNOWN:
            time.sleep(DOWN_PAUSE_S)
        return answer


class _Client(_Actor):
    def __init__(self, load: Load, index: int, rng: random.Random):
        super().__init__(load, index, rng, f"client-{index}")
        # request_id -> the create request first sent with it, to send again.
        self.request_ids: list[tuple[str, dict]] = []

    def run(self) -> None:
        s = self.load.settings
        while not self.load.stopping:
            r = self.rng.random()
            name = self.load.shared.pick(self.rng)
            if name is None or r < s.create:
                self.create()
                continue
            r -= s.create
            if r < s.list:
                self.list()
            elif r < s.list + s.cancel:
                self.simple("cancel", "POST", f"/v1/{name}:cancel", {}, name)
            elif r < s.list + s.cancel + s.delete:
                self.simple("delete", "DELETE", f"/v1/{name}", None, name)
            elif r < s.list + s.cancel + s.delete + s.wait:
                self.wait(name)
            else:
                self.simple("get", "GET", f"/v1/{name}", None, name)

    def create(self) -> None:
        s = self.load.settings
        if self.request_ids and self.rng.random() < s.repeat_request_id:
            request_id, req = self.rng.choice(self.request_ids[-20:])
        else:
            self.counter += 1
            request_id = f"s{s.seed}-c{self.index}-{self.counter}"
            grace_text, _ = GRACES[0] if self.rng.random() < s.zero_grace else GRACES[1]
            req = {"parent": self.rng.choice(PARENTS), "requestId": request_id, "cancelGrace": grace_text}
            self.request_ids.append((request_id, req))
        body = {"requestId": req["requestId"], "cancelGrace": req["cancelGrace"]}
        answer = self.call("create", self.control, "POST", f"/v1/{req['parent']}/operations", body,
                           name=None, req=req)
        if answer.outcome == OK and isinstance(answer.body, dict) and answer.body.get("name"):
            self.load.shared.add(answer.body["name"])

    def list(self) -> None:
        parent = self.rng.choice(PARENTS)
        query = {"pageSize": "20"}
        if self.rng.random() < 0.3:
            query["filter"] = "done = false"
        answer = self.call("list", self.public, "GET",
                           f"/v1/{parent}/operations?{urllib.parse.urlencode(query)}", None,
                           name=None, req={"parent": parent, **query})
        if answer.outcome == OK and isinstance(answer.body, dict):
            for op in answer.body.get("operations") or []:
                if isinstance(op, dict) and op.get("name"):
                    self.load.shared.add(op["name"])

    def wait(self, name: str) -> None:
        timeout = self.rng.choice(WAIT_TIMEOUTS_S)
        self.call("wait", self.public, "POST", f"/v1/{name}:wait", {"timeout": f"{timeout}s"},
                  name=name, req={"timeout_s": timeout}, timeout_s=timeout + 10)

    def simple(self, op: str, method: str, path: str, body: dict | None, name: str) -> None:
        self.call(op, self.public, method, path, body, name=name, req={})


class _Worker(_Actor):
    def __init__(self, load: Load, index: int, rng: random.Random):
        super().__init__(load, index, rng, f"worker-{index}")

    def run(self) -> None:
        while not self.load.stopping:
            parent = self.rng.choice(PARENTS)
            query = urllib.parse.urlencode({"pageSize": "20", "filter": "done = false"})
            answer = self.call("list", self.control, "GET", f"/v1/{parent}/operations?{query}", None,
                               name=None, req={"parent": parent, "pageSize": "20", "filter": "done = false"})
            if answer.outcome != OK or not isinstance(answer.body, dict):
                continue
            running = [o["name"] for o in answer.body.get("operations") or [] if isinstance(o, dict) and "name" in o]
            if not running:
                time.sleep(0.02)
                continue
            self.work(self.rng.choice(running))

    def work(self, name: str) -> None:
        history = self.load.history
        addr = self.rng.choice(self.load.control_addrs)
        stream = WatchStream(addr, name)
        start = history.now()
        entry = {"proc": self.proc, "op": "watch", "start": start, "name": name, "addr": addr, "req": {},
                 "events": []}
        cancel_seen = False
        done_seen = False
        try:
            failed = stream.open()
            if failed is not None:
                entry.update(outcome=failed.outcome, code=failed.code, ans=failed.body)
                return
            first = self._event(stream, entry, 5.0)
            if first is None:
                return
            cancel_seen, done_seen = first
            if done_seen:
                return
            self.call("update", self.control, "PATCH", f"/v1/{name}", {}, name=name, req={})
            window = self.rng.uniform(0.0, 0.4)
            deadline = time.monotonic() + window
            while not cancel_seen and not done_seen and time.monotonic() < deadline:
                seen = self._event(stream, entry, max(0.0, deadline - time.monotonic()))
                if seen is None:
                    break
                cancel_seen, done_seen = seen
            if done_seen:
                return
            self.counter += 1
            token = f"w{self.index}-{self.counter}"
            if cancel_seen:
                body = {"error": {"code": 1, "message": f"cancelled by worker {token}"}}
            elif self.rng.random() < 0.8:
                body = {"response": {"@type": "type.googleapis.com/google.protobuf.StringValue", "value": token}}
            else:
                body = {"error": {"code": 13, "message": f"failed by worker {token}"}}
            self.call("complete", self.control, "POST", f"/v1/{name}:complete", body, name=name, req=body)
        finally:
            stream.close()
            entry["end"] = history.now()
            entry.setdefault("outcome", OK if entry["events"] else UNKNOWN)
            entry.setdefault("code", None)
            entry.setdefault("ans", None)
            history.record(entry)

    def _event(self, stream: WatchStream, entry: dict, timeout_s: float) -> tuple[bool, bool] | None:
        """The next event as (cancel requested, done); None when the stream
        ended, broke or stayed silent (the entry says which)."""
        try:
            event = stream.next_event(timeout_s)
        except StopIteration:
            entry["ended"] = "closed"
            return None
        except ConnectionError as e:
            entry["ended"] = str(e)
            if not entry["events"]:
                entry.update(outcome=UNKNOWN, code="WIRE:stream")
            return None
        if event is None:
            return None
        t = self.load.history.now()
        if isinstance(event, dict) and "error" in event:
            error = event["error"] if isinstance(event["error"], dict) else {}
            entry["events"].append({"t": t, "error": {k: error.get(k) for k in ("code", "status", "message")}})
            entry["ended"] = "error"
            return None
        op = event.get("operation", {}) if isinstance(event, dict) else {}
        cancel = bool(event.get("cancelRequested")) if isinstance(event, dict) else False
        entry["events"].append({"t": t, "op": compact_operation(op), "cancelRequested": cancel})
        return cancel, bool(op.get("done"))
