"""Python SDK: :class:`Agent` for workers, :class:`Client` for scripts (public API only)."""

from app.sdk.agent import Agent, ProposalOutcome, Retryable, TaskContext
from app.sdk.client import Client

__all__ = ["Agent", "Client", "ProposalOutcome", "Retryable", "TaskContext"]
