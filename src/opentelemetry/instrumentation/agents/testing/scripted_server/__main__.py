"""Run the scripted model server on its own, until interrupted.

    python -m opentelemetry.instrumentation.agents.testing.scripted_server \\
        --port 8765 --script script.json

Serves OpenAI chat completions, OpenAI Responses and Anthropic Messages
(``/v1/chat/completions``, ``/v1/responses``, ``/v1/messages``) from the
script (format: `script_file`), on 127.0.0.1 by default. Prints one line,
``serving http://HOST:PORT/v1``, once it accepts connections (point
``OPENAI_BASE_URL`` there), and each unscripted request's error on stderr.
Stops on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from .script_file import load
from .server import ScriptedOpenAIServer


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m opentelemetry.instrumentation.agents.testing.scripted_server",
        description="Serve scripted OpenAI / Anthropic model responses on loopback.")
    parser.add_argument("--script", required=True, help="JSON script file")
    parser.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    parser.add_argument("--host", default="127.0.0.1", help="IPv4 interface (default: loopback)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    try:
        kwargs = load(args.script)
    except (OSError, ValueError, TypeError, KeyError) as exc:
        print(f"cannot read script {args.script}: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with ScriptedOpenAIServer(host=args.host, port=args.port, **kwargs) as server:
        print(f"serving {server.base_url}", flush=True)
        reported = 0
        try:
            while not stop.wait(0.2):
                reported = _report(server, reported)
        except KeyboardInterrupt:
            pass
        _report(server, reported)  # what arrived since the last look
    return 0


def _report(server: ScriptedOpenAIServer, reported: int) -> int:
    """Print the errors after the first `reported`; return how many there are now."""
    errors = server.errors
    for message in errors[reported:]:
        print(f"unscripted request: {message}", file=sys.stderr, flush=True)
    return len(errors)


if __name__ == "__main__":
    sys.exit(main())
