"""Fixtures for the console's browser tests.

Each server is a real `longrun serve` on free loopback ports with an
in-memory database. Tests make operations through the control API's REST
transcoding (plain urllib), then look at them the way a person does: in
headless Chromium, through the console served on the public port.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

REPO = Path(__file__).resolve().parents[2]

sys.path.insert(0, str(REPO / "tests" / "pysupport"))
from longrun_process import die_with_parent, free_ports  # noqa: E402

READY_WITHIN_S = 30.0
STOP_WITHIN_S = 40.0
# How long a test waits for the page to show something.
UI_WAIT_S = 15.0

LONGRUN_METADATA = "type.googleapis.com/longrun.v1.OperationMetadata"
# A producer's own metadata type, with the standard fields and a progress
# field; registered with --descriptor-set (see job_descriptor_set).
JOB_METADATA = "type.googleapis.com/consoletest.v1.JobMetadata"
IMPORT_RESULT = "type.googleapis.com/consoletest.v1.ImportResult"


def job_descriptor_set() -> bytes:
    """A FileDescriptorSet with consoletest.v1.JobMetadata (and a response
    type, consoletest.v1.ImportResult), built with
    protobuf's descriptor messages: what a producer registers so that
    longrun can render (and keep the times of) its own metadata type."""
    from google.protobuf import descriptor_pb2, timestamp_pb2

    files = descriptor_pb2.FileDescriptorSet()
    timestamp_pb2.DESCRIPTOR.CopyToProto(files.file.add())
    job = files.file.add()
    job.name = "consoletest/v1/job.proto"
    job.package = "consoletest.v1"
    job.syntax = "proto3"
    job.dependency.append("google/protobuf/timestamp.proto")
    message = job.message_type.add()
    message.name = "JobMetadata"
    F = descriptor_pb2.FieldDescriptorProto
    for number, (name, kind) in enumerate(
        [
            ("create_time", ".google.protobuf.Timestamp"),
            ("end_time", ".google.protobuf.Timestamp"),
            ("target", F.TYPE_STRING),
            ("verb", F.TYPE_STRING),
            ("status_message", F.TYPE_STRING),
            ("requested_cancellation", F.TYPE_BOOL),
            ("progress_percent", F.TYPE_INT32),
        ],
        start=1,
    ):
        f = message.field.add(name=name, number=number, label=F.LABEL_OPTIONAL)
        if isinstance(kind, str):
            f.type = F.TYPE_MESSAGE
            f.type_name = kind
        else:
            f.type = kind
    result = job.message_type.add()
    result.name = "ImportResult"
    result.field.add(name="rows", number=1, label=F.LABEL_OPTIONAL, type=F.TYPE_INT64)
    result.field.add(name="tables", number=2, label=F.LABEL_OPTIONAL, type=F.TYPE_INT32)
    return files.SerializeToString()


def job_metadata(**fields) -> dict:
    return {"@type": JOB_METADATA, **fields}


class HttpError(Exception):
    def __init__(self, status: int, body: str):
        super().__init__(f"answered {status}: {body}")
        self.status = status
        self.body = body


def http(method: str, url: str, body: dict | None = None, headers: dict | None = None):
    """One call; returns (status, headers, body bytes) for any status."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, method=method, data=data, headers=headers or {})
    if data is not None:
        request.add_header("Content-Type", "application/json")

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


class Control:
    """The control API over REST (config/http_rules.yaml)."""

    def __init__(self, base_url: str):
        self.base_url = base_url

    def _call(self, method: str, path: str, body: dict) -> dict:
        status, _, data = http(method, f"{self.base_url}/v1/{path}", body)
        if status != 200:
            raise HttpError(status, data.decode(errors="replace"))
        return json.loads(data)

    def create(self, parent: str, operation_id: str | None = None, *,
               metadata: dict | None = None, cancel_grace: str | None = None) -> dict:
        body: dict = {}
        if operation_id is not None:
            body["operationId"] = operation_id
        if metadata is not None:
            body["metadata"] = metadata
        if cancel_grace is not None:
            body["cancelGrace"] = cancel_grace
        return self._call("POST", f"{parent}/operations", body)

    def update(self, name: str, metadata: dict) -> dict:
        """UpdateOperation: new metadata, and the work counts as started."""
        return self._call("PATCH", name, {"metadata": metadata})

    def complete_response(self, name: str, response: dict) -> dict:
        return self._call("POST", f"{name}:complete", {"response": response})

    def complete_error(self, name: str, code: int, message: str, details=None) -> dict:
        error = {"code": code, "message": message}
        if details:
            error["details"] = details
        return self._call("POST", f"{name}:complete", {"error": error})

    def watch(self, name: str) -> "Watch":
        return Watch(f"{self.base_url}/v1/{name}:watch")


class Watch:
    """A worker's WatchOperation over REST (a JSON array, streamed), read on
    a thread; `events` grows as they arrive. Opening it marks the work as
    started, so a cancel waits for the worker."""

    def __init__(self, url: str):
        self.events: list[dict] = []
        self._changed = threading.Condition()
        self._response = urllib.request.urlopen(url, timeout=60)
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        decoder = json.JSONDecoder()
        buffer = ""
        while chunk := self._response.read1(65536):
            buffer += chunk.decode()
            while True:
                buffer = buffer.lstrip("[,\r\n\t ")
                if not buffer or buffer.startswith("]"):
                    break
                try:
                    event, end = decoder.raw_decode(buffer)
                except json.JSONDecodeError:
                    break  # the rest of this event is still on its way
                buffer = buffer[end:]
                with self._changed:
                    self.events.append(event)
                    self._changed.notify_all()

    def wait_for(self, predicate, timeout: float = UI_WAIT_S) -> dict:
        with self._changed:
            found = self._changed.wait_for(
                lambda: next((e for e in self.events if predicate(e)), None), timeout
            )
        assert found, f"no such event within {timeout}s; events: {self.events}"
        return found

    def close(self) -> None:
        self._response.close()


@dataclass
class Server:
    public_addr: str
    control_addr: str
    log_path: Path
    workdir: Path
    control: Control = field(init=False)

    def __post_init__(self) -> None:
        self.control = Control(f"http://{self.control_addr}")

    @property
    def url(self) -> str:
        return f"http://{self.public_addr}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def binary() -> Path:
    path = Path(os.environ.get("LONGRUN_BIN", "target/debug/longrun"))
    if not path.is_absolute():
        path = REPO / path
    if not path.is_file():
        pytest.exit(f"longrun binary not found at {path}: build it or set LONGRUN_BIN", returncode=3)
    return path


def _wait_ready(proc: subprocess.Popen, server: Server) -> None:
    deadline = time.monotonic() + READY_WITHIN_S
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"longrun exited with {proc.returncode}:\n{server.log()}")
        try:
            for addr in (server.public_addr, server.control_addr):
                host, port = addr.rsplit(":", 1)
                socket.create_connection((host, int(port)), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"longrun not ready in {READY_WITHIN_S}s:\n{server.log()}") from None
            time.sleep(0.05)


def start_server(workdir: Path, *args: str):
    """Starts `longrun serve` with `args`; a generator for fixtures."""
    public_port, control_port = free_ports(2)
    server = Server(
        public_addr=f"127.0.0.1:{public_port}",
        control_addr=f"127.0.0.1:{control_port}",
        log_path=workdir / "server.log",
        workdir=workdir,
    )
    descriptor_set = workdir / "job.pb"
    descriptor_set.write_bytes(job_descriptor_set())
    # No LONGRUN_* of the caller's may change the server under test.
    env = {k: v for k, v in os.environ.items() if not k.startswith("LONGRUN_")}
    env["LONGRUN_LOG"] = os.environ.get("LONGRUN_LOG", "info")
    with open(server.log_path, "wb") as log:
        proc = subprocess.Popen(
            [
                str(binary()), "serve",
                "--listen", server.public_addr,
                "--control-listen", server.control_addr,
                "--database", "sqlite::memory:",
                "--descriptor-set", str(descriptor_set),
                "--wait-cap", "10s",
                *args,
            ],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
            preexec_fn=die_with_parent if sys.platform == "linux" else None,
        )
    try:
        _wait_ready(proc, server)
        yield server
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=STOP_WITHIN_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                pytest.fail(f"longrun did not stop within {STOP_WITHIN_S}s:\n{server.log()}")
    assert proc.returncode == 0, f"longrun exited with {proc.returncode}:\n{server.log()}"


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> Server:
    yield from start_server(tmp_path_factory.mktemp("open"))


@dataclass
class Secured:
    server: Server
    mint: callable  # (subject, email) -> token


@pytest.fixture(scope="session")
def secured(tmp_path_factory) -> Secured:
    """A server with authentication on: Ed25519 keys from `longrun token
    keygen`, a policy that makes alice@example.com an editor of project
    `secure` and lets bob@example.com get and list there but not wait, and
    tokens from `longrun token mint`."""
    workdir = tmp_path_factory.mktemp("secured")
    key, jwks, policy = workdir / "key.pem", workdir / "jwks.json", workdir / "policy.yaml"
    subprocess.run(
        [str(binary()), "token", "keygen", "--private-key", str(key), "--jwks", str(jwks)],
        check=True, capture_output=True,
    )
    policy.write_text(
        "roles:\n"
        "  - name: roles/peeker\n"
        "    permissions: [cloudaicompanion.operations.get, cloudaicompanion.operations.list]\n"
        "bindings:\n"
        "  - role: roles/editor\n"
        "    members: [user:alice@example.com]\n"
        "    resources: [projects/secure]\n"
        "  - role: roles/peeker\n"
        "    members: [user:bob@example.com]\n"
        "    resources: [projects/secure]\n"
    )

    def mint(subject: str, email: str) -> str:
        done = subprocess.run(
            [str(binary()), "token", "mint", "--private-key", str(key),
             "--subject", subject, "--email", email],
            check=True, capture_output=True, text=True,
        )
        return done.stdout.strip()

    for server in start_server(
        workdir, "--jwks-file", str(jwks), "--policy", str(policy),
        "--jwt-issuer", "https://longrun.local", "--jwt-audience", "longrun",
    ):
        yield Secured(server=server, mint=mint)


@pytest.fixture(scope="session")
def no_console(tmp_path_factory) -> Server:
    yield from start_server(tmp_path_factory.mktemp("noconsole"), "--console=false")


_locations = itertools.count(1)


@pytest.fixture
def parent() -> str:
    """A location of its own for each test, so a list sees only its operations."""
    return f"projects/console/locations/loc-{next(_locations)}"


SCREENSHOTS = Path(os.environ.get("LONGRUN_SCREENSHOTS", REPO / "target" / "console-screenshots"))


class Browser:
    """Headless Chromium through the system's chromedriver."""

    def __init__(self):
        options = webdriver.ChromeOptions()
        options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
        self.profile = tempfile.TemporaryDirectory(prefix="longrun-chromium-")
        for arg in [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-default-apps", "--disable-extensions", "--lang=en-US",
            f"--user-data-dir={self.profile.name}", "--window-size=1360,900",
            "--force-color-profile=srgb", "--hide-scrollbars",
        ]:
            options.add_argument(arg)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        service = Service(executable_path=os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"))
        self.driver = webdriver.Chrome(service=service, options=options)
        self.logs: list[dict] = []

    def quit(self) -> None:
        self.driver.quit()
        self.profile.cleanup()

    def wait(self, condition, message: str = "", timeout: float = UI_WAIT_S):
        return WebDriverWait(self.driver, timeout, poll_frequency=0.05).until(condition, message)

    def find(self, css: str):
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def find_all(self, css: str):
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def shown(self, css: str, text: str | None = None):
        """Waits until an element matching `css` (containing `text`) shows."""
        def look(driver):
            for element in driver.find_elements(By.CSS_SELECTOR, css):
                if element.is_displayed() and (text is None or text in element.text):
                    return element
            return False
        return self.wait(look, f"no visible {css!r} with {text!r}")

    def console_log(self) -> list[dict]:
        self.logs.extend(self.driver.get_log("browser"))
        return self.logs

    def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.driver.save_screenshot(str(path))
        return path


@pytest.fixture(scope="session")
def browser_session():
    browser = Browser()
    yield browser
    browser.quit()


# What the browser says when a page breaks its own rules: a script error,
# or anything the Content-Security-Policy or Trusted Types refused.
BROKEN = ("Content Security Policy", "Content-Security-Policy", "TrustedHTML", "Trusted Type",
          "Uncaught", "SyntaxError", "TypeError", "ReferenceError")


@pytest.fixture
def browser(browser_session) -> Browser:
    """The session's browser, on a blank page with a fresh sessionStorage
    and window size; fails the test if its page logged a script error or
    a policy violation."""
    driver = browser_session.driver
    driver.set_window_size(1360, 900)
    driver.get("about:blank")
    browser_session.console_log()
    browser_session.logs.clear()
    yield browser_session
    broken = [entry for entry in browser_session.console_log()
              if any(word in entry.get("message", "") for word in BROKEN)]
    # Leave no token or remembered project behind for the next test.
    driver.execute_script("try { sessionStorage.clear(); localStorage.clear(); } catch (e) {}")
    driver.get("about:blank")
    assert not broken, f"the page logged errors: {broken}"


def open_console(browser: Browser, server: Server, query: str = "") -> None:
    browser.driver.get(f"{server.url}/console/{query}")
    browser.shown(".topbar")
