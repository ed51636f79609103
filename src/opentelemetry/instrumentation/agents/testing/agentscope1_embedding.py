"""Kept so existing imports work: this module is now `testing.agentscope.embedding_v1`."""

from .agentscope.embedding_v1 import *  # noqa: F403
