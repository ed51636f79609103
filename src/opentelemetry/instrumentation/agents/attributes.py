"""Attribute keys and values this instrumentation records.

Keys the OpenTelemetry semantic conventions define come from
`opentelemetry-semantic-conventions`; the few this project adds live under one
extension namespace, ``agents.``, and are listed in the README.
"""

from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as _gen_ai
from opentelemetry.semconv._incubating.attributes import user_attributes as _user
from opentelemetry.semconv._incubating.metrics import gen_ai_metrics as _gen_ai_metrics
from opentelemetry.semconv.attributes import error_attributes as _error
from opentelemetry.semconv.attributes import exception_attributes as _exception
from opentelemetry.semconv.attributes import server_attributes as _server

OPERATION_NAME = _gen_ai.GEN_AI_OPERATION_NAME
PROVIDER_NAME = _gen_ai.GEN_AI_PROVIDER_NAME
AGENT_NAME = _gen_ai.GEN_AI_AGENT_NAME
AGENT_ID = _gen_ai.GEN_AI_AGENT_ID
AGENT_DESCRIPTION = _gen_ai.GEN_AI_AGENT_DESCRIPTION
AGENT_VERSION = _gen_ai.GEN_AI_AGENT_VERSION
CONVERSATION_ID = _gen_ai.GEN_AI_CONVERSATION_ID
WORKFLOW_NAME = _gen_ai.GEN_AI_WORKFLOW_NAME
REQUEST_MODEL = _gen_ai.GEN_AI_REQUEST_MODEL
REQUEST_STREAM = _gen_ai.GEN_AI_REQUEST_STREAM
REQUEST_TEMPERATURE = _gen_ai.GEN_AI_REQUEST_TEMPERATURE
REQUEST_MAX_TOKENS = _gen_ai.GEN_AI_REQUEST_MAX_TOKENS
REQUEST_TOP_P = _gen_ai.GEN_AI_REQUEST_TOP_P
REQUEST_STOP_SEQUENCES = _gen_ai.GEN_AI_REQUEST_STOP_SEQUENCES
REQUEST_SEED = _gen_ai.GEN_AI_REQUEST_SEED
REQUEST_FREQUENCY_PENALTY = _gen_ai.GEN_AI_REQUEST_FREQUENCY_PENALTY
REQUEST_PRESENCE_PENALTY = _gen_ai.GEN_AI_REQUEST_PRESENCE_PENALTY
REQUEST_CHOICE_COUNT = _gen_ai.GEN_AI_REQUEST_CHOICE_COUNT
OUTPUT_TYPE = _gen_ai.GEN_AI_OUTPUT_TYPE
RESPONSE_TIME_TO_FIRST_CHUNK = _gen_ai.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK
RESPONSE_MODEL = _gen_ai.GEN_AI_RESPONSE_MODEL
RESPONSE_ID = _gen_ai.GEN_AI_RESPONSE_ID
RESPONSE_FINISH_REASONS = _gen_ai.GEN_AI_RESPONSE_FINISH_REASONS
USAGE_INPUT_TOKENS = _gen_ai.GEN_AI_USAGE_INPUT_TOKENS
USAGE_OUTPUT_TOKENS = _gen_ai.GEN_AI_USAGE_OUTPUT_TOKENS
USAGE_CACHE_READ_INPUT_TOKENS = _gen_ai.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS
USAGE_CACHE_CREATION_INPUT_TOKENS = _gen_ai.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS
"""Deprecated for `USAGE_CACHE_WRITE_INPUT_TOKENS`; set beside it for one release."""
USAGE_CACHE_WRITE_INPUT_TOKENS = "gen_ai.usage.cache_write.input_tokens"
"""The current conventions' key for tokens written to the provider's cache (what
opentelemetry-util-genai 1.3b0 emits; the semantic-conventions package has no
constant for it yet)."""
USAGE_REASONING_OUTPUT_TOKENS = _gen_ai.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS
TOKEN_TYPE = _gen_ai.GEN_AI_TOKEN_TYPE
TOOL_NAME = _gen_ai.GEN_AI_TOOL_NAME
TOOL_CALL_ID = _gen_ai.GEN_AI_TOOL_CALL_ID
TOOL_TYPE = _gen_ai.GEN_AI_TOOL_TYPE
TOOL_DESCRIPTION = _gen_ai.GEN_AI_TOOL_DESCRIPTION
TOOL_DEFINITIONS = _gen_ai.GEN_AI_TOOL_DEFINITIONS
TOOL_CALL_ARGUMENTS = _gen_ai.GEN_AI_TOOL_CALL_ARGUMENTS
TOOL_CALL_RESULT = _gen_ai.GEN_AI_TOOL_CALL_RESULT
INPUT_MESSAGES = _gen_ai.GEN_AI_INPUT_MESSAGES
OUTPUT_MESSAGES = _gen_ai.GEN_AI_OUTPUT_MESSAGES
SYSTEM_INSTRUCTIONS = _gen_ai.GEN_AI_SYSTEM_INSTRUCTIONS
ERROR_TYPE = _error.ERROR_TYPE
# The `exception` span event a span that ended because of an exception records.
EVENT_EXCEPTION = "exception"
EXCEPTION_TYPE = _exception.EXCEPTION_TYPE
EXCEPTION_MESSAGE = _exception.EXCEPTION_MESSAGE
EXCEPTION_STACKTRACE = _exception.EXCEPTION_STACKTRACE
SERVER_ADDRESS = _server.SERVER_ADDRESS
SERVER_PORT = _server.SERVER_PORT

OUTPUT_TYPE_TEXT = _gen_ai.GenAiOutputTypeValues.TEXT.value
OUTPUT_TYPE_JSON = _gen_ai.GenAiOutputTypeValues.JSON.value

# The event the GenAI conventions define for a model call's details.
EVENT_INFERENCE_DETAILS = "gen_ai.client.inference.operation.details"

# The SDK APIs a model call goes through, as adapters name them to
# `start_chat(api=...)` / `start_embeddings(api=...)`: a provider
# instrumentation that wraps one and cannot step aside traces those calls
# instead of us (docs/genai-stack.md). Not span attributes.
SDK_OPENAI_CHAT = "openai.chat.completions"
SDK_OPENAI_RESPONSES = "openai.responses"
SDK_OPENAI_EMBEDDINGS = "openai.embeddings"

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
AGENT_TIME_TO_FIRST_EVENT = "agents.agent.time_to_first_event"
"""Seconds from the start of a streamed agent reply to its first event."""

# Production signals (see `_signals`).
AGENT_CONCURRENT_INVOCATIONS = "agents.agent.concurrent_invocations"
"""Most other invocations of the same agent instance in flight at once during
this one (set only when more than 0): two requests driving one instance."""
AGENT_EMPTY_OUTPUT = "agents.agent.empty_output"
"""True when the invocation returned no text and no structured output."""
LOOP_DETECTED = "agents.loop.detected"
"""On `invoke_agent`: true when one tool was called with identical arguments
the loop threshold's number of times; also the name of the span event on the
`react step` where it tripped."""
LOOP_REPETITIONS = "agents.loop.repetitions"
"""On the `agents.loop.detected` event: identical calls counted when it tripped."""
METRIC_INVOCATIONS_ACTIVE = "agents.invocations.active"
"""UpDownCounter, ``{invocation}``: agent invocations in flight."""
HITL_WAIT_DURATION = "agents.hitl.wait.duration"
"""On a continuation's `invoke_agent`: seconds its reply waited, paused, for a
human or an external tool."""
METRIC_HITL_WAIT = "agents.hitl.wait.duration"
"""Histogram, ``s``: time paused replies waited (`gen_ai.agent.name`,
`agents.agent.pending_reason`)."""
METRIC_LOOPS = "agents.loops"
"""Counter, ``{loop}``: loops detected (one per tool and invocation)."""
LINK_TYPE = "agents.link.type"
"""On a span link: how the linked span relates to the linking one."""
LINK_INPUT_FROM = "input_from"
"""`agents.link.type` of the link from a workflow member's `invoke_agent` to
the `invoke_agent` of the member whose output it ran on."""
WORKFLOW_FAILED_MEMBERS = "agents.workflow.failed_members"
"""On `invoke_workflow`: names of the members whose invocation ended in error
or with an empty answer."""
WORKFLOW_DEGRADED = "agents.workflow.degraded"
"""On `invoke_workflow`: true when a member ran on the output of a failed or
empty one (a cascade)."""
EVENT_EVALUATION_RESULT = "gen_ai.evaluation.result"
# Older semantic-conventions releases lack the evaluation keys: same strings.
EVALUATION_NAME = getattr(_gen_ai, "GEN_AI_EVALUATION_NAME",
                          "gen_ai.evaluation.name")
EVALUATION_SCORE_VALUE = getattr(_gen_ai, "GEN_AI_EVALUATION_SCORE_VALUE",
                                 "gen_ai.evaluation.score.value")
EVALUATION_SCORE_LABEL = getattr(_gen_ai, "GEN_AI_EVALUATION_SCORE_LABEL",
                                 "gen_ai.evaluation.score.label")
EVALUATION_EXPLANATION = getattr(_gen_ai, "GEN_AI_EVALUATION_EXPLANATION",
                                 "gen_ai.evaluation.explanation")
EVALUATION_PASS = "pass"
EVALUATION_FAIL = "fail"

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
METRIC_TIME_TO_FIRST_CHUNK = _gen_ai_metrics.GEN_AI_CLIENT_OPERATION_TIME_TO_FIRST_CHUNK
"""Histogram, ``s``: time to the first chunk of each streamed model call."""
METRIC_TIME_PER_OUTPUT_CHUNK = _gen_ai_metrics.GEN_AI_CLIENT_OPERATION_TIME_PER_OUTPUT_CHUNK
"""Histogram, ``s``: time between consecutive chunks of each streamed model call."""
METRIC_INVOKE_AGENT_DURATION = "gen_ai.invoke_agent.duration"
"""Histogram, ``s``: duration of each agent invocation, as the current GenAI
conventions (and opentelemetry-util-genai 1.3b0) name it."""
METRIC_EXECUTE_TOOL_DURATION = "gen_ai.execute_tool.duration"
"""Histogram, ``s``: duration of each tool call (current conventions)."""
METRIC_INVOKE_WORKFLOW_DURATION = "gen_ai.invoke_workflow.duration"
"""Histogram, ``s``: duration of each workflow (current conventions)."""
METRIC_AGENT_DURATION = "agents.invocation.duration"
"""Histogram, ``s``: duration of each agent invocation (the ``invoke_agent``
span). Deprecated for ``gen_ai.invoke_agent.duration``; kept for one release."""
METRIC_TOOL_DURATION = "agents.tool.duration"
"""Histogram, ``s``: duration of each tool call (the ``execute_tool`` span).
Deprecated for ``gen_ai.execute_tool.duration``; kept for one release."""

TOKEN_TYPE_INPUT = _gen_ai.GenAiTokenTypeValues.INPUT.value
TOKEN_TYPE_OUTPUT = _gen_ai.GenAiTokenTypeValues.COMPLETION.value  # "output"

# -- embeddings, retrieval, workflows, human in the loop, compression --------
EMBEDDINGS_DIMENSION_COUNT = _gen_ai.GEN_AI_EMBEDDINGS_DIMENSION_COUNT
DATA_SOURCE_ID = _gen_ai.GEN_AI_DATA_SOURCE_ID
REQUEST_TOP_K = _gen_ai.GEN_AI_REQUEST_TOP_K
REQUEST_ENCODING_FORMATS = _gen_ai.GEN_AI_REQUEST_ENCODING_FORMATS
RETRIEVAL_TOP_K = "gen_ai.retrieval.top_k"
"""The current conventions' key for a retrieval's document limit (what
opentelemetry-util-genai 1.3b0 emits; the semantic-conventions package has no
constant for it yet). A retrieval also carries the limit as `REQUEST_TOP_K`
for one release (deprecated there)."""
RETRIEVAL_QUERY_TEXT = _gen_ai.GEN_AI_RETRIEVAL_QUERY_TEXT
RETRIEVAL_DOCUMENTS = _gen_ai.GEN_AI_RETRIEVAL_DOCUMENTS
OP_EMBEDDINGS = _gen_ai.GenAiOperationNameValues.EMBEDDINGS.value
OP_RETRIEVAL = _gen_ai.GenAiOperationNameValues.RETRIEVAL.value

EMBEDDINGS_INPUT_COUNT = "agents.embeddings.input_count"
"""How many inputs one embeddings call embedded."""
EMBEDDINGS_CACHE_HIT = "agents.embeddings.cache_hit"
"""True when the runtime answered the embeddings call from its embedding cache."""
RETRIEVAL_DOCUMENTS_COUNT = "agents.retrieval.documents.count"
"""How many documents (chunks) one retrieval returned."""
WORKFLOW_MEMBERS = "agents.workflow.members"
"""Names of the agents a workflow (pipeline, team, hub) runs."""
WORKFLOW_TYPE = "agents.workflow.type"
"""The runtime's kind of workflow (TeamPipeline, GoalPipeline, MsgHub, ...)."""
WORKFLOW_PROCESS = "agents.workflow.process"
"""How a team orders its tasks (PraisonAI: sequential, hierarchical, workflow)."""
OP_GUARDRAIL = "guardrail"
"""`gen_ai.operation.name` of a guardrail check (no GenAI convention has one yet)."""
GUARDRAIL_NAME = "agents.guardrail.name"
"""The guardrail that checked an output (its function's or class's name)."""
GUARDRAIL_TARGET = "agents.guardrail.target"
"""What the checked output belongs to: `agent`, `task` or `step`."""
GUARDRAIL_PASSED = "agents.guardrail.passed"
"""Whether the output passed the check."""
GUARDRAIL_ATTEMPT = "agents.guardrail.attempt"
"""Which attempt at this output the check judged: 1, then 2 after one retry, ..."""
GUARDRAIL_FEEDBACK = "agents.guardrail.feedback"
"""The guardrail's reason for rejecting (content capture only: it may echo the output)."""
GUARDRAIL_RETRIES = "agents.guardrail.retries"
"""On an agent span: how many times a guardrail sent the model back for another answer."""
REPLY_ID = "agents.agent.reply_id"
"""The runtime's id of one logical reply; a reply that paused for a human or
an external tool and its continuation share it."""
AGENT_PENDING_TOOL_CALLS = "agents.agent.pending_tool_calls"
"""JSON list of ``{"id", "name"}`` of the tool calls a paused reply waits on."""
AGENT_PENDING_REASON = "agents.agent.pending_reason"
"""Why a reply paused: ``user_confirmation`` or ``external_execution``."""
AGENT_RESUMED_WITH = "agents.agent.resumed_with"
"""What a continuation reply was given: ``user_confirmation`` or
``external_execution`` (the result of an earlier pause)."""
TOOL_EXTERNAL = "agents.tool.external_execution"
"""True on a tool span whose result came from outside the agent (external
execution), not from a tool the agent ran."""
CHAT_COMPRESSION = "agents.chat.context_compression"
"""True on a model call made to summarize (compress) the agent's context."""
AGENT_COMPRESSIONS = "agents.agent.context_compressions"
"""How many times the agent compressed (or tried to compress) its context."""

FINISH_USER_CONFIRMATION = "user_confirmation"
FINISH_EXTERNAL_EXECUTION = "external_execution"

# Across processes: MCP requests (the OpenTelemetry MCP semantic conventions)
# and remote agents. Keys from opentelemetry-semantic-conventions.
from opentelemetry.semconv._incubating.attributes import (  # noqa: E402
    jsonrpc_attributes as _jsonrpc,
)
from opentelemetry.semconv._incubating.attributes import (  # noqa: E402
    mcp_attributes as _mcp,
)
from opentelemetry.semconv._incubating.attributes import (  # noqa: E402
    rpc_attributes as _rpc,
)
from opentelemetry.semconv._incubating.metrics import mcp_metrics as _mcp_metrics  # noqa: E402
from opentelemetry.semconv.attributes import network_attributes as _network  # noqa: E402
from opentelemetry.semconv.attributes import server_attributes as _server  # noqa: E402

MCP_METHOD_NAME = _mcp.MCP_METHOD_NAME
MCP_SESSION_ID = _mcp.MCP_SESSION_ID
MCP_PROTOCOL_VERSION = _mcp.MCP_PROTOCOL_VERSION
MCP_RESOURCE_URI = _mcp.MCP_RESOURCE_URI
JSONRPC_REQUEST_ID = _jsonrpc.JSONRPC_REQUEST_ID
RPC_RESPONSE_STATUS_CODE = _rpc.RPC_RESPONSE_STATUS_CODE
NETWORK_TRANSPORT = _network.NETWORK_TRANSPORT
SERVER_ADDRESS = _server.SERVER_ADDRESS
SERVER_PORT = _server.SERVER_PORT
PROMPT_NAME = _gen_ai.GEN_AI_PROMPT_NAME
TRANSPORT_PIPE = _network.NetworkTransportValues.PIPE.value
TRANSPORT_TCP = _network.NetworkTransportValues.TCP.value
METRIC_MCP_CLIENT_DURATION = _mcp_metrics.MCP_CLIENT_OPERATION_DURATION
"""Histogram, ``s``: duration of each MCP request the client sent."""
METRIC_MCP_SERVER_DURATION = _mcp_metrics.MCP_SERVER_OPERATION_DURATION
"""Histogram, ``s``: duration of each MCP request the server handled."""
MCP_TOOL_ERROR = "tool_error"
"""`error.type` of a tool call whose result says ``isError`` (the MCP conventions' value)."""

# Across processes: a run handed over through a message bus (the OpenTelemetry
# messaging semantic conventions, CONSUMER side).
from opentelemetry.semconv._incubating.attributes import (  # noqa: E402
    messaging_attributes as _messaging,
)

MESSAGING_SYSTEM = _messaging.MESSAGING_SYSTEM
MESSAGING_OPERATION_TYPE = _messaging.MESSAGING_OPERATION_TYPE
MESSAGING_OPERATION_NAME = _messaging.MESSAGING_OPERATION_NAME
MESSAGING_DESTINATION_NAME = _messaging.MESSAGING_DESTINATION_NAME
MESSAGING_MESSAGE_ID = _messaging.MESSAGING_MESSAGE_ID
MESSAGING_OPERATION_PROCESS = _messaging.MessagingOperationTypeValues.PROCESS.value
MESSAGING_SYSTEM_REDIS = "redis"
"""`messaging.system` of a Redis-backed bus (no value of the conventions names Redis)."""

# -- scheduled runs (PraisonAI's AgentScheduler) ------------------------------
WORKFLOW_TYPE_SCHEDULE = "schedule"
"""`agents.workflow.type` of a scheduled run's `invoke_workflow` span."""
OP_ATTEMPT = "attempt"
"""`gen_ai.operation.name` of one attempt of a scheduled run (no GenAI convention has one)."""
SCHEDULE_EXPRESSION = "agents.schedule.expression"
"""The schedule a run belongs to, as the user wrote it (``hourly``, ``*/30m``, a cron line)."""
SCHEDULE_MAX_RETRIES = "agents.schedule.max_retries"
"""How many attempts the scheduler allows one run."""
SCHEDULE_ATTEMPTS = "agents.schedule.attempts"
"""On a run span: how many attempts the run made."""
SCHEDULE_ATTEMPT = "agents.schedule.attempt"
"""On an attempt span: which attempt it is (1, 2, ...)."""
SCHEDULE_OUTCOME = "agents.schedule.outcome"
"""How a scheduled run ended: ``success``, ``failure``, ``cancelled`` (stopped during a
backoff) or ``skipped`` (the scheduler's budget was spent before it ran)."""
SCHEDULE_CALLBACK = "agents.schedule.callback"
"""The user callback the scheduler called for the run: ``on_success`` or ``on_failure``."""
RETRY_BACKOFF = "agents.retry.backoff"
"""Seconds the scheduler decided to wait after a failed attempt before the next one."""
SCHEDULE_OUTCOMES = ("success", "failure", "cancelled", "skipped")

# -- rate limiters (PraisonAI's RateLimiter) ----------------------------------
RATE_LIMIT_WAIT = "agents.rate_limit.wait"
"""Seconds a model call (or, before its first round, an agent invocation) waited on
the runtime's rate limiter; absent when it did not wait."""
METRIC_RATE_LIMIT_WAIT = "agents.rate_limit.wait.duration"
"""Histogram, ``s``: each wait on the runtime's rate limiter."""

USER_ID = _user.USER_ID
"""The user a run is for, from `agent_run(user_id=...)`."""
RUN_ATTRIBUTE_PREFIX = "agents.run."
"""`agent_run(attributes={"tier": "gold"})` puts ``agents.run.tier`` on every span."""
