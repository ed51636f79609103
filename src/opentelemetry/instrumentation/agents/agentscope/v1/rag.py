"""AgentScope 1.x embeddings and knowledge retrieval, mapped onto the handler.

- Each embedding model class's ``__call__`` (1.x declares it on
  ``EmbeddingModelBase`` and every provider overrides it): one
  ``embeddings {model}`` span per call; a cache answer says so.
- Each knowledge class's ``retrieve`` (``SimpleKnowledge`` and any other
  ``KnowledgeBase`` subclass): one ``retrieval {store}`` span, with the
  query's embedding call under it. The store's collection name is the data
  source where it has one, else the store's class name.

Classes that exist when the packages are imported (or when instrumenting)
are patched then; a knowledge base's embedding model class defined later is
patched on its first retrieval.
"""

from __future__ import annotations

import weakref
from types import ModuleType
from typing import Any

from opentelemetry import context as otel_context

from ... import attributes as A
from ..._handler import TelemetryHandler
from ..._patching import Patcher
from ..._safety import report
from ..common.embeddings import embeddings_wrapper, wrap_overrides
from ..common.providers import ProviderNames
from ..common.retrieval import traced_retrieval

# A `retrieve` override calling `super().retrieve()` is one retrieval.
_RETRIEVAL_KEY = otel_context.create_key("opentelemetry-instrumentation-agents.retrieval")

# -> (provider name, the SDK API the model calls)
_embedding_provider = ProviderNames({
    "_openai_embedding": ("openai", A.SDK_OPENAI_EMBEDDINGS),
    "_dashscope_embedding": ("dashscope", None),
    "_dashscope_multimodal_embedding": ("dashscope", None),
    "_gemini_embedding": ("gcp.gemini", None),
    "_ollama_embedding": ("ollama", None),
}, package="embedding", default=(None, None))


def install(patcher: Patcher, handler: TelemetryHandler) -> None:
    embed = embeddings_wrapper(handler, _embedding_provider, "model_name")
    seen: weakref.WeakSet[type] = weakref.WeakSet()
    state: dict[str, Any] = {}

    def ensure_embedding_traced(model: Any) -> None:
        cls = type(model)
        base = state.get("embedding_base")
        if cls in seen or base is None or not patcher.active:
            return
        try:
            for klass in cls.__mro__:
                if klass is base:
                    break
                call = klass.__dict__.get("__call__")
                if call is not None:
                    wrap_overrides(patcher, klass, "__call__", embed)
            seen.add(cls)
        except Exception:  # noqa: BLE001
            report("agentscope embedding class")

    def embedding_package(module: ModuleType) -> None:
        state["embedding_base"] = module.EmbeddingModelBase
        wrap_overrides(patcher, module.EmbeddingModelBase, "__call__", embed)

    def rag_package(module: ModuleType) -> None:
        wrap_overrides(patcher, module.KnowledgeBase, "retrieve",
                       _retrieve_wrapper(handler, ensure_embedding_traced))

    patcher.on_import("agentscope.embedding", embedding_package)
    patcher.on_import("agentscope.rag", rag_package)


def _data_source(knowledge: Any) -> str | None:
    store = getattr(knowledge, "embedding_store", None)
    if store is None:
        return type(knowledge).__name__
    name = getattr(store, "collection_name", None)
    return name if isinstance(name, str) and name else type(store).__name__


def _retrieve_wrapper(handler: TelemetryHandler, ensure_embedding_traced: Any):
    def wrapper(wrapped, instance, args, kwargs):
        if not handler.enabled or otel_context.get_value(_RETRIEVAL_KEY) is instance:
            return wrapped(*args, **kwargs)
        inv = None
        try:
            model = getattr(instance, "embedding_model", None)
            if model is not None:
                ensure_embedding_traced(model)
            query = args[0] if args else kwargs.get("query")
            limit = args[1] if len(args) > 1 else kwargs.get("limit", 5)
            inv = handler.start_retrieval(
                _data_source(instance), top_k=limit,
                query=query if handler.capture_content else None)
        except Exception:  # noqa: BLE001
            report("agentscope retrieval start")
        if inv is None:
            return wrapped(*args, **kwargs)
        # The search starts once the context is attached, as it always has.
        return traced_retrieval(
            handler, inv, otel_context.set_value(_RETRIEVAL_KEY, instance, inv.context),
            lambda: wrapped(*args, **kwargs), _documents)

    return wrapper


def _documents(documents: Any) -> list[dict[str, Any]]:
    found = []
    for doc in documents or ():
        metadata = getattr(doc, "metadata", None)
        content = getattr(metadata, "content", None)
        entry: dict[str, Any] = {"id": getattr(doc, "id", None),
                                 "score": getattr(doc, "score", None)}
        text = content.get("text") if isinstance(content, dict) else None
        if text is not None:
            entry["content"] = text
        found.append(entry)
    return found
