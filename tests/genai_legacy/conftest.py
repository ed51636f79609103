"""Beside `opentelemetry-instrumentation-openai-v2`, the provider instrumentation
that cannot step aside (`make test` runs this directory in `.venv-genai-legacy`,
built from requirements-genai-legacy.txt).

An environment without it (or where it cannot load: it needs
opentelemetry-util-genai 1.1b0 or older) does not collect these tests; that
is not a skip, they do not apply there.
"""

from __future__ import annotations

from tests.by_runtime import ignored_modules, prepare_runtimes


def _loadable() -> bool:
    try:
        import opentelemetry.instrumentation.openai_v2  # noqa: F401
    except Exception:  # noqa: BLE001 - absent, or beside a util-genai it cannot use
        return False
    return True


if _loadable():
    prepare_runtimes()
    collect_ignore = ignored_modules()
    from tests.genai_stack.conftest import (  # noqa: F401 - fixtures
        meter_provider,
        metric_reader,
        stack,
    )
else:
    collect_ignore_glob = ["test_*.py"]
