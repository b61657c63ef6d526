"""google-api-core's gRPC OperationsClient against longrun's public port."""

import grpc
import pytest
from google.api_core import exceptions, page_iterator
from google.api_core.operations_v1 import OperationsClient
from google.longrunning import operations_pb2, operations_pb2_grpc

from conftest import assert_default_metadata


@pytest.fixture
def channel(server):
    channel = grpc.insecure_channel(server.public_addr)
    yield channel
    channel.close()


@pytest.fixture
def client(channel):
    return OperationsClient(channel)


def test_get_returns_the_operation(client, server, control, parent):
    created = control.create(parent, "get-me")
    op = client.get_operation(created["name"])
    assert op.name == f"{parent}/operations/get-me"
    assert not op.done
    assert_default_metadata(op, server.mode)
    assert op.WhichOneof("result") is None


def test_list_returns_every_operation(client, control, parent):
    names = {control.create(parent, f"all-{i}")["name"] for i in range(5)}
    listed = [op.name for op in client.list_operations(parent, "")]
    assert sorted(listed) == sorted(names)


def test_list_pages_of_two_through_api_cores_grpc_iterator(channel, control, parent):
    # OperationsClient.list_operations sends no page_size; api-core's
    # GRPCIterator over the Operations stub is how a client pages by hand.
    names = [control.create(parent, f"page-{i}")["name"] for i in range(5)]
    pages = page_iterator.GRPCIterator(
        client=None,
        method=operations_pb2_grpc.OperationsStub(channel).ListOperations,
        request=operations_pb2.ListOperationsRequest(name=parent, page_size=2),
        items_field="operations",
        request_token_field="page_token",
        response_token_field="next_page_token",
    ).pages
    sizes, listed = [], []
    for page in pages:
        ops = list(page)
        sizes.append(len(ops))
        listed.extend(op.name for op in ops)
    assert sizes == [2, 2, 1]
    assert sorted(listed) == sorted(names), "every operation exactly once"
    # Newest first: they were created one after another.
    assert listed == list(reversed(names))


def test_list_with_a_filter(client, control, parent):
    kept = control.create(parent, "kept")["name"]
    cancelled = control.create(parent, "cancelled")["name"]
    client.cancel_operation(cancelled)
    assert [op.name for op in client.list_operations(parent, "error.code = 1")] == [cancelled]
    assert [op.name for op in client.list_operations(parent, "done = false")] == [kept]


def test_cancel_of_an_unstarted_operation_ends_it_cancelled(client, control, parent):
    name = control.create(parent, "cancel-me")["name"]
    client.cancel_operation(name)
    op = client.get_operation(name)
    assert op.done
    assert op.WhichOneof("result") == "error"
    assert op.error.code == grpc.StatusCode.CANCELLED.value[0] == 1
    # Cancelling again is OK and changes nothing.
    client.cancel_operation(name)
    assert client.get_operation(name) == op


def test_delete_forgets_the_operation(client, control, parent):
    name = control.create(parent, "delete-me")["name"]
    client.delete_operation(name)
    with pytest.raises(exceptions.NotFound):
        client.get_operation(name)
    with pytest.raises(exceptions.NotFound):
        client.delete_operation(name)


def test_not_found_carries_error_info(client, parent):
    name = f"{parent}/operations/never-made"
    with pytest.raises(exceptions.NotFound) as caught:
        client.get_operation(name)
    e = caught.value
    assert e.grpc_status_code == grpc.StatusCode.NOT_FOUND
    # api-core decodes grpc-status-details-bin into these.
    assert e.reason == "OPERATION_NOT_FOUND"
    assert e.domain == "cloudaicompanion.googleapis.com"
    assert e.metadata == {"operation": name}


def test_malformed_name_is_invalid_argument(client):
    with pytest.raises(exceptions.InvalidArgument) as caught:
        client.get_operation("not/an/operation")
    assert caught.value.reason == "INVALID_NAME"


def test_negative_page_size_is_invalid_argument(channel, parent):
    stub = operations_pb2_grpc.OperationsStub(channel)
    with pytest.raises(grpc.RpcError) as caught:
        stub.ListOperations(operations_pb2.ListOperationsRequest(name=parent, page_size=-1))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
