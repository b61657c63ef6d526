#!/usr/bin/env python3
"""Writes the seed inputs of every fuzz target into fuzz/corpus/<target>/:
real requests, from README, docs/behaviour.md and the tests, in the input
layout of each harness function (fuzz/harness/<target>.rs says it). Run once
before the first `cargo fuzz run`; the committed corpora grew from these.
JWT seeds need tokens signed with the harness key: pass them as arguments
(`longrun token mint --key fuzz/harness/jwt_key.pem --kid fuzz-1 ...`)."""

import base64
import hashlib
import json
import pathlib
import struct
import sys

ROOT = pathlib.Path(__file__).resolve().parent / "corpus"

# fixtures::ROUTES, by index.
LIST, GET, DELETE, CANCEL, WAIT, CREATE, UPDATE, COMPLETE, WATCH = range(9)
OP = "projects/demo/locations/us-east1/operations/build-1"


def put(target, data):
    if isinstance(data, str):
        data = data.encode()
    d = ROOT / target
    d.mkdir(parents=True, exist_ok=True)
    (d / ("seed-" + hashlib.sha1(data).hexdigest()[:16])).write_bytes(data)


# router: method byte (GET POST PATCH DELETE PUT HEAD OPTIONS), raw path.
for method, path in [
    (0, "/v1/projects/demo/locations/us-east1/operations"),
    (0, "/v1/projects/demo/locations/-/operations"),
    (0, "/v1/" + OP),
    (3, "/v1/" + OP),
    (1, "/v1/" + OP + ":cancel"),
    (1, "/v1/" + OP + ":wait"),
    (1, "/v1/projects/demo/locations/us-east1/operations"),
    (2, "/v1/" + OP),
    (1, "/v1/" + OP + ":complete"),
    (0, "/v1/" + OP + ":watch"),
    (0, "/v1/" + OP + ":cancel"),
    (0, "/v1/projects/demo/locations/us-east1/operations/a%2Fb"),
    (0, "/v1/projects/demo/locations/us-east1/operations/caf%C3%A9:x"),
    (0, "/v1/projects/demo/../operations"),
    (0, "/v1//operations"),
    (0, "/v1/projects/%zz/locations/l/operations"),
    (4, "/v1/" + OP),
    (0, "/openapi.json"),
    (0, "/v1/{name=projects/*/locations/*}/operations"),
    (0, "/v1/{name=projects/*/locations/*/operations/*}:cancel"),
    (0, "/v1/{name=operations/**}"),
    (0, "/v1/{parent}/operations"),
    (0, "/v1/{name}:watch"),
    (0, "/v1/{a.b=x/*/y}/z:verb"),
]:
    put("router", bytes([method]) + path.encode())

# query: route byte, raw query.
for route, query in [
    (LIST, "filter=done%3Dtrue&pageSize=10"),
    (LIST, "filter=done+%3D+false+AND+metadata.verb+%3D+%22create%22&page_size=2&pageToken=abc"),
    (LIST, "returnPartialSuccess=true&$alt=json&prettyPrint=false"),
    (LIST, "filter=a&filter=b"),
    (LIST, "access_token=x"),
    (LIST, "pageSize=-1"),
    (LIST, "pageSize=99999999999999999999"),
    (GET, "name=projects/x"),
    (GET, "$fields=name&key=k&quotaUser=q"),
    (WAIT, "timeout=3.5s"),
    (WAIT, "timeout=-1s"),
    (CREATE, "operationId=rest-made&cancelGrace=60s&requestId=r-1"),
    (CREATE, "metadata.typeUrl=x"),
    (DELETE, "%ZZ=1"),
    (WATCH, "name=" + OP),
]:
    put("query", bytes([route]) + query.encode())

# json_body: route byte (plus 9 * content type), body.
META = {"@type": "type.googleapis.com/longrun.v1.OperationMetadata",
        "verb": "create", "target": "t", "createTime": "2026-01-01T00:00:00Z"}
JOB = {"@type": "type.googleapis.com/fuzz.v1.Job", "title": "j", "size": "12",
       "tags": ["a", "b"], "due": "2026-01-01T09:30:00.5+01:00", "ratio": 0.5,
       "blob": "AAEC", "done": True, "count": 3,
       "child": {"title": "c", "inner": {"@type": "type.googleapis.com/google.protobuf.Duration", "value": "3s"}},
       "inner": {"@type": "type.googleapis.com/google.protobuf.Empty"}}
for route, body in [
    (CREATE, {"operationId": "rest-made", "cancelGrace": "60s", "requestId": "r-1"}),
    (CREATE, {"metadata": META}),
    (CREATE, {"metadata": JOB}),
    (CREATE, {"metadata": {"@type": "type.googleapis.com/example.v1.Unknown", "x": 1}}),
    (CREATE, {"metadata": {"@type": "not-a-url"}}),
    (CREATE, {"metadata": {"@type": "type.googleapis.com/google.protobuf.Any",
                           "value": {"@type": "type.googleapis.com/google.protobuf.Struct", "value": {"a": [1, None]}}}}),
    (CREATE, {"parent": "projects/p/locations/l"}),
    (CREATE, {"operation_id": "a", "operationId": "b"}),
    (UPDATE, {"metadata": META}),
    (UPDATE, {"name": "projects/p/locations/l/operations/other"}),
    (COMPLETE, {"error": {"code": 1, "message": "stopped",
                          "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "R"}]}}),
    (COMPLETE, {"response": {"@type": "type.googleapis.com/google.protobuf.Empty"}}),
    (COMPLETE, {"response": JOB}),
    (CANCEL, {}),
    (CANCEL, {"name": "projects/p/locations/l/operations/op-1"}),
    (WAIT, {"timeout": "5s"}),
    (WAIT, {"timeout": "-1s"}),
    (WAIT, {"timeout": "315576000001s"}),
]:
    put("json_body", bytes([route]) + json.dumps(body).encode())
for route, raw in [(CREATE, b'{"a":1,"a":2}'), (CREATE, b"[" * 70), (CREATE, b"\xff{}"),
                   (GET, b"{}"), (CREATE + 27, b"{}"), (CREATE + 9, b" ")]:
    put("json_body", bytes([route]) + raw)

# filter: the text.
for text in [
    "done = false AND metadata.verb = \"create\"",
    "metadata.create_time > \"2026-01-01T00:00:00Z\" error.code = 1",
    "name = \"projects/p/locations/l/operations/nightly-*\" OR -metadata.target:*",
    "done=true", "error.code = 1", "NOT (done = true OR error.code != 4)",
    "metadata.verb : \"*build*\"", "metadata.title = 'a\\'b'", "metadata.size >= -2.5",
    "metadata.due < \"2026-01-01T09:30:00.5+01:00\"", "metadata.child.inner:*",
    "metadata.tags = a", "metadata.requested_cancellation = TRUE", "done = 7",
    "(((((done = true)))))", "metadata.nope = 1", "\"unterminated", "",
]:
    put("filter", text)

# page_token: 0 + a token as sent; 1 + cursor (8 bytes micros, name\0parent\0filter).
for token in ["", "abc", "AQAAAAAAAAAA", "A" * 80, "_-_-" * 20, "AQ" + "A" * 3000]:
    put("page_token", b"\x00" + token.encode())
for micros, rest in [
    (1_790_000_000_123_456, "projects/p/locations/l/operations/op-1\0projects/p/locations/l\0done = false"),
    (-1, "op\0p\0"), (2**63 - 1, "é\0\0 done = true "), (-(2**63), ""),
]:
    put("page_token", b"\x01" + struct.pack(">q", micros) + rest.encode())

# jwt: 0 + authorization header; 1 + claims; 2 + sidecar payload header.
CLAIMS = {"iss": "https://issuer.test", "aud": "longrun", "sub": "alice",
          "email": "alice@example.com", "iat": 1790000000, "nbf": 1790000000, "exp": 4102444800,
          "scope": "https://www.googleapis.com/auth/cloud-platform", "groups": ["eng"]}
for claims in [
    CLAIMS, dict(CLAIMS, exp=1), dict(CLAIMS, aud=["x", "longrun"]), dict(CLAIMS, scope=""),
    dict(CLAIMS, groups="eng"), dict(CLAIMS, exp="4102444800"), dict(CLAIMS, sub=""),
    {k: v for k, v in CLAIMS.items() if k != "nbf"}, dict(CLAIMS, email=None, nbf=4102444800),
]:
    put("jwt", b"\x01" + json.dumps(claims).encode())
    put("jwt", b"\x02" + base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"="))
for value in ["", "Bearer", "Bearer ", "Basic abc", "Bearer a.b.c", "Bearer eyJhbGciOiJub25lIn0.e30."]:
    put("jwt", b"\x00" + value.encode())
for token in sys.argv[1:]:
    put("jwt", b"\x00Bearer " + token.encode())


# grpc_web: method byte, content-type byte, body (frames; base64 in text mode).
def field(number, payload):
    if isinstance(payload, str):
        payload = payload.encode()
    return bytes([number << 3 | 2, len(payload)]) + payload


def frame(message, flag=0):
    return bytes([flag]) + struct.pack(">I", len(message)) + message


ANY_META = field(1, "type.googleapis.com/longrun.v1.OperationMetadata") + field(2, field(4, "create"))
messages = [
    (0, field(1, "projects/demo/locations/us-east1") + field(2, "done = false") + bytes([0x18, 2])),
    (1, field(1, OP)), (2, field(1, OP)), (3, field(1, OP)),
    (4, field(1, OP) + field(2, bytes([0x08, 1]))),
    (5, field(1, "projects/demo/locations/us-east1") + field(2, "build-1") + field(3, ANY_META)),
    (6, field(1, OP) + field(2, ANY_META)),
    (7, field(1, OP) + field(3, bytes([0x08, 1]) + field(2, "stopped"))),
    (8, field(1, OP)),
    (1, b""), (1, b"\xff\xff\xff"),
]
for method, message in messages:
    for ct in range(4):
        body = frame(message)
        if ct >= 2:
            body = base64.b64encode(body)
        put("grpc_web", bytes([method, ct]) + body)
for raw in [b"", b"\x00", b"\x00\x00\x00\x00\x10", b"\x01" + struct.pack(">I", 2) + b"\x1f\x8b",
            b"\x80" + struct.pack(">I", 0), frame(b"") + frame(b"")]:
    put("grpc_web", b"\x01\x00" + raw)
