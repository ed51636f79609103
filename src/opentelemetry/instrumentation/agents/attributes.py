"""Attribute keys and values this instrumentation records.

Keys the OpenTelemetry semantic conventions define come from
`opentelemetry-semantic-conventions`; the few this project adds live under one
extension namespace, ``agents.``, and are listed in the README.
"""

from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as _gen_ai
from opentelemetry.semconv._incubating.metrics import gen_ai_metrics as _gen_ai_metrics
from opentelemetry.semconv.attributes import error_attributes as _error

OPERATION_NAME = _gen_ai.GEN_AI_OPERATION_NAME
PROVIDER_NAME = _gen_ai.GEN_AI_PROVIDER_NAME
AGENT_NAME = _gen_ai.GEN_AI_AGENT_NAME
AGENT_ID = _gen_ai.GEN_AI_AGENT_ID
AGENT_DESCRIPTION = _gen_ai.GEN_AI_AGENT_DESCRIPTION
CONVERSATION_ID = _gen_ai.GEN_AI_CONVERSATION_ID
WORKFLOW_NAME = _gen_ai.GEN_AI_WORKFLOW_NAME
REQUEST_MODEL = _gen_ai.GEN_AI_REQUEST_MODEL
REQUEST_STREAM = _gen_ai.GEN_AI_REQUEST_STREAM
RESPONSE_MODEL = _gen_ai.GEN_AI_RESPONSE_MODEL
RESPONSE_ID = _gen_ai.GEN_AI_RESPONSE_ID
RESPONSE_FINISH_REASONS = _gen_ai.GEN_AI_RESPONSE_FINISH_REASONS
USAGE_INPUT_TOKENS = _gen_ai.GEN_AI_USAGE_INPUT_TOKENS
USAGE_OUTPUT_TOKENS = _gen_ai.GEN_AI_USAGE_OUTPUT_TOKENS
TOKEN_TYPE = _gen_ai.GEN_AI_TOKEN_TYPE
TOOL_NAME = _gen_ai.GEN_AI_TOOL_NAME
TOOL_CALL_ID = _gen_ai.GEN_AI_TOOL_CALL_ID
TOOL_TYPE = _gen_ai.GEN_AI_TOOL_TYPE
TOOL_CALL_ARGUMENTS = _gen_ai.GEN_AI_TOOL_CALL_ARGUMENTS
TOOL_CALL_RESULT = _gen_ai.GEN_AI_TOOL_CALL_RESULT
INPUT_MESSAGES = _gen_ai.GEN_AI_INPUT_MESSAGES
OUTPUT_MESSAGES = _gen_ai.GEN_AI_OUTPUT_MESSAGES
SYSTEM_INSTRUCTIONS = _gen_ai.GEN_AI_SYSTEM_INSTRUCTIONS
ERROR_TYPE = _error.ERROR_TYPE

# The `react step` span follows the ReAct extension other agent
# instrumentations already emit, so traces line up across tools.
REACT_ROUND = "gen_ai.react.round"
REACT_FINISH_REASON = "gen_ai.react.finish_reason"

# Our own extension namespace.
AGENT_ROUNDS = "agents.react.rounds"
"""Number of reasoning/acting rounds one agent invocation ran."""
AGENT_MAX_ITERATIONS = "agents.react.max_iterations"
"""The runtime's configured iteration limit, where it has one."""
AGENT_MAX_ITERATIONS_REACHED = "agents.react.max_iterations_reached"
"""True when the invocation stopped because it hit the iteration limit."""
AGENT_FINISH_REASON = "agents.agent.finish_reason"
"""How the runtime says the invocation ended (completed, max_iterations, ...)."""
STREAM_CLOSED_EARLY = "agents.stream.closed_early"
"""True when the consumer stopped a streamed invocation before it finished."""
RUNTIME = "agents.runtime"
"""Which runtime produced the span (agentscope, hermes, praisonai)."""

OP_INVOKE_WORKFLOW = _gen_ai.GenAiOperationNameValues.INVOKE_WORKFLOW.value
OP_INVOKE_AGENT = _gen_ai.GenAiOperationNameValues.INVOKE_AGENT.value
OP_CHAT = _gen_ai.GenAiOperationNameValues.CHAT.value
OP_EXECUTE_TOOL = _gen_ai.GenAiOperationNameValues.EXECUTE_TOOL.value
OP_REACT = "react"

STEP_SPAN_NAME = "react step"

# Values for `gen_ai.react.finish_reason`.
FINISH_TOOL_CALLS = "tool_calls"
FINISH_STOP = "stop"
FINISH_ERROR = "error"
FINISH_MAX_ITERATIONS = "max_iterations"
FINISH_CANCELLED = "cancelled"

# Metrics: the two the GenAI semantic conventions define for model calls, and
# two of our own for agent invocations and tool calls.
METRIC_TOKEN_USAGE = _gen_ai_metrics.GEN_AI_CLIENT_TOKEN_USAGE
"""Histogram, ``{token}``: tokens per model call, by ``gen_ai.token.type``."""
METRIC_OPERATION_DURATION = _gen_ai_metrics.GEN_AI_CLIENT_OPERATION_DURATION
"""Histogram, ``s``: duration of each model call."""
METRIC_AGENT_DURATION = "agents.invocation.duration"
"""Histogram, ``s``: duration of each agent invocation (the ``invoke_agent`` span)."""
METRIC_TOOL_DURATION = "agents.tool.duration"
"""Histogram, ``s``: duration of each tool call (the ``execute_tool`` span)."""

TOKEN_TYPE_INPUT = _gen_ai.GenAiTokenTypeValues.INPUT.value
TOKEN_TYPE_OUTPUT = _gen_ai.GenAiTokenTypeValues.COMPLETION.value  # "output"
