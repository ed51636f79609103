"""Run Arize Phoenix's `serve` with every listener on the loopback interface.

Runs with the Phoenix environment's interpreter (`.venv-phoenix/bin/python`),
started by `phoenix_server.py`, which sets the environment (host, ports,
working directory, telemetry off). Phoenix binds its HTTP server to
`PHOENIX_HOST`, but its OTLP gRPC receiver always listens on `[::]` (all
interfaces, no setting for it): this wrapper rewrites that one address to
127.0.0.1 before handing over to Phoenix's own entry point.
"""

from __future__ import annotations

import sys

import grpc.aio._server as _grpc_aio_server

_add_insecure_port = _grpc_aio_server.Server.add_insecure_port


def _loopback_only(self, address: str) -> int:
    if address.startswith("[::]:"):
        address = "127.0.0.1:" + address[len("[::]:"):]
    return _add_insecure_port(self, address)


_grpc_aio_server.Server.add_insecure_port = _loopback_only

if __name__ == "__main__":
    from phoenix.server.main import main

    sys.argv = ["phoenix", "serve", *sys.argv[1:]]
    sys.exit(main())
