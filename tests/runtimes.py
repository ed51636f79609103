"""What the test directories share: which runtime is installed, and instrumenting one."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from importlib import metadata
from typing import Any

import pytest


def installed_major(distribution: str) -> int | None:
    """The installed major version of `distribution`, or None when it is absent."""
    try:
        return int(metadata.version(distribution).split(".")[0])
    except metadata.PackageNotFoundError:
        return None


@contextlib.contextmanager
def instrumented_with(instrumentor_class: type, provider: Any) -> Iterator[Any]:
    """The runtime instrumented against `provider` for the block, and undone after."""
    instrumentor = instrumentor_class()
    instrumentor.instrument(tracer_provider=provider)
    try:
        yield instrumentor
    finally:
        instrumentor.uninstrument()


def drift_warnings(records: list[Any]) -> list[Any]:
    """The log records (caplog.records) that report a patched call point missing."""
    import logging

    return [r for r in records
            if r.levelno == logging.WARNING and "is not in the installed version" in r.getMessage()]


@contextlib.contextmanager
def drifted(instrumentor_class: type, provider: Any, caplog: Any, monkeypatch: Any, *,
            dropped: tuple[type, str], kept: list[tuple[type, str]],
            warns: str) -> Iterator[None]:
    """The runtime instrumented for the block as if its release had no method
    `dropped` (a class and a name): everything `kept` is patched all the same.
    After it (uninstrumented) exactly one drift warning names `warns`, what is
    kept is back as it was, and nothing stands in for the dropped method."""
    import logging

    from opentelemetry.instrumentation.agents._patching import is_ours

    owner, name = dropped
    monkeypatch.delattr(owner, name)
    before = {(cls, attr): vars(cls)[attr] for cls, attr in kept}
    caplog.set_level(logging.WARNING, logger="opentelemetry.instrumentation.agents")
    with instrumented_with(instrumentor_class, provider):
        assert all(is_ours(vars(cls)[attr]) for cls, attr in kept)
        yield
    [warning] = drift_warnings(caplog.records)
    assert warns in warning.getMessage()
    assert {(cls, attr): vars(cls)[attr] for cls, attr in kept} == before
    assert name not in vars(owner)


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch):
    """Fail (and remember) any name lookup beyond this machine: a runtime's
    paths to a real provider (LiteLLM's model cost map, say) must not reach one.
    Autouse in the test modules that import it."""
    attempts: list[str] = []
    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if host not in ("127.0.0.1", "localhost", b"127.0.0.1"):
            attempts.append(str(host))
            raise OSError(f"test network guard: no lookups of {host}")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield
    assert attempts == [], f"reached beyond this machine: {attempts}"
