"""Read a running Backstage's Software Catalog through its REST API, for enterprises whose
catalog lives in Backstage's database (entities registered in the UI, discovered from
GitHub, ingested from LDAP) rather than in files Baton can read.

The API answers with the catalog's final entities, one document each, so each goes through
the file reader's `take` and the whole through its `finish`: the same checks, ids,
relations and domains as `backstage.read`. Location entities are ignored (the catalog has
already read what they point at). A rejected entity is reported where Backstage got it (its
`backstage.io/managed-by-location` annotation), line 0.

Pages come from `GET /api/catalog/entities/by-query` (cursor paging); a Backstage too old
to have it (404) is read with `GET /api/catalog/entities?limit&offset`. A server that keeps
paging (a repeated cursor, more than `MAX_PAGES` pages) is an error, never a hang.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx

from app.connectors.backstage import finish, take
from app.connectors.model import ConnectorError, Snapshot

MAX_PAGES = 10_000
MANAGED_BY = "backstage.io/managed-by-location"


def fetch(
    base_url: str,
    *,
    token: str | None = None,
    page_size: int = 500,
    timeout_s: float = 30.0,
    client: httpx.Client | None = None,
) -> Snapshot:
    """Every entity of the catalog at ``base_url`` (the backend's, e.g.
    `https://backstage.acme.example`; `/api/catalog` is added) as a Snapshot. Raises
    ConnectorError when the catalog cannot be read (refused token, HTTP error, not JSON,
    no connection, timeout, endless paging)."""
    if page_size < 1:
        raise ValueError("page_size must be at least 1")
    base = base_url.rstrip("/")
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    own = client is None
    http = client if client is not None else httpx.Client()
    try:
        snap = Snapshot()
        for index, doc in enumerate(_entities(http, base, headers, page_size, timeout_s)):
            source = _location(doc)
            if (source or base_url) not in snap.files:
                snap.files.append(source or base_url)
            # a Location's targets come back: ignored, the catalog has read them already
            take(snap, doc, source or f"{base_url} item {index}", 0)
        return finish(snap)
    finally:
        if own:
            http.close()


def _entities(
    http: httpx.Client, base: str, headers: dict[str, str], limit: int, timeout_s: float
) -> Iterator[Any]:
    """Every entity the API returns, page by page: by cursor, else (404) by offset."""
    url = f"{base}/api/catalog/entities/by-query"
    cursor: str | None = None
    seen: set[str] = set()
    for _ in range(MAX_PAGES):
        params: dict[str, str | int] = {"limit": limit}
        if cursor is not None:
            params["cursor"] = cursor
        body = _get(http, url, params, headers, timeout_s, missing_ok=cursor is None)
        if body is None:  # no by-query endpoint: an older Backstage
            yield from _by_offset(http, base, headers, limit, timeout_s)
            return
        items = body.get("items") if isinstance(body, dict) else None
        page = (body.get("pageInfo") or {}) if isinstance(body, dict) else None
        if not isinstance(items, list) or not isinstance(page, dict):
            raise ConnectorError(f"{url}: not a catalog page (items, pageInfo)")
        yield from items
        cursor = page.get("nextCursor")
        if not cursor:
            return
        if not isinstance(cursor, str):
            raise ConnectorError(f"{url}: pageInfo.nextCursor {cursor!r} is not a string")
        if cursor in seen:
            raise ConnectorError(f"{url}: the server repeated its cursor {cursor!r}")
        seen.add(cursor)
    raise ConnectorError(f"{url}: more than {MAX_PAGES} pages, stopped")


def _by_offset(
    http: httpx.Client, base: str, headers: dict[str, str], limit: int, timeout_s: float
) -> Iterator[Any]:
    url = f"{base}/api/catalog/entities"
    for n in range(MAX_PAGES):
        items = _get(http, url, {"limit": limit, "offset": n * limit}, headers, timeout_s)
        if not isinstance(items, list):
            raise ConnectorError(f"{url}: not a list of entities")
        yield from items
        if len(items) < limit:
            return
    raise ConnectorError(f"{url}: more than {MAX_PAGES} pages, stopped")


def _get(
    http: httpx.Client,
    url: str,
    params: dict[str, str | int],
    headers: dict[str, str],
    timeout_s: float,
    missing_ok: bool = False,
) -> Any:
    """The JSON body of one GET (None for a 404 when ``missing_ok``)."""
    try:
        resp = http.get(url, params=params, headers=headers, timeout=timeout_s)
    except httpx.TimeoutException as exc:
        raise ConnectorError(f"{url}: no answer within {timeout_s:g}s ({exc!r})") from exc
    except httpx.HTTPError as exc:
        raise ConnectorError(f"{url}: cannot connect: {exc}") from exc
    if resp.status_code in (401, 403):
        hint = "" if "Authorization" in headers else " (no token was given)"
        raise ConnectorError(f"{url}: token refused (HTTP {resp.status_code}){hint}")
    if resp.status_code == 404 and missing_ok:
        return None
    if not resp.is_success:
        raise ConnectorError(f"{url}: HTTP {resp.status_code}: {resp.text[:200]}")
    try:
        return resp.json()
    except ValueError as exc:
        raise ConnectorError(f"{url}: the answer is not JSON ({exc})") from exc


def _location(doc: Any) -> str | None:
    """Where Backstage read the entity from (`url:https://…/catalog-info.yaml`), if it says."""
    meta = doc.get("metadata") if isinstance(doc, dict) else None
    notes = meta.get("annotations") if isinstance(meta, dict) else None
    where = notes.get(MANAGED_BY) if isinstance(notes, dict) else None
    return where if isinstance(where, str) and where else None
