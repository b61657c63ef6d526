"""A longrun worker in Python: it runs one operation's work in steps.

    python worker.py --parent projects/demo/locations/local      # create one, then work on it
    python worker.py --name projects/demo/locations/local/operations/ID

It talks to longrun's control API (longrun.v1.OperationsControl, by default on
127.0.0.1:8081) with grpcio and the stubs that generate.py makes, and nothing
else. With --parent it first acts as the producer and creates the operation
(printing `operation NAME` on stdout); with --name it works on one that a
producer created.

What it does, in order:
  1. WatchOperation: the stream marks the work as started, so a client's
     cancel now waits for this worker (up to the operation's cancel grace)
     instead of ending the operation at once.
  2. One step of work at a time, and after each an UpdateOperation with the
     progress in the operation's metadata (longrun.v1.OperationMetadata).
  3. When the work is done: CompleteOperation with a response.
     When the Watch says `cancel_requested`: it stops at once and acknowledges
     with CompleteOperation(error = CANCELLED).
     On SIGINT or SIGTERM: it stops and ends the operation with UNAVAILABLE, so
     that no client waits for work that nobody does any more.

Exit status: 0 when the operation ended as this worker reported it, 1 when it
could not (an RPC failed, the operation was deleted or ended without us).
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
import uuid
from pathlib import Path

import grpc

# The stubs from generate.py live next to this file, not in site-packages.
sys.path.insert(0, str(Path(__file__).resolve().parent / "generated"))
try:
    from google.longrunning import operations_pb2
    from google.protobuf import any_pb2, duration_pb2, empty_pb2
    from google.rpc import code_pb2, status_pb2
    from longrun.v1 import control_pb2, control_pb2_grpc, metadata_pb2
except ImportError as e:
    sys.exit(f"worker.py: the generated stubs are missing ({e}): run `python generate.py` first")

log = logging.getLogger("worker")

# Every unary call gets a deadline, and waits up to it for a server that is
# away (a restart, a deploy) instead of failing at once (wait_for_ready). The
# Watch stream has no deadline, since it lasts as long as the work.
RPC_TIMEOUT_S = 10.0
UNARY = {"timeout": RPC_TIMEOUT_S, "wait_for_ready": True}

# grpcio also retries a call that the server answered with UNAVAILABLE. That
# is safe for all four RPCs: Create carries a request_id, Update sends the
# whole metadata each time, and a repeated Complete is refused with
# FAILED_PRECONDITION, never applied twice.
SERVICE_CONFIG = json.dumps(
    {
        "methodConfig": [
            {
                "name": [{"service": "longrun.v1.OperationsControl"}],
                "retryPolicy": {
                    "maxAttempts": 5,
                    "initialBackoff": "0.2s",
                    "maxBackoff": "3s",
                    "backoffMultiplier": 2,
                    "retryableStatusCodes": ["UNAVAILABLE"],
                },
            }
        ]
    }
)

# Codes after which a later progress report may well succeed.
TRANSIENT = {
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
}


def pack(message) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)
    return packed


def create_operation(
    stub: control_pb2_grpc.OperationsControlStub,
    parent: str,
    *,
    cancel_grace_s: int,
) -> operations_pb2.Operation:
    """The producer's side: start tracking a new operation.

    It is created with metadata, so that clients see a status from the start
    and the server has a `requested_cancellation` field to set on a cancel.
    The request_id makes a retried Create return the same operation.
    """
    metadata = metadata_pb2.OperationMetadata(
        target=parent, verb="example", status_message="waiting for a worker"
    )
    request = control_pb2.CreateOperationRequest(
        parent=parent,
        metadata=pack(metadata),
        request_id=str(uuid.uuid4()),
        cancel_grace=duration_pb2.Duration(seconds=cancel_grace_s),
    )
    return stub.CreateOperation(request, **UNARY)


class Stop:
    """Why the work should stop before it is finished. The first reason wins;
    the Watch thread and the signal handler set it, the work loop reads it."""

    CANCEL = "a client asked for cancellation"
    SIGNAL = "the worker was asked to stop"
    ENDED = "the operation ended without this worker"
    LOST = "the operation could not be watched"

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self.reason: str | None = None

    def set(self, reason: str) -> None:
        with self._lock:
            if self.reason is None:
                self.reason = reason
                self._event.set()

    def wait(self, timeout: float) -> bool:
        """Sleeps up to `timeout` seconds; True as soon as a stop is asked."""
        return self._event.wait(timeout)


class Watch:
    """Follows WatchOperation in a thread of its own and turns its events
    into a Stop. The stream is opened again if it breaks: a Watch opened after
    a cancel request says so in its first event, so none is missed."""

    def __init__(self, stub: control_pb2_grpc.OperationsControlStub, name: str, stop: Stop):
        self._stub = stub
        self._name = name
        self._stop = stop
        self._closing = threading.Event()
        self._lock = threading.Lock()
        self._call = None
        self._first = threading.Event()
        self.operation: operations_pb2.Operation | None = None
        self._thread = threading.Thread(target=self._run, name="watch", daemon=True)

    def start(self, timeout: float) -> operations_pb2.Operation:
        """Opens the stream and returns the operation's current state."""
        self._thread.start()
        if not self._first.wait(timeout) or self.operation is None:
            raise RuntimeError(f"no state of {self._name} within {timeout}s: {self._stop.reason}")
        return self.operation

    def close(self) -> None:
        self._closing.set()
        with self._lock:
            if self._call is not None:
                self._call.cancel()
        self._thread.join(timeout=RPC_TIMEOUT_S)

    def _run(self) -> None:
        backoff = 0.2
        while not self._closing.is_set():
            try:
                if self._follow():
                    return
                # The server ends the stream only after the done state: this
                # was a broken connection.
                log.warning("watch of %s ended early; opening it again", self._name)
            except grpc.RpcError as e:
                if self._closing.is_set():
                    return
                if e.code() != grpc.StatusCode.UNAVAILABLE:
                    log.error("watch of %s failed: %s: %s", self._name, e.code().name, e.details())
                    self._lost()
                    return
                log.warning("watch of %s broke (%s); opening it again", self._name, e.details())
            if self._closing.wait(backoff):
                return
            backoff = min(backoff * 2, 5.0)

    def _follow(self) -> bool:
        """Reads one stream; True once the operation is done or we close."""
        with self._lock:
            if self._closing.is_set():
                return True
            self._call = self._stub.WatchOperation(
                control_pb2.WatchOperationRequest(name=self._name)
            )
        for event in self._call:
            self.operation = event.operation
            self._first.set()
            if event.cancel_requested:
                self._stop.set(Stop.CANCEL)
            if event.operation.done:
                self._stop.set(Stop.ENDED)
                return True
        return self._closing.is_set()

    def _lost(self) -> None:
        self._stop.set(Stop.LOST)
        self._first.set()


def current_metadata(operation: operations_pb2.Operation) -> metadata_pb2.OperationMetadata:
    """The metadata to build progress reports on. An Update replaces the whole
    message, so the worker starts from what the producer stored (target, verb)
    and changes only the status; the server keeps the times and
    requested_cancellation itself."""
    metadata = metadata_pb2.OperationMetadata()
    if operation.HasField("metadata") and not operation.metadata.Unpack(metadata):
        log.warning(
            "metadata of %s is a %s, not longrun.v1.OperationMetadata: progress replaces it",
            operation.name,
            operation.metadata.type_url,
        )
    return metadata


def do_step(step: int, seconds: float, stop: Stop) -> bool:
    """One step of the work; False if a stop came first. This example only
    waits: real work does a piece of its job here and checks `stop` between
    pieces, as often as it wants a cancel to take effect."""
    return not stop.wait(seconds)


def report_progress(stub, name: str, metadata: metadata_pb2.OperationMetadata) -> bool:
    """UpdateOperation with the whole metadata. False when the operation can
    no longer take reports (it is done or gone); a transient failure only
    costs this one report, since the next one carries the whole state."""
    try:
        stub.UpdateOperation(
            control_pb2.UpdateOperationRequest(name=name, metadata=pack(metadata)), **UNARY
        )
        return True
    except grpc.RpcError as e:
        if e.code() in TRANSIENT:
            log.warning("progress report for %s failed (%s); going on", name, e.code().name)
            return True
        if e.code() in (grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.NOT_FOUND):
            log.error("%s takes no more reports: %s", name, e.details())
            return False
        raise


def complete(stub, name: str, **result) -> bool:
    """CompleteOperation with `response=` or `error=`. False when the
    operation was done already (its cancel grace ran out, or someone else
    completed it): the first result stands."""
    try:
        stub.CompleteOperation(
            control_pb2.CompleteOperationRequest(name=name, **result), **UNARY
        )
        return True
    except grpc.RpcError as e:
        if e.code() == grpc.StatusCode.FAILED_PRECONDITION:
            log.error("%s was done before this worker completed it: %s", name, e.details())
            return False
        raise


def work(stub, name: str, *, steps: int, step_seconds: float, stop: Stop) -> int:
    """Runs the operation's work; returns the exit status."""
    watch = Watch(stub, name, stop)
    try:
        operation = watch.start(timeout=RPC_TIMEOUT_S)
        if operation.done:
            log.error("%s is done already; nothing to do", name)
            return 1
        metadata = current_metadata(operation)
        done = 0
        while done < steps and do_step(done + 1, step_seconds, stop):
            done += 1
            metadata.status_message = f"{done} of {steps} steps done"
            if not report_progress(stub, name, metadata):
                return 1
        if done == steps:
            # A real worker packs its API's response message here, and the
            # server is started with --descriptor-set naming that type, so
            # REST clients can read it. Empty needs neither.
            ok = complete(stub, name, response=pack(empty_pb2.Empty()))
            log.info("%s finished: %d steps", name, steps)
            return 0 if ok else 1
        return stop_early(stub, name, stop.reason, f"after {done} of {steps} steps")
    finally:
        watch.close()


def stop_early(stub, name: str, reason: str | None, progress: str) -> int:
    if reason == Stop.CANCEL:
        log.info("%s: cancel requested; stopping %s", name, progress)
        error = status_pb2.Status(code=code_pb2.CANCELLED, message=f"cancelled {progress}")
        return 0 if complete(stub, name, error=error) else 1
    if reason == Stop.SIGNAL:
        log.info("%s: stopping %s on a signal", name, progress)
        error = status_pb2.Status(
            code=code_pb2.UNAVAILABLE, message=f"the worker stopped {progress}; try again"
        )
        return 0 if complete(stub, name, error=error) else 1
    log.error("%s: %s (%s)", name, reason, progress)
    return 1


def on_signals(stop: Stop) -> None:
    """The first SIGINT/SIGTERM asks for a clean stop; a second one ends the
    process at once (the handlers go back to the default)."""

    def handle(signum, _frame) -> None:
        log.info("got %s; stopping", signal.Signals(signum).name)
        stop.set(Stop.SIGNAL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)

    signal.signal(signal.SIGINT, handle)
    signal.signal(signal.SIGTERM, handle)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--control", default="127.0.0.1:8081", help="control API address (host:port)")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--parent", help="create an operation here (projects/P/locations/L), then work on it")
    which.add_argument("--name", help="work on this existing operation")
    parser.add_argument("--steps", type=int, default=10, help="steps of work (default 10)")
    parser.add_argument("--step-seconds", type=float, default=1.0, help="length of one step (default 1)")
    parser.add_argument(
        "--cancel-grace", type=int, default=30, help="with --parent: seconds a cancel waits for the worker"
    )
    args = parser.parse_args(argv)
    if args.steps < 1 or args.step_seconds < 0 or args.cancel_grace < 0:
        parser.error("--steps must be at least 1; --step-seconds and --cancel-grace not negative")
    return args


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s worker %(levelname)s %(message)s")
    args = parse_args(argv)
    stop = Stop()
    on_signals(stop)
    options = [("grpc.service_config", SERVICE_CONFIG), ("grpc.enable_retries", 1)]
    with grpc.insecure_channel(args.control, options=options) as channel:
        stub = control_pb2_grpc.OperationsControlStub(channel)
        try:
            name = args.name
            if name is None:
                name = create_operation(stub, args.parent, cancel_grace_s=args.cancel_grace).name
            print(f"operation {name}", flush=True)
            return work(stub, name, steps=args.steps, step_seconds=args.step_seconds, stop=stop)
        except grpc.RpcError as e:
            log.error("%s failed: %s: %s", args.control, e.code().name, e.details())
            return 1
        except RuntimeError as e:
            log.error("%s", e)
            return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
