"""Google's Python gRPC client over TLS and mutual TLS.

A server of its own, started here with `--tls-cert/--tls-key` on the public
port (and `--tls-client-ca` plus a policy for mTLS), with certificates made
in the test (`cryptography`). The control port stays plain HTTP on loopback,
where the operations are made; the client under test is google-api-core's
OperationsClient over `grpc.secure_channel` with `ssl_channel_credentials`.
"""

from __future__ import annotations

import datetime
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from ipaddress import IPv4Address
from pathlib import Path

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from google.api_core import exceptions, operations_v1

from conftest import READY_WITHIN_S, Control, stop_server
from longrun_process import die_with_parent, free_ports, longrun_binary

GOOD = "spiffe://longrun.test/ns/py/sa/reader"
OTHER = "spiffe://longrun.test/ns/py/sa/stranger"
POLICY = f"""
bindings:
  - role: roles/viewer
    members: ["subject:{GOOD}"]
    resources: [projects/pytls]
"""


@dataclass
class Pem:
    cert: bytes
    key: bytes


class Ca:
    """A CA made now, that signs server and client certificates."""

    def __init__(self, name: str):
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        self.cert = (
            self._builder(self.name, self.key.public_key())
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self.key, hashes.SHA256())
        )
        self.pem = self.cert.public_bytes(serialization.Encoding.PEM)

    def _builder(self, subject: x509.Name, public_key) -> x509.CertificateBuilder:
        now = datetime.datetime.now(datetime.timezone.utc)
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.name)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=30))
        )

    def sign(self, names: list[x509.GeneralName], usage) -> Pem:
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "longrun test")])
        cert = (
            self._builder(subject, key.public_key())
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .sign(self.key, hashes.SHA256())
        )
        return Pem(
            cert=cert.public_bytes(serialization.Encoding.PEM),
            key=key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
        )

    def server(self) -> Pem:
        return self.sign(
            [x509.DNSName("localhost"), x509.IPAddress(IPv4Address("127.0.0.1"))],
            ExtendedKeyUsageOID.SERVER_AUTH,
        )

    def client(self, uri: str) -> Pem:
        return self.sign([x509.UniformResourceIdentifier(uri)], ExtendedKeyUsageOID.CLIENT_AUTH)


@dataclass
class TlsServer:
    public_addr: str
    control: Control
    ca: Ca
    log_path: Path


def _start(workdir: Path, client_ca: Ca | None):
    ca = Ca("longrun python test CA")
    server_pem = ca.server()
    (workdir / "server.crt").write_bytes(server_pem.cert)
    (workdir / "server.key").write_bytes(server_pem.key)
    public_port, control_port = free_ports(2)
    public_addr = f"127.0.0.1:{public_port}"
    control_addr = f"127.0.0.1:{control_port}"
    args = [
        str(longrun_binary()),
        "serve",
        "--listen", public_addr,
        "--control-listen", control_addr,
        "--database", "sqlite::memory:",
        "--tls-cert", str(workdir / "server.crt"),
        "--tls-key", str(workdir / "server.key"),
    ]
    if client_ca is not None:
        (workdir / "clients.pem").write_bytes(client_ca.pem)
        (workdir / "policy.yaml").write_text(POLICY)
        args += ["--tls-client-ca", str(workdir / "clients.pem"), "--policy", str(workdir / "policy.yaml")]
    env = {k: v for k, v in os.environ.items() if not k.startswith("LONGRUN_")}
    env["LONGRUN_LOG"] = os.environ.get("LONGRUN_LOG", "info")
    log_path = workdir / "server.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            preexec_fn=die_with_parent if sys.platform == "linux" else None,
        )
    server = TlsServer(public_addr, Control(f"http://{control_addr}"), ca, log_path)
    _wait_ready(proc, server, control_addr)
    return proc, server


def _wait_ready(proc: subprocess.Popen, server: TlsServer, control_addr: str) -> None:
    """Both ports accept connections (the log says so once both listen)."""
    deadline = time.monotonic() + READY_WITHIN_S
    while "longrun serving" not in server.log_path.read_text(errors="replace"):
        if proc.poll() is not None:
            raise RuntimeError(f"longrun exited with {proc.returncode}:\n{server.log_path.read_text()}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"longrun not ready within {READY_WITHIN_S}s")
        time.sleep(0.05)
    for addr in (server.public_addr, control_addr):
        host, port = addr.rsplit(":", 1)
        socket.create_connection((host, int(port)), timeout=5).close()


def _stop(proc: subprocess.Popen, server: TlsServer) -> None:
    stop_server(proc, lambda: server.log_path.read_text(errors="replace"))


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory):
    proc, server = _start(tmp_path_factory.mktemp("longrun-tls"), None)
    try:
        yield server
    finally:
        _stop(proc, server)


CLIENT_CA = Ca("longrun python clients")


@pytest.fixture(scope="module")
def mtls_server(tmp_path_factory):
    proc, server = _start(tmp_path_factory.mktemp("longrun-mtls"), CLIENT_CA)
    try:
        yield server
    finally:
        _stop(proc, server)


def _client(server: TlsServer, client: Pem | None = None) -> operations_v1.OperationsClient:
    credentials = grpc.ssl_channel_credentials(
        root_certificates=server.ca.pem,
        private_key=None if client is None else client.key,
        certificate_chain=None if client is None else client.cert,
    )
    channel = grpc.secure_channel(server.public_addr, credentials)
    return operations_v1.OperationsClient(channel)


def test_get_operation_over_tls(tls_server):
    created = tls_server.control.create("projects/pytls/locations/l", "over-tls")
    got = _client(tls_server).get_operation(created["name"], timeout=10, retry=None)
    assert got.name == "projects/pytls/locations/l/operations/over-tls"
    assert not got.done


def test_untrusted_server_certificate_is_unavailable(tls_server):
    credentials = grpc.ssl_channel_credentials(root_certificates=Ca("someone else").pem)
    client = operations_v1.OperationsClient(grpc.secure_channel(tls_server.public_addr, credentials))
    with pytest.raises(exceptions.ServiceUnavailable):
        client.get_operation("projects/pytls/locations/l/operations/x", timeout=10, retry=None)


def test_mtls_certificate_uri_is_the_policy_principal(mtls_server):
    created = mtls_server.control.create("projects/pytls/locations/l", "over-mtls")
    good = _client(mtls_server, CLIENT_CA.client(GOOD))
    assert good.get_operation(created["name"], timeout=10, retry=None).name == created["name"]
    other = _client(mtls_server, CLIENT_CA.client(OTHER))
    with pytest.raises(exceptions.PermissionDenied):
        other.get_operation(created["name"], timeout=10, retry=None)


def test_mtls_without_client_certificate_is_refused(mtls_server):
    with pytest.raises(exceptions.ServiceUnavailable):
        _client(mtls_server).get_operation("projects/pytls/locations/l/operations/x", timeout=10, retry=None)
