"""The shared vocabulary of the models: id patterns, roles, agent and task states, and the
base classes every input derives from (unknown fields refused, strings stripped, no NUL)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from pydantic.alias_generators import to_camel

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:/\-]{0,199}$"  # "/": catalog refs (kind:ns/name)
Name = Field(min_length=1, max_length=200)
# A client's JSON object, kept exactly: inputs strip their string fields, but keys of a
# payload are data ("a" and "a " are two keys, never silently merged into one).
JsonObject = dict[Annotated[str, StringConstraints(strip_whitespace=False)], Any]


class Role(StrEnum):
    """What a principal may do; see ``app/api/authz.py`` for the rule table."""

    ADMIN = "admin"
    OPERATOR = "operator"
    AGENT = "agent"
    AUDITOR = "auditor"
    INTEGRATION = "integration"


class PrincipalKind(StrEnum):
    HUMAN = "human"
    AGENT = "agent"
    SERVICE = "service"


class Input(BaseModel):
    """Base for API inputs: unknown fields are errors, strings are stripped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    @model_validator(mode="after")
    def _no_nul_characters(self) -> Input:
        """NUL cannot cross FalkorDB's text protocol, so refuse it at the door on every backend."""
        if has_nul(self.__dict__):
            raise ValueError("strings must not contain NUL (\\x00) characters")
        return self


class CamelInput(Input):
    """An input whose JSON form is camelCase (policies and budgets are stored that way)."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        frozen=True,
        alias_generator=to_camel,
        populate_by_name=True,
    )


def has_nul(value: Any) -> bool:
    """True if any string in a nested value holds NUL (FalkorDB's protocol cannot carry it)."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return any(has_nul(v) for v in value)
    if isinstance(value, BaseModel):
        return has_nul(value.__dict__)
    return False


Capability = Field(pattern=r"^[a-z][a-z0-9_.:\-]{0,63}$")
TERMINAL = frozenset({"done", "failed", "dead", "cancelled", "merged"})
WORKING = frozenset({"assigned", "running", "awaiting_approval"})


class AgentMode(StrEnum):
    """How an agent gets work: pushed by the routing job (``taskAssigned``, webhook) or only
    what it pulls with ``claimTask``/``claimTasks``."""

    PUSH = "push"
    PULL = "pull"


class AgentKind(StrEnum):
    AI = "ai"
    HUMAN = "human"
    SUPERVISOR = "supervisor"
    SERVICE = "service"
