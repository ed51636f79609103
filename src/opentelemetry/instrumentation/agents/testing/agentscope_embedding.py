"""Kept so existing imports work: this module is now `testing.agentscope.embedding`."""

from .agentscope.embedding import *  # noqa: F403
