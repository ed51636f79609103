"""Kept so existing imports work: this module is now `testing.agentscope.model_v1`."""

from .agentscope.model_v1 import *  # noqa: F403
