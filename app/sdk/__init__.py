"""Deprecated: the SDK is its own distribution now, ``baton-sdk`` (``sdk/python``); import
``baton_sdk`` instead (``from baton_sdk import Agent, Client, TaskContext``). This alias
re-exports its public names and goes away in a later release."""

import warnings

from baton_sdk import *  # noqa: F403
from baton_sdk import __all__ as __all__

warnings.warn(
    "app.sdk is deprecated: import baton_sdk (pip install ./sdk/python)",
    DeprecationWarning,
    stacklevel=2,
)
