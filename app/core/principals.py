"""Principals and API tokens: random, shown once, stored only as a SHA-256 hash.

Tokens carry 256 bits of randomness, so a fast hash is enough (no password stretching
needed) and lets authentication be one indexed lookup.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from app.core.errors import BadInput, Conflict, NotFound
from app.core.events import dumps
from app.graph import ConstraintViolation, GraphStore
from app.graph.queries import q
from app.models import Principal, PrincipalIn, Role

CREATE = q("principals/create")
BY_TOKEN = q("principals/by_token")
GET = q("principals/get")
LIST = q("principals/list")
REVOKE = q("principals/revoke")
ROTATE = q("principals/rotate")
SET_ROLES = q("principals/set_roles")
ENSURE_ADMIN = q("principals/ensure_admin")
TOKEN_PREFIX = "bt_"


def new_token() -> str:
    """A fresh bearer token."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What the graph stores instead of the token."""
    return hashlib.sha256(token.encode()).hexdigest()


def _principal(row: dict[str, Any]) -> Principal:
    return Principal(
        id=row["id"],
        kind=row["kind"],
        name=row.get("name") or row["id"],
        roles=list(row.get("roles") or []),
        agent_id=row.get("agentId"),
        revoked=bool(row.get("revoked") or False),
        created_at=row.get("createdAt"),
        expires_at=row.get("expiresAt"),
    )


SESSION_ENDING = ("principal.revoked", "principal.token_rotated", "principal.roles_changed")
"""Events that end every open session (WebSocket) of their subject principal."""


def expiry(now: int, expires_at: int | None, ttl_seconds: int | None) -> int | None:
    """A token's expiry (epoch ms) from an absolute time or a TTL; BAD_INPUT if in the past."""
    if expires_at is not None and ttl_seconds is not None:
        raise BadInput("give expiresAt or ttlSeconds, not both", field="ttlSeconds")
    if ttl_seconds is not None:
        if not 1 <= ttl_seconds <= 10 * 365 * 86_400:
            raise BadInput("ttlSeconds must be between 1 and 10 years", field="ttlSeconds")
        return now + ttl_seconds * 1000
    if expires_at is not None and expires_at <= now:
        raise BadInput("expiresAt must be in the future", field="expiresAt")
    return expires_at


async def authenticate(store: GraphStore, token: str, *, now: int) -> Principal | None:
    """The principal for a bearer token, or None (unknown, malformed, revoked or expired)."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    rows = await store.read(BY_TOKEN, tokenHash=token_hash(token), now=now)
    return _principal(rows[0]) if rows else None


async def create(
    store: GraphStore, data: PrincipalIn, *, actor: str, now: int, expires_at: int | None = None
) -> tuple[Principal, str]:
    """Create a principal and return it with its token (the only time the token is seen)."""
    if data.kind == "agent" and data.agent_id is None:
        raise BadInput("an agent principal needs agentId", field="agentId")
    if data.agent_id == "baton":
        raise BadInput("agent id 'baton' is reserved for the workflow engine", field="agentId")
    token = new_token()
    try:
        rows = await store.write(
            CREATE,
            id=data.id,
            kind=data.kind.value,
            name=data.name,
            roles=[r.value for r in data.roles],
            agentId=data.agent_id,
            team=data.team,
            tokenHash=token_hash(token),
            expiresAt=expires_at,
            now=now,
            actor=actor,
            payload=dumps(
                {
                    "roles": [r.value for r in data.roles],
                    "kind": data.kind.value,
                    "agentId": data.agent_id,
                    "team": data.team,
                    "expiresAt": expires_at,
                }
            ),
        )
    except ConstraintViolation as exc:
        raise Conflict(f"principal {data.id!r} already exists", id=data.id) from exc
    if not rows:
        raise NotFound(f"team {data.team!r} does not exist", field="team")
    return _principal(rows[0]), token


async def get(store: GraphStore, principal_id: str) -> Principal:
    """One principal by id."""
    rows = await store.read(GET, id=principal_id)
    if not rows:
        raise NotFound(f"principal {principal_id!r} not found", id=principal_id)
    return _principal(rows[0])


async def page(store: GraphStore, after: str, limit: int) -> list[Principal]:
    """Principals ordered by id after a cursor."""
    return [_principal(r) for r in await store.read(LIST, after=after, limit=limit)]


async def revoke(store: GraphStore, principal_id: str, *, actor: str, now: int) -> None:
    """Revoke a principal's token; revoking twice is a CONFLICT, an unknown id NOT_FOUND."""
    rows = await store.write(REVOKE, id=principal_id, actor=actor, now=now)
    if not rows:
        await get(store, principal_id)
        raise Conflict(f"principal {principal_id!r} is already revoked", id=principal_id)


async def rotate(
    store: GraphStore, principal_id: str, *, actor: str, now: int, expires_at: int | None = None
) -> str:
    """Issue a new token for a principal; sessions opened with the old one end."""
    token = new_token()
    rows = await store.write(
        ROTATE,
        id=principal_id,
        tokenHash=token_hash(token),
        actor=actor,
        now=now,
        expiresAt=expires_at,
    )
    if not rows:
        raise NotFound(f"principal {principal_id!r} not found", id=principal_id)
    return token


async def set_roles(
    store: GraphStore, principal_id: str, roles: list[Role], *, actor: str, now: int
) -> bool:
    """Replace a principal's roles (an imported catalog user has none); True if they
    changed. An admin cannot take admin away from itself (no one could give it back)."""
    wanted = sorted({r.value for r in roles})
    if not wanted:
        raise BadInput("a principal needs at least one role (revoke its token instead)")
    if principal_id == actor and Role.ADMIN.value not in wanted:
        raise BadInput("an admin cannot drop its own admin role", field="roles")
    rows = await store.write(
        SET_ROLES,
        id=principal_id,
        roles=wanted,
        actor=actor,
        now=now,
        payload=dumps({"principalId": principal_id, "roles": wanted, "before": None}),
    )
    if not rows:
        raise NotFound(f"principal {principal_id!r} not found", id=principal_id)
    return bool(rows[0]["changed"])


async def ensure_admin(store: GraphStore, *, token: str | None, now: int) -> str | None:
    """Create the admin principal on first start. Returns the token to print once, or None.

    With ``BATON_ADMIN_TOKEN`` set, that token is (re)assigned to the admin on every start.
    """
    minted = token or new_token()
    rows = await store.write(ENSURE_ADMIN, tokenHash=token_hash(minted), now=now)
    created = bool(rows and rows[0]["created"])
    if token is not None and not created and (await authenticate(store, token, now=now)) is None:
        await store.write(
            ROTATE, id="admin", tokenHash=token_hash(token), actor="system", now=now, expiresAt=None
        )
    return minted if created else None
