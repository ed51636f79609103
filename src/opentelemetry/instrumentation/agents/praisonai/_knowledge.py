"""Knowledge retrieval: `Knowledge.search`, whatever store is behind it.

An agent with `knowledge=` searches its `Knowledge` before it asks the model
(`Agent._get_knowledge_context`), so the `retrieval {data source}` span is a
child of the agent span, before the first `react step`; a direct
`knowledge.search(...)` (from a tool, say) nests where it is called. The data
source is the store's collection name (PraisonAI's default:
`praisonai_knowledge`), else its provider. Every backend answers through
this one method (the `sqlite` adapter, the default `chroma`, `mem0`,
`mongodb`), so the span does not depend on which is installed.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from .._handler import TelemetryHandler
from .._patching import Patcher
from .._safety import report
from ._wrapping import call_in, fail_with


def _data_source(knowledge: Any) -> str | None:
    # `config` is PraisonAI's own cached merge of the user's settings; the
    # search it wraps reads it too.
    config = getattr(knowledge, "config", None)
    store = config.get("vector_store") if isinstance(config, dict) else None
    if not isinstance(store, dict):
        return None
    settings = store.get("config")
    if isinstance(settings, dict):
        for key in ("collection_name", "collection"):
            if isinstance(settings.get(key), str) and settings[key]:
                return settings[key]
    provider = store.get("provider")
    return provider if isinstance(provider, str) else None


def _items(result: Any) -> list[Any] | None:
    """The hits of a search result: a `SearchResult`, mem0's dict, or a list."""
    items = getattr(result, "results", None)
    if items is None and isinstance(result, dict):
        items = result.get("results")
    if items is None and isinstance(result, list):
        items = result
    return items if isinstance(items, list) else None


def _documents(items: list[Any]) -> list[dict[str, Any]]:
    docs = []
    for item in items:
        if item is None:
            continue
        if isinstance(item, dict):
            # FileMemory nests the stored record under "item".
            record = item.get("item") if isinstance(item.get("item"), dict) else item
            doc = {"id": record.get("id"), "score": item.get("score"),
                   "content": record.get("memory") or record.get("text")
                   or record.get("content")}
        else:
            doc = {"id": getattr(item, "id", None), "score": getattr(item, "score", None),
                   "content": getattr(item, "text", None) or getattr(item, "memory", None)}
        docs.append({k: v for k, v in doc.items() if v is not None})
    return docs


def traced(handler: TelemetryHandler, data_source: Any, query: Any, top_k: Any,
           wrapped: Any, args: Any, kwargs: Any) -> Any:
    """Call `wrapped` inside a `retrieval {data_source}` span; its hits counted."""
    inv = None
    try:
        inv = handler.start_retrieval(data_source, top_k=top_k if isinstance(top_k, int)
                                      else None, query=query)
    except Exception:  # noqa: BLE001
        report("praisonai retrieval start")
    if inv is None:
        return wrapped(*args, **kwargs)
    result = call_in(inv.context, fail_with(handler.finish_retrieval, inv), wrapped, args,
                     kwargs)
    try:
        items = _items(result)
        documents = None
        if items is not None and handler.span_content:
            documents = _documents(items)
        handler.finish_retrieval(inv, documents_count=len(items) if items is not None
                                 else None, documents=documents)
    except Exception:  # noqa: BLE001
        report("praisonai retrieval end")
        handler.finish_retrieval(inv)
    return result


def search_wrapper(handler: TelemetryHandler):
    """`Knowledge.search(query, user_id=None, agent_id=None, run_id=None, rerank=None, **kw)`."""
    def wrapper(wrapped, instance, args, kwargs):
        if not handler.enabled:
            return wrapped(*args, **kwargs)
        source = query = None
        try:
            source = _data_source(instance)
            query = args[0] if args else kwargs.get("query")
        except Exception:  # noqa: BLE001
            report("praisonai knowledge search start")
        return traced(handler, source, query, kwargs.get("limit"), wrapped, args, kwargs)

    return wrapper


def install(patcher: Patcher, handler: TelemetryHandler) -> None:
    def knowledge(module: ModuleType) -> None:
        patcher.wrap(module, "Knowledge.search", search_wrapper(handler))

    patcher.on_import("praisonaiagents.knowledge.knowledge", knowledge)
