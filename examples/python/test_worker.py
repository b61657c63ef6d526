"""The example workers against a real `longrun serve`, end to end.

Each test runs the worker as a user would (a process with command-line
flags) and checks the outcome the way a client sees it: over the public
REST API, with plain HTTP.
"""

from __future__ import annotations

import re
import time

from conftest import WITHIN_S, wait_for

EMPTY = {"@type": "type.googleapis.com/google.protobuf.Empty"}
METADATA_TYPE = "type.googleapis.com/longrun.v1.OperationMetadata"
# Far longer than any test: an operation that ends quickly after a cancel was
# ended by its worker, not by the server when the grace ran out.
LONG_GRACE_S = 300


def progress(server, name: str, steps: int) -> int:
    """Waits until the worker has reported progress; returns the steps done."""

    def reported():
        operation = server.get(name)
        assert not operation.get("done"), f"done before any progress: {operation}"
        message = operation.get("metadata", {}).get("statusMessage", "")
        match = re.fullmatch(rf"(\d+) of {steps} steps done", message)
        return match and int(match.group(1))

    return wait_for(f"progress report on {name}", reported)


def test_worker_that_finishes_completes_with_its_response(server, start_worker, parent):
    worker = start_worker("--parent", parent, "--steps", "3", "--step-seconds", "0.05")
    assert worker.wait() == 0, worker.log()

    operation = server.get(worker.name)
    assert operation["done"] is True
    assert operation["response"] == EMPTY
    assert "error" not in operation
    metadata = operation["metadata"]
    assert metadata["@type"] == METADATA_TYPE
    assert metadata["statusMessage"] == "3 of 3 steps done"
    assert (metadata["target"], metadata["verb"]) == (parent, "example")
    assert "endTime" in metadata
    assert "requestedCancellation" not in metadata


def test_worker_stops_and_acknowledges_a_cancel_sent_over_rest(server, start_worker, parent):
    steps = 600
    worker = start_worker(
        "--parent", parent, "--steps", str(steps), "--step-seconds", "0.05",
        "--cancel-grace", str(LONG_GRACE_S),
    )
    reported = progress(server, worker.name, steps)
    assert 1 <= reported < steps

    asked = time.monotonic()
    assert server.cancel(worker.name) == {}
    assert worker.wait() == 0, worker.log()
    assert time.monotonic() - asked < WITHIN_S

    operation = server.get(worker.name)
    assert operation["done"] is True
    assert "response" not in operation
    assert operation["error"]["code"] == 1, operation
    stopped_at = re.fullmatch(rf"cancelled after (\d+) of {steps} steps", operation["error"]["message"])
    assert stopped_at, f"not the worker's acknowledgement: {operation['error']}"
    done = int(stopped_at.group(1))
    assert reported <= done < steps
    metadata = operation["metadata"]
    assert metadata["requestedCancellation"] is True
    assert metadata["statusMessage"] == f"{done} of {steps} steps done"
    assert "endTime" in metadata
    assert "cancel requested" in worker.log()


def test_worker_keeps_the_producers_metadata_in_its_progress(server, start_worker, parent):
    created = server.create(
        parent,
        {
            "metadata": {
                "@type": METADATA_TYPE,
                "target": f"{parent}/buckets/photos",
                "verb": "import",
                "statusMessage": "queued",
                "apiVersion": "v1",
            },
            "cancelGrace": f"{LONG_GRACE_S}s",
        },
    )
    worker = start_worker("--name", created["name"], "--steps", "2", "--step-seconds", "0.05")
    assert worker.name == created["name"]
    assert worker.wait() == 0, worker.log()

    operation = server.get(created["name"])
    assert operation["done"] is True
    assert operation["response"] == EMPTY
    metadata = operation["metadata"]
    assert metadata["statusMessage"] == "2 of 2 steps done"
    assert metadata["target"] == f"{parent}/buckets/photos"
    assert (metadata["verb"], metadata["apiVersion"]) == ("import", "v1")
    assert metadata["createTime"] == created["metadata"]["createTime"]


def test_worker_stopped_by_sigterm_ends_the_operation_unavailable(server, start_worker, parent):
    steps = 600
    worker = start_worker(
        "--parent", parent, "--steps", str(steps), "--step-seconds", "0.05",
        "--cancel-grace", str(LONG_GRACE_S),
    )
    progress(server, worker.name, steps)
    worker.terminate()
    assert worker.wait() == 0, worker.log()

    operation = server.get(worker.name)
    assert operation["done"] is True
    assert operation["error"]["code"] == 14, operation  # UNAVAILABLE: try again
    assert re.fullmatch(
        rf"the worker stopped after \d+ of {steps} steps; try again", operation["error"]["message"]
    ), operation["error"]
    assert "requestedCancellation" not in operation["metadata"]


def test_worker_still_hears_a_cancel_after_a_server_restart(own_server, start_worker, parent):
    steps = 600
    worker = start_worker(
        "--parent", parent, "--steps", str(steps), "--step-seconds", "0.05",
        "--cancel-grace", str(LONG_GRACE_S), on=own_server,
    )
    before = progress(own_server, worker.name, steps)
    own_server.stop()
    own_server.start()
    # Progress goes on, and a cancel reaches the worker through a Watch it
    # opened again.
    wait_for(
        "progress after the restart",
        lambda: progress(own_server, worker.name, steps) > before,
        explain=worker.log,
    )
    assert own_server.cancel(worker.name) == {}
    assert worker.wait() == 0, worker.log()

    operation = own_server.get(worker.name)
    assert operation["done"] is True
    assert operation["error"]["code"] == 1, operation
    assert operation["error"]["message"].startswith("cancelled after ")
    assert operation["metadata"]["requestedCancellation"] is True


def test_worker_given_a_done_operation_changes_nothing(server, start_worker, parent):
    created = server.create(parent, {"metadata": {"@type": METADATA_TYPE, "statusMessage": "queued"}})
    # Nobody has started it, so the cancel ends it at once.
    server.cancel(created["name"])
    before = server.get(created["name"])
    assert before["done"] is True

    worker = start_worker("--name", created["name"], "--steps", "2", "--step-seconds", "0.05")
    assert worker.wait() == 1, worker.log()
    assert "done already" in worker.log()
    assert server.get(created["name"]) == before
