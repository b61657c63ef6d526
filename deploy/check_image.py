"""Checks the container image without a container engine: runs what the
Dockerfile's runtime stage runs, with its environment, as its entrypoint,
command and health check would, against a binary built the way its build
stage builds it.

    python3 deploy/check_image.py BINARY

Ports are moved to free loopback ports and the data directory to a temporary
one; everything else (the database URL's form, the log format, the health
check's arguments) is taken from the Dockerfile as written. Exits non-zero
with the failing check.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DOCKERFILE = Path(__file__).resolve().parents[1] / "Dockerfile"
READY_WITHIN_S = 30
STOP_WITHIN_S = 30


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of each line, continuations joined."""
    joined, current = [], ""
    for line in text.splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        current += stripped[:-1] + " " if stripped.endswith("\\") else stripped
        if not stripped.endswith("\\"):
            joined.append(current)
            current = ""
    result = []
    for line in joined:
        word, _, rest = line.partition(" ")
        result.append((word.upper(), rest.strip()))
    return result


def runtime_stage(text: str) -> list[tuple[str, str]]:
    """The instructions after the last FROM: what the image runs."""
    all_instructions = instructions(text)
    last_from = max(i for i, (word, _) in enumerate(all_instructions) if word == "FROM")
    return all_instructions[last_from + 1 :]


def exec_form(arguments: str) -> list[str]:
    parsed = json.loads(arguments)
    assert isinstance(parsed, list) and all(isinstance(a, str) for a in parsed), arguments
    return parsed


def env_pairs(arguments: str) -> dict[str, str]:
    pairs = {}
    for item in shlex.split(arguments):
        key, sep, value = item.partition("=")
        assert sep, f"ENV in key=value form only: {item}"
        pairs[key] = value
    return pairs


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    binary = Path(sys.argv[1]).resolve()
    stage = runtime_stage(DOCKERFILE.read_text())
    env, entrypoint, command, health, exposed, workdir = {}, [], [], [], set(), None
    for word, arguments in stage:
        if word == "ENV":
            env.update(env_pairs(arguments))
        elif word == "ENTRYPOINT":
            entrypoint = exec_form(arguments)
        elif word == "CMD":
            command = exec_form(arguments)
        elif word == "HEALTHCHECK":
            health = exec_form(arguments.split(" CMD ", 1)[1])
        elif word == "EXPOSE":
            exposed.update(int(port) for port in arguments.split())
        elif word == "WORKDIR":
            workdir = arguments
    assert entrypoint == ["/usr/local/bin/longrun"], entrypoint
    assert health[0] == "/usr/local/bin/longrun", health
    listen = {env["LONGRUN_LISTEN"], env["LONGRUN_CONTROL_LISTEN"]}
    ports = {int(addr.rsplit(":", 1)[1]) for addr in listen}
    assert ports == exposed, f"EXPOSE {sorted(exposed)} but the ports listen on {sorted(ports)}"
    volume_path = env["LONGRUN_DATABASE"].removeprefix("sqlite://").rsplit("/", 1)[0]
    assert volume_path == workdir, f"the database lives in {volume_path}, WORKDIR is {workdir}"

    data = tempfile.mkdtemp(prefix="longrun-image-")
    public, control = free_port(), free_port()
    run_env = {k: v for k, v in os.environ.items() if not k.startswith("LONGRUN_")}
    run_env.update(env)
    run_env.update(
        LONGRUN_LISTEN=f"127.0.0.1:{public}",
        LONGRUN_CONTROL_LISTEN=f"127.0.0.1:{control}",
        LONGRUN_DATABASE=env["LONGRUN_DATABASE"].replace(workdir, data),
    )
    server = subprocess.Popen(
        [str(binary)] + entrypoint[1:] + command,
        env=run_env,
        cwd=data,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    check = [str(binary)] + [
        f"http://127.0.0.1:{public}" if arg == "http://127.0.0.1:8080" else arg for arg in health[1:]
    ]
    try:
        deadline = time.monotonic() + READY_WITHIN_S
        while True:
            assert server.poll() is None, f"serve exited with {server.returncode}: {server.stderr.read()}"
            probe = subprocess.run(check, capture_output=True, text=True, env=run_env, timeout=10)
            if probe.returncode == 0:
                break
            assert time.monotonic() < deadline, f"the health check never passed: {probe.stderr}"
            time.sleep(0.2)
        assert probe.stdout.strip() == "SERVING", probe.stdout
        assert Path(data, "longrun.db").is_file(), "the database is made in the data directory"
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=STOP_WITHIN_S) == 0, "SIGTERM drains and exits 0"
        log = server.stderr.read()
        first = log.splitlines()[0]
        assert json.loads(first)["level"], f"LONGRUN_LOG_FORMAT=json gives JSON lines: {first}"
    finally:
        if server.poll() is None:
            server.kill()
    print(f"image check: serve, health check and drain work as the Dockerfile runs them ({binary})")


if __name__ == "__main__":
    main()
