"""Message-content tests, one module per runtime plus the runtime-independent ones.

The capture setting is read when a runtime is instrumented, so every test
sets the environment (monkeypatch) first and instruments after.
"""

from __future__ import annotations

import pytest

from opentelemetry.instrumentation.agents import _content, _settings
from tests.by_runtime import ignored_modules, prepare_runtimes

prepare_runtimes()
collect_ignore = ignored_modules()


@pytest.fixture(autouse=True)
def clean_content_settings(monkeypatch):
    """No setting from the developer's shell; no hook or warning left behind."""
    for name in (_settings.CAPTURE_ENV, _settings.STABILITY_ENV, _settings.MAX_LENGTH_ENV):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(_settings, "_warned", set())
    yield
    _content.set_content_hook(None)


@pytest.fixture
def capture(monkeypatch):
    """`capture(value="true", **env)`: set the capture switch (and more) before instrumenting."""
    def set_env(value: str | None = "true", *, stability: str | None = None,
                max_length: int | None = None) -> None:
        if value is not None:
            monkeypatch.setenv(_settings.CAPTURE_ENV, value)
        if stability is not None:
            monkeypatch.setenv(_settings.STABILITY_ENV, stability)
        if max_length is not None:
            monkeypatch.setenv(_settings.MAX_LENGTH_ENV, str(max_length))

    return set_env


@pytest.fixture
def instrument(provider):
    """`instrument(Instrumentor)`: instrumented for the test, uninstrumented after."""
    active = []

    def start(instrumentor_class, **kwargs):
        kwargs.setdefault("tracer_provider", provider)
        instrumentor = instrumentor_class()
        instrumentor.instrument(**kwargs)
        active.append(instrumentor)
        return instrumentor

    yield start
    for instrumentor in active:
        instrumentor.uninstrument()
