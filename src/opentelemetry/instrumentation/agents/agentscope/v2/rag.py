"""AgentScope 2.x embeddings and knowledge-base retrieval, mapped onto the handler.

- ``EmbeddingModelBase.__call__`` (and the providers' overrides of it, which
  call back into it): one ``embeddings {model}`` span per call, however many
  batches AgentScope splits it into. A response AgentScope answered from its
  embedding cache (``source == "cache"``) says so on the span.
- ``KnowledgeBase.search``: one ``retrieval {knowledge base}`` span; the
  embedding call it makes for the queries nests under it.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from ... import attributes as A
from ..._handler import TelemetryHandler
from ..._patching import Patcher
from ..._safety import report
from ..common.embeddings import embeddings_wrapper, wrap_overrides
from ..common.providers import ProviderNames
from ..common.retrieval import traced_retrieval

# -> (provider name, the SDK API the model calls)
_embedding_provider = ProviderNames({
    "_openai": ("openai", A.SDK_OPENAI_EMBEDDINGS),
    "_dashscope": ("dashscope", None),
    "_gemini": ("gcp.gemini", None),
    "_ollama": ("ollama", None),
}, package="embedding", default=(None, None))


def install(patcher: Patcher, handler: TelemetryHandler) -> None:
    embed = embeddings_wrapper(handler, _embedding_provider, "model")

    def embedding_package(module: ModuleType) -> None:
        # The package is fully imported: every built-in provider exists, and
        # any subclass the application defined before instrumenting.
        wrap_overrides(patcher, module.EmbeddingModelBase, "__call__", embed)

    def knowledge_module(module: ModuleType) -> None:
        patcher.wrap(module, "KnowledgeBase.search", _search_wrapper(handler))

    patcher.on_import("agentscope.embedding", embedding_package)
    patcher.on_import("agentscope.rag._knowledge", knowledge_module)


# -- retrieval ----------------------------------------------------------------


def _search_wrapper(handler: TelemetryHandler):
    def wrapper(wrapped, instance, args, kwargs):
        if not handler.enabled:
            return wrapped(*args, **kwargs)
        inv = None
        try:
            queries = args[0] if args else kwargs.get("queries")
            top_k = args[1] if len(args) > 1 else kwargs.get("top_k", 5)
            inv = handler.start_retrieval(
                getattr(instance, "name", None), top_k=top_k,
                query=_query_text(queries) if handler.capture_content else None)
        except Exception:  # noqa: BLE001
            report("agentscope retrieval start")
        if inv is None:
            return wrapped(*args, **kwargs)
        search = wrapped(*args, **kwargs)
        return traced_retrieval(handler, inv, inv.context, lambda: search, _documents)

    return wrapper


def _query_text(queries: Any) -> Any:
    """The queries' text: a string for one query, a list for several."""
    if not isinstance(queries, (list, tuple)):
        queries = [queries]
    texts = [q if isinstance(q, str) else getattr(q, "text", None) or f"<{type(q).__name__}>"
             for q in queries]
    return texts[0] if len(texts) == 1 else texts


def _documents(results: Any) -> list[dict[str, Any]]:
    """The hits as the conventions' document objects: id, score, and the content."""
    documents = []
    for result in results or ():
        chunk = getattr(result, "chunk", None)
        content = getattr(chunk, "content", None)
        document: dict[str, Any] = {"id": f"{getattr(result, 'document_id', '')}"
                                          f"#{getattr(chunk, 'chunk_index', '')}",
                                    "score": getattr(result, "score", None)}
        text = getattr(content, "text", None)
        if text is not None:
            document["content"] = text
        documents.append(document)
    return documents
