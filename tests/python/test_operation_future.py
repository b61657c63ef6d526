"""api-core's operation future (what a generated client's long-running method
returns) polling longrun: a cancelled operation makes `.result()` raise
`google.api_core.exceptions.Cancelled`.

The future is built with `operation.from_gapic`, as generated clients do,
over api-core's gRPC OperationsClient and over the operations client of
Developer Connect's REST transport (the one its LRO methods use).
"""

import threading
import time

import grpc
import pytest
from google.api_core import exceptions, operation
from google.api_core.future import polling
from google.api_core.operations_v1 import OperationsClient
from google.auth.credentials import AnonymousCredentials
from google.cloud import developerconnect_v1
from google.cloud.developerconnect_v1.services.developer_connect.transports.rest import (
    DeveloperConnectRestTransport,
)
from google.protobuf import empty_pb2

from conftest import LONGRUN_DEFAULT, LONGRUN_METADATA, NO_METADATA, producer_metadata

# Poll every 0.1 s to 0.5 s instead of api-core's 1 s to 20 s.
FAST_POLLING = polling.DEFAULT_POLLING.with_delay(initial=0.1, maximum=0.5, multiplier=1.5)


@pytest.fixture(params=["grpc", "rest"])
def operations_client(request, server):
    if request.param == "grpc":
        channel = grpc.insecure_channel(server.public_addr)
        yield OperationsClient(channel)
        channel.close()
    else:
        transport = DeveloperConnectRestTransport(
            host=server.public_addr, url_scheme="http", credentials=AnonymousCredentials()
        )
        yield transport.operations_client
        transport.close()


def future_for(operations_client, name):
    """What a generated client hands back from a long-running method."""
    return operation.from_gapic(
        operations_client.get_operation(name),
        operations_client,
        empty_pb2.Empty,
        metadata_type=developerconnect_v1.OperationMetadata,
        polling=FAST_POLLING,
    )


def create(control, parent, operation_id, **kwargs):
    return control.create(
        parent, operation_id, metadata=producer_metadata(verb="create"), **kwargs
    )["name"]


def test_cancel_then_result_raises_cancelled(operations_client, control, parent):
    future = future_for(operations_client, create(control, parent, "unstarted"))
    assert not future.done()
    assert future.cancel() is True  # the RPC was made
    with pytest.raises(exceptions.Cancelled) as caught:
        future.result(timeout=10)
    e = caught.value
    assert e.grpc_status_code == grpc.StatusCode.CANCELLED
    assert e.code == 499
    assert e.errors[0].code == 1  # the operation's google.rpc.Status
    assert future.cancelled()
    assert future.metadata.requested_cancellation
    assert future.cancel() is False, "already done: no RPC"


def test_worker_acknowledges_the_cancel(operations_client, control, parent):
    name = create(control, parent, "acknowledged", cancel_grace="60s")
    control.start(name, producer_metadata(verb="create", statusMessage="building"))
    future = future_for(operations_client, name)
    assert future.cancel() is True
    assert not future.done(), "started work has its grace to stop"
    assert future.metadata.requested_cancellation

    worker = threading.Timer(0.5, control.complete_error, (name, 1, "stopped by the worker"))
    worker.start()
    try:
        with pytest.raises(exceptions.Cancelled) as caught:
            future.result(timeout=20)
    finally:
        worker.join()
    assert caught.value.message == "stopped by the worker"
    assert future.cancelled()


def test_server_ends_the_operation_when_the_grace_runs_out(operations_client, control, parent):
    name = create(control, parent, "silent-worker", cancel_grace="1s")
    control.start(name, producer_metadata(verb="create"))
    future = future_for(operations_client, name)
    asked = time.monotonic()
    assert future.cancel() is True
    with pytest.raises(exceptions.Cancelled):
        future.result(timeout=20)
    waited = time.monotonic() - asked
    assert 0.9 <= waited < 10, f"ended {waited:.2f}s after the cancel, grace 1s"
    assert future.cancelled()


def test_worker_that_finishes_first_wins(operations_client, control, parent):
    name = create(control, parent, "finished-first", cancel_grace="60s")
    control.start(name, producer_metadata(verb="create"))
    future = future_for(operations_client, name)
    control.complete_empty(name)
    # The cancel comes too late: the result stands.
    operations_client.cancel_operation(name)
    assert future.result(timeout=10) == empty_pb2.Empty()
    assert not future.cancelled()


def test_other_errors_raise_their_own_exception(operations_client, control, parent):
    name = create(control, parent, "failed")
    future = future_for(operations_client, name)
    control.complete_error(name, 9, "the repository is archived")
    with pytest.raises(exceptions.FailedPrecondition) as caught:
        future.result(timeout=10)
    assert caught.value.message == "the repository is archived"
    assert not future.cancelled()


def test_future_of_an_operation_made_without_metadata(operations_client, default_types, control, parent):
    """A future reads the metadata as the type its client expects: none on a
    server whose operations carry none, the API's own type when that is the
    default, and longrun's own type for a client that learnt it."""
    metadata_type = developerconnect_v1.OperationMetadata
    if default_types is LONGRUN_DEFAULT:
        from google.protobuf import descriptor_pool, message_factory

        metadata_type = message_factory.GetMessageClass(
            descriptor_pool.Default().FindMessageTypeByName(LONGRUN_METADATA)
        )
    name = control.create(parent, "no-metadata-future")["name"]
    future = operation.from_gapic(
        operations_client.get_operation(name),
        operations_client,
        empty_pb2.Empty,
        metadata_type=metadata_type,
        polling=FAST_POLLING,
    )
    assert future.cancel() is True
    with pytest.raises(exceptions.Cancelled):
        future.result(timeout=10)
    if default_types is NO_METADATA:
        assert future.metadata is None
    else:
        assert future.metadata.requested_cancellation
        raw = future.metadata
        if hasattr(type(raw), "pb"):  # proto-plus wraps the generated client's types
            raw = type(raw).pb(raw)
        assert raw.end_time.seconds >= raw.create_time.seconds > 0
