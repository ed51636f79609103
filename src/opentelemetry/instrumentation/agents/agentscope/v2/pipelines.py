"""AgentScope 2.x pipelines and teams, mapped onto the handler.

``TeamPipeline.reply_stream`` and ``GoalPipeline.reply_stream`` (async
generators): one ``invoke_workflow`` span per call, with the ``invoke_agent``
spans of the leader and of every member (members run in tasks the pipeline
starts; they inherit the workflow's context) under it. A call that delivers
a confirmation or an external result to a parked pipeline is a run of its own.
"""

from __future__ import annotations

from types import ModuleType

from ..._handler import TelemetryHandler
from ..._patching import Patcher
from ..common import workflows as _workflows


def install(patcher: Patcher, handler: TelemetryHandler) -> None:
    def team_module(module: ModuleType) -> None:
        patcher.wrap(module, "TeamPipeline.reply_stream", _team_wrapper(handler))

    def goal_module(module: ModuleType) -> None:
        patcher.wrap(module, "GoalPipeline.reply_stream", _goal_wrapper(handler))

    patcher.on_import("agentscope.pipeline._team_pipeline", team_module)
    patcher.on_import("agentscope.pipeline._goal_pipeline", goal_module)


def _name(pipeline: object, default: str) -> object:
    return getattr(pipeline, "name", None) or default


def _team_wrapper(handler: TelemetryHandler):
    def wrapper(wrapped, instance, args, kwargs):
        source = wrapped(*args, **kwargs)
        if not handler.enabled:
            return source

        def begin():
            members = getattr(instance, "members", None) or {}
            agents = [getattr(instance, "leader", None),
                      *(getattr(m, "agent", None) for m in members.values())]
            return _workflows.start(handler, _name(instance, "TeamPipeline"), "TeamPipeline",
                                    agents)

        return _workflows.streamed(handler, source, begin)

    return wrapper


def _goal_wrapper(handler: TelemetryHandler):
    def wrapper(wrapped, instance, args, kwargs):
        source = wrapped(*args, **kwargs)
        if not handler.enabled:
            return source

        def begin():
            return _workflows.start(
                handler, _name(instance, "GoalPipeline"), "GoalPipeline",
                [getattr(instance, "executor", None), getattr(instance, "verifier", None)])

        return _workflows.streamed(handler, source, begin)

    return wrapper
