"""`longrun serve --metrics-listen`: known traffic from Google's clients, then
a scrape parsed by the Prometheus project's own Python parser, and exact
deltas of what it must count.

One server of its own (module scope), started like the shared ones in
conftest.py plus `--metrics-listen`, so the other tests' traffic never
reaches these counts.
"""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request

import grpc
import pytest
from google.api_core import exceptions
from google.api_core.client_options import ClientOptions
from google.api_core.operations_v1 import AbstractOperationsClient, OperationsClient
from google.auth.credentials import AnonymousCredentials
from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as openmetrics_families,
)
from prometheus_client.parser import text_string_to_metric_families

from conftest import (
    stop_server,
    Control,
    Server,
    _wait_ready,
    NO_METADATA,
)
from longrun_process import die_with_parent, free_ports, longrun_binary

OPS = "google.longrunning.Operations"


@pytest.fixture(scope="module")
def metered(tmp_path_factory):
    """A server with metrics on; yields (server, metrics URL)."""
    public_port, control_port, metrics_port = free_ports(3)
    workdir = tmp_path_factory.mktemp("longrun-metrics")
    log_path = workdir / "server.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LONGRUN_")}
    env["LONGRUN_LOG"] = os.environ.get("LONGRUN_LOG", "info")
    # The flag's environment form, as deploy/compose/compose.yaml sets it.
    env["LONGRUN_METRICS_LISTEN"] = f"127.0.0.1:{metrics_port}"
    server = Server(
        public_addr=f"127.0.0.1:{public_port}",
        control_addr=f"127.0.0.1:{control_port}",
        control=Control(f"http://127.0.0.1:{control_port}"),
        log_path=log_path,
        mode=NO_METADATA,
    )
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [
                str(longrun_binary()),
                "serve",
                "--listen", server.public_addr,
                "--control-listen", server.control_addr,
                "--database", "sqlite::memory:",
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            preexec_fn=die_with_parent if sys.platform == "linux" else None,
        )
    try:
        _wait_ready(proc, server)
        yield server, f"http://127.0.0.1:{metrics_port}/metrics"
    finally:
        stop_server(proc, server.log)


def scrape(url: str, accept: str | None = None) -> tuple[str, str]:
    request = urllib.request.Request(url, headers={} if accept is None else {"Accept": accept})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.headers["Content-Type"], response.read().decode()


def samples(url: str) -> dict[tuple[str, frozenset], float]:
    """Every sample of one scrape, parsed as Prometheus parses the text format."""
    _, text = scrape(url)
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(scraped, name: str, **labels) -> float:
    """The one sample of `name` whose labels include `labels`; 0 if none yet."""
    wanted = set(labels.items())
    found = [v for (n, have), v in scraped.items() if n == name and wanted <= have]
    assert len(found) <= 1, (name, labels, found)
    return found[0] if found else 0.0


def calls(method: str, transport: str, code: str) -> dict:
    return {"service": OPS, "method": method, "transport": transport, "code": code}


def test_calls_from_google_clients_are_counted_exactly(metered):
    server, url = metered
    created = server.control.create("projects/py/locations/metrics", "counted")
    name = created["name"]
    before = samples(url)

    with grpc.insecure_channel(server.public_addr) as channel:
        grpc_client = OperationsClient(channel)
        for _ in range(3):
            grpc_client.get_operation(name)
        with pytest.raises(exceptions.NotFound):
            grpc_client.get_operation("projects/py/locations/metrics/operations/nope")
    rest_client = AbstractOperationsClient(
        credentials=AnonymousCredentials(),
        transport="rest",
        client_options=ClientOptions(api_endpoint=server.public_url),
    )
    for _ in range(2):
        rest_client.get_operation(name)
    # Cancel over REST: nobody started the work, so it ends at once.
    rest_client.cancel_operation(name)
    rest_client.transport._session.close()

    after = samples(url)

    def delta(name: str, **labels) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    requests = "longrun_rpc_requests_total"
    assert delta(requests, **calls("GetOperation", "grpc", "OK")) == 3
    assert delta(requests, **calls("GetOperation", "grpc", "NOT_FOUND")) == 1
    assert delta(requests, **calls("GetOperation", "rest", "OK")) == 2
    assert delta(requests, **calls("CancelOperation", "rest", "OK")) == 1
    durations = "longrun_rpc_duration_seconds_count"
    assert delta(durations, service=OPS, method="GetOperation", transport="grpc") == 4
    assert delta(durations, service=OPS, method="GetOperation", transport="rest") == 2
    assert delta("longrun_operations_completed_total", outcome="cancelled_at_once") == 1
    # The one create, on the control port over REST, before `before`.
    assert value(after, "longrun_operations_created_total") == 1
    builds = [(dict(labels), v) for (n, labels), v in after.items() if n == "longrun_build_info"]
    assert len(builds) == 1 and builds[0][1] == 1, builds
    assert set(builds[0][0]) == {"version", "revision"}


def test_openmetrics_is_served_when_asked_and_parses_strictly(metered):
    _, url = metered
    content_type, text = scrape(url, "application/openmetrics-text; version=1.0.0")
    assert content_type.startswith("application/openmetrics-text"), content_type
    names = {family.name for family in openmetrics_families(text)}
    assert "longrun_rpc_requests" in names
    assert "longrun_build_info" in names
    content_type, _ = scrape(url)
    assert content_type.startswith("text/plain; version=0.0.4"), content_type
