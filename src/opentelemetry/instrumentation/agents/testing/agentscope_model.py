"""Kept so existing imports work: this module is now `testing.agentscope.model`."""

from .agentscope.model import *  # noqa: F403
