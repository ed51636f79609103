"""The `praisonai` wrapper's generators (`PraisonAI(auto=...)`, `AutoGenerator`,
`WorkflowAutoGenerator`, ... all `praisonai.auto.BaseAutoGenerator`): each
structured completion is a `chat` span.

Every generator's model call, sync (`_structured_completion`) or async, goes
through one coroutine, `BaseAutoGenerator._completion_impl(response_model,
messages, is_async=...)`, which tries LiteLLM and falls back to the
generator's own OpenAI client: one span around it is one per call, whichever
leg answered. Each generator has its own `config_list` (model, `base_url`),
read off the instance for that call, so concurrent generators never mix.
The span belongs wherever the call runs (under an invocation, or a root).
"""

from __future__ import annotations

from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

from .._handler import TelemetryHandler
from .._patching import Patcher
from .._safety import report
from ._wrapping import acall_in, fail_with


def _config(generator: Any) -> dict:
    configs = getattr(generator, "config_list", None)
    first = configs[0] if isinstance(configs, list) and configs else None
    return first if isinstance(first, dict) else {}


def _server(base_url: Any) -> tuple[str | None, int | None]:
    if not isinstance(base_url, str) or not base_url:
        return None, None
    try:
        parts = urlsplit(base_url)
        return parts.hostname, parts.port
    except ValueError:
        return None, None


def _start(handler: TelemetryHandler, generator: Any) -> Any:
    if not handler.enabled:
        return None
    try:
        config = _config(generator)
        model = config.get("model")
        model = model if isinstance(model, str) else None
        provider = model.split("/", 1)[0] if model and "/" in model else "openai"
        host, port = _server(config.get("base_url"))
        return handler.start_chat(request_model=model, provider=provider,
                                  server_address=host, server_port=port)
    except Exception:  # noqa: BLE001
        report("starting a PraisonAI generator's structured completion")
        return None


def completion_wrapper(handler: TelemetryHandler):
    """`BaseAutoGenerator._completion_impl`: one chat span per structured completion."""
    async def wrapper(wrapped, instance, args, kwargs):
        inv = _start(handler, instance)
        if inv is None:
            return await wrapped(*args, **kwargs)
        result = await acall_in(inv.context, fail_with(handler.finish_chat, inv),
                                wrapped, args, kwargs)
        handler.finish_chat(inv)
        return result

    return wrapper


def install(patcher: Patcher, handler: TelemetryHandler) -> None:
    def auto(module: ModuleType) -> None:
        patcher.wrap(module, "BaseAutoGenerator._completion_impl", completion_wrapper(handler))

    patcher.on_import("praisonai.auto", auto)
