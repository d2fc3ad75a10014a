"""Pydantic models shared by core and API: validated inputs and plain outputs."""

from __future__ import annotations

from enum import StrEnum

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,127}$"
Name = Field(min_length=1, max_length=200)


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
        if _has_nul(self.__dict__):
            raise ValueError("strings must not contain NUL (\\x00) characters")
        return self


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return any(_has_nul(v) for v in value)
    if isinstance(value, BaseModel):
        return _has_nul(value.__dict__)
    return False


class PrincipalIn(Input):
    id: str = Field(pattern=ID_PATTERN)
    kind: PrincipalKind
    name: str = Name
    roles: list[Role] = Field(min_length=1, max_length=5)
    agent_id: str | None = Field(default=None, pattern=ID_PATTERN)


class Principal(BaseModel):
    """An authenticated caller."""

    id: str
    kind: str
    name: str
    roles: list[str]
    agent_id: str | None = None
    revoked: bool = False
    created_at: int | None = None

    def has(self, *roles: Role) -> bool:
        """True if the principal holds any of ``roles`` (admin holds all)."""
        return Role.ADMIN in self.roles or any(r in self.roles for r in roles)

    def may_act_as(self, agent_id: str) -> bool:
        """Agents act only as themselves; admins as anyone."""
        return Role.ADMIN in self.roles or (Role.AGENT in self.roles and self.agent_id == agent_id)
