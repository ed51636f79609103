"""One embedding model call -> one `embeddings` span; shared by both lines.

Both lines' embedding models are awaited with the inputs first and answer
an `EmbeddingResponse` (`embeddings`, `usage.tokens`, `source`); they differ
only in where the model name is kept.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from opentelemetry import context as otel_context

from ..._context import attach as _attach
from ..._context import detach as _detach
from ..._handler import TelemetryHandler
from ..._safety import report

# The embedding model whose call is being traced here: an override calling
# `super().__call__()` is one call, not two.
_EMBEDDING_KEY = otel_context.create_key("opentelemetry-instrumentation-agents.embedding")


def embeddings_wrapper(handler: TelemetryHandler,
                       provider_and_api: Callable[[Any], tuple[str | None, str | None]],
                       model_attribute: str):
    """The wrapper for an embedding model's `__call__`; `provider_and_api`
    gives a model's provider name and the SDK API it calls."""

    def wrapper(wrapped, instance, args, kwargs):
        if not handler.enabled or otel_context.get_value(_EMBEDDING_KEY) is instance:
            return wrapped(*args, **kwargs)
        inv = None
        try:
            inputs = args[0] if args else kwargs.get("inputs", kwargs.get("text"))
            provider, api = provider_and_api(instance)
            inv = handler.start_embeddings(
                request_model=getattr(instance, model_attribute, None),
                provider=provider, api=api,
                dimensions=getattr(instance, "dimensions", None),
                input_count=len(inputs) if isinstance(inputs, (list, tuple)) else None)
        except Exception:  # noqa: BLE001
            report("agentscope embeddings start")
        if inv is None:
            return wrapped(*args, **kwargs)
        return _traced_embeddings(handler, inv, instance, wrapped, args, kwargs)

    return wrapper


async def _traced_embeddings(handler: TelemetryHandler, inv: Any, instance: Any,
                             wrapped: Any, args: tuple, kwargs: dict) -> Any:
    # Attached while the call runs, so an HTTP client's own spans nest here.
    token = _attach(otel_context.set_value(_EMBEDDING_KEY, instance, inv.context))
    try:
        response = await wrapped(*args, **kwargs)
    except BaseException as exc:
        _detach(token)
        handler.finish_embeddings(inv, error=exc)
        raise
    _detach(token)
    try:
        usage = getattr(response, "usage", None)
        embeddings = getattr(response, "embeddings", None) or ()
        first = embeddings[0] if embeddings else None
        handler.finish_embeddings(
            inv,
            input_tokens=getattr(usage, "tokens", None),
            dimensions=len(first) if isinstance(first, (list, tuple)) else None,
            cache_hit=getattr(response, "source", None) == "cache")
    except Exception:  # noqa: BLE001
        report("agentscope embeddings end")
    return response


def wrap_overrides(patcher: Any, base: type, method: str, wrapper: Any) -> None:
    """Wrap `method` on `base` and on every subclass that defines it (a coroutine)."""
    import inspect

    for cls in [base, *_all_subclasses(base)]:
        call = cls.__dict__.get(method)
        if call is not None and inspect.iscoroutinefunction(call):
            patcher.wrap(cls, method, wrapper)


def _all_subclasses(base: type) -> list[type]:
    found: list[type] = []
    pending = list(base.__subclasses__())
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found
