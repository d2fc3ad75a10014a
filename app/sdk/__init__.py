"""Python SDK for agent workers (public GraphQL API only)."""

from app.sdk.agent import Agent, Retryable, TaskContext

__all__ = ["Agent", "Retryable", "TaskContext"]
