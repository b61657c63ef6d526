"""The normal client: GetOperation over REST, one call after another on a
fresh connection each (so a full accept queue shows too), for a fixed
time. Runs as its own process, so the attacker's Python never holds it up;
prints one JSON line: each call's latency in milliseconds and the errors.

    python probe.py http://127.0.0.1:PORT/v1/NAME SECONDS
"""

from __future__ import annotations

import http.client
import json
import sys
import time
import urllib.parse

# Calls are paced rather than back to back: the probe measures the server,
# and must not itself be most of the load on a 2-core machine.
PAUSE_S = 0.005
CALL_TIMEOUT_S = 5.0


def main() -> None:
    url, seconds = sys.argv[1], float(sys.argv[2])
    parts = urllib.parse.urlsplit(url)
    latencies: list[float] = []
    errors: list[str] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        began = time.monotonic()
        try:
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=CALL_TIMEOUT_S)
            conn.request("GET", parts.path)
            response = conn.getresponse()
            body = response.read()
            conn.close()
            if response.status != 200 or b'"name"' not in body:
                errors.append(f"status {response.status}: {body[:200]!r}")
            else:
                latencies.append((time.monotonic() - began) * 1000)
        except OSError as e:
            errors.append(f"{type(e).__name__}: {e}")
        time.sleep(PAUSE_S)
    print(json.dumps({"latencies_ms": latencies, "errors": errors[:20], "error_count": len(errors)}))


if __name__ == "__main__":
    main()
