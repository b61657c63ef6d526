"""Generates the Python stubs of longrun's protos into ./generated.

    python generate.py

Runs grpcio-tools' protoc on every .proto under the repository's proto/
folder (longrun's control API and metadata, and the google/api,
google/longrunning and google/rpc files they import). The well-known types
(google/protobuf/*.proto) come with grpcio-tools. The output is a build
product: it is not committed, and running this again replaces it.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROTO_ROOT = HERE.parent.parent / "proto"
OUT = HERE / "generated"


def main() -> int:
    try:
        import grpc_tools
        from grpc_tools import protoc
    except ImportError:
        print("generate.py: grpcio-tools is missing: pip install -r requirements.txt", file=sys.stderr)
        return 2
    well_known = Path(grpc_tools.__file__).resolve().parent / "_proto"
    protos = sorted(str(p.relative_to(PROTO_ROOT)) for p in PROTO_ROOT.rglob("*.proto"))
    if not protos:
        print(f"generate.py: no .proto files under {PROTO_ROOT}", file=sys.stderr)
        return 2

    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir()
    status = protoc.main(
        [
            "grpc_tools.protoc",
            f"--proto_path={PROTO_ROOT}",
            f"--proto_path={well_known}",
            f"--python_out={OUT}",
            f"--pyi_out={OUT}",
            f"--grpc_python_out={OUT}",
            *protos,
        ]
    )
    if status != 0:
        print(f"generate.py: protoc failed with status {status}", file=sys.stderr)
        return 1
    print(f"generate.py: {len(protos)} protos -> {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
