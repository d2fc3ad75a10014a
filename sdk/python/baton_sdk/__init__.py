"""Baton's Python SDK: :class:`Agent` for workers, :class:`Client` for scripts,
:class:`Transport` for async GraphQL calls of your own. It speaks only Baton's public GraphQL
API and needs neither the server nor its dependencies (``pip install ./sdk/python``; the MCP
server ``baton_sdk.mcp`` needs ``baton-sdk[mcp]``). Errors are :mod:`baton_sdk.errors`."""

from baton_sdk._transport import Transport
from baton_sdk.agent import Agent, ProposalOutcome, Retryable, TaskContext
from baton_sdk.client import Client
from baton_sdk.errors import BatonError, TransportError

__version__ = "0.1.0"

__all__ = [
    "Agent",
    "BatonError",
    "Client",
    "ProposalOutcome",
    "Retryable",
    "TaskContext",
    "Transport",
    "TransportError",
]
