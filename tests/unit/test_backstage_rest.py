"""Reading a Backstage catalog through its REST API, against a real loopback server that
answers like Backstage's catalog backend: the entities of tests/fixtures/backstage (each
annotated with the location it came from, Locations included, as the API returns them),
a bearer token required, pages by cursor (`/entities/by-query`) or, on an older Backstage,
by offset (`/entities`). The REST snapshot must be the file reader's, less what only files
can produce (a Location outside the catalog, unreadable YAML); a refused token, a broken
server or a server that pages forever must end in a ConnectorError, never a hang."""

from __future__ import annotations

import base64
import copy
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import yaml

from app.connectors import backstage, backstage_rest
from app.connectors.model import ConnectorError, Rejected, Snapshot

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "backstage"
TOKEN = "bs-token-1"
REPO = "url:https://git.acme.example/catalog/blob/main/"


def served_entities() -> list[dict[str, Any]]:
    """The fixture catalog's documents as Backstage serves them: namespace filled in, the
    managed-by-location annotation added; unreadable YAML never reaches the catalog."""
    out = []
    for path in sorted(FIXTURES.rglob("*.yaml")):
        docs: list[Any] = []
        try:
            docs.extend(yaml.safe_load_all(path.read_text()))
        except yaml.YAMLError:
            pass  # broken.yaml: the documents before the bad one count
        for n, doc in enumerate(docs):
            doc = copy.deepcopy(doc)
            meta = doc["metadata"]
            meta.setdefault("namespace", "default")
            meta["uid"] = f"{path.stem}-{n}"
            meta.setdefault("annotations", {})[backstage_rest.MANAGED_BY] = REPO + str(
                path.relative_to(FIXTURES)
            )
            doc["relations"] = []  # Backstage's own, computed: not what Baton reads
            out.append(doc)
    return out


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


class Catalog:
    """A loopback Backstage catalog API. ``mode``: "ok", "loop" (nextCursor never changes),
    "endless" (a new cursor every page), "500", "notjson", "slow"."""

    def __init__(self, entities: list[Any], *, by_query: bool = True, mode: str = "ok") -> None:
        self.entities, self.by_query, self.mode = entities, by_query, mode
        self.paths: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                url = urlsplit(self.path)
                outer.paths.append(self.path)
                q = {k: v[0] for k, v in parse_qs(url.query).items()}
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    return self.reply(401, {"error": {"name": "AuthenticationError"}})
                if outer.mode == "500":
                    return self.reply(500, {"error": {"name": "DatabaseError"}})
                if outer.mode == "notjson":
                    return self.reply(200, b"<html>sign in</html>")
                if outer.mode == "slow":
                    time.sleep(1)
                limit = int(q.get("limit", "20"))
                if url.path == "/api/catalog/entities/by-query" and outer.by_query:
                    start = (
                        json.loads(base64.urlsafe_b64decode(q["cursor"]))["offset"]
                        if "cursor" in q
                        else 0
                    )
                    end = start + limit
                    page = {
                        "items": outer.entities[start:end],
                        "totalItems": len(outer.entities),
                        "pageInfo": {},
                    }
                    if outer.mode == "loop":
                        page["pageInfo"] = {"nextCursor": _cursor(0)}
                    elif end < len(outer.entities) or outer.mode == "endless":
                        page["pageInfo"] = {"nextCursor": _cursor(end)}
                    return self.reply(200, page)
                if url.path == "/api/catalog/entities":
                    start = int(q.get("offset", "0"))
                    return self.reply(200, outer.entities[start : start + limit])
                return self.reply(404, {"error": {"name": "NotFoundError"}})

            def reply(self, status: int, body: object) -> None:
                raw = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                try:
                    self.end_headers()
                    self.wfile.write(raw)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # "slow": the client gave up waiting

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> Catalog:
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def catalog() -> Iterator[Catalog]:
    with Catalog(served_entities()) as server:
        yield server


def kept(snap: Snapshot) -> dict[str, tuple[object, ...]]:
    """What the graph keeps of each record (the digest) and its parts, by id."""
    return {
        i: (r.digest(), r.kind, r.title, sorted(r.relations), r.members, r.domain)
        for i, r in snap.records.items()
    }


def as_served(items: list[Rejected]) -> list[tuple[str, str]]:
    """A file snapshot's reports as the API reports them: where Backstage read it, no line."""
    return sorted((REPO + r.file, r.reason) for r in items)


def test_the_api_gives_the_file_readers_catalog(catalog: Catalog) -> None:
    files = backstage.read(FIXTURES / "catalog-info.yaml")
    snap = backstage_rest.fetch(catalog.url, token=TOKEN)
    assert kept(snap) == kept(files) and len(snap.records) == 17
    assert snap.domains == files.domains == {"payments": "payments", "commerce": "commerce"}
    assert snap.records["group:default/payments-team"].members == [
        "user:default/alice",
        "user:default/bob",
    ]
    api = snap.records["component:default/payments-api"]
    assert (api.file, api.line) == (REPO + "systems/payments.yaml", 0)
    # the same refusals, less the two only files can produce
    only_files = [r for r in files.rejected if "outside" in r.reason or "YAML" in r.reason]
    assert len(only_files) == 2
    assert sorted((r.file, r.reason) for r in snap.rejected) == as_served(
        [r for r in files.rejected if r not in only_files]
    )
    assert all(r.line == 0 for r in snap.rejected)
    assert [(s.file, s.reason) for s in snap.skipped] == as_served(files.skipped)
    assert snap.files[0] == REPO + "broken.yaml" and len(snap.files) == 6
    assert catalog.paths == ["/api/catalog/entities/by-query?limit=500"]  # one page


def test_small_pages_follow_the_cursor_to_the_same_catalog(catalog: Catalog) -> None:
    whole = backstage_rest.fetch(catalog.url, token=TOKEN)
    catalog.paths.clear()
    with httpx.Client() as client:
        paged = backstage_rest.fetch(catalog.url + "/", token=TOKEN, page_size=4, client=client)
        assert not client.is_closed  # the caller's client stays the caller's
    assert kept(paged) == kept(whole) and paged.rejected == whole.rejected
    assert len(catalog.paths) == 6  # 22 entities, 4 a page
    assert all("cursor=" in p for p in catalog.paths[1:])


@pytest.mark.parametrize("page_size", [4, 11])  # 11: the last full page is followed by none
def test_an_older_backstage_is_read_by_offset(page_size: int) -> None:
    with Catalog(served_entities(), by_query=False) as server:
        snap = backstage_rest.fetch(server.url, token=TOKEN, page_size=page_size)
        offsets = [p for p in server.paths if "/by-query" not in p]
    assert kept(snap) == kept(backstage.read(FIXTURES / "catalog-info.yaml"))
    last = 22 // page_size * page_size  # 22 entities
    assert offsets[-1] == f"/api/catalog/entities?limit={page_size}&offset={last}"


def test_a_refused_token_is_an_error_that_says_so(catalog: Catalog) -> None:
    with pytest.raises(ConnectorError, match=r"token refused \(HTTP 401\)$"):
        backstage_rest.fetch(catalog.url, token="stale")
    with pytest.raises(ConnectorError, match="token refused.*no token was given"):
        backstage_rest.fetch(catalog.url)


def test_an_invalid_entity_is_rejected_where_it_came_from_and_the_rest_kept() -> None:
    orphan = {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Component",
        "metadata": {
            "name": "orphan",
            "namespace": "default",
            "annotations": {backstage_rest.MANAGED_BY: REPO + "teams/orphan.yaml"},
        },
        "spec": {"type": "service", "lifecycle": "production"},
    }
    unsourced = copy.deepcopy(orphan)
    unsourced["metadata"] = {"name": "unsourced"}
    entities = [orphan, *served_entities(), unsourced, "not an entity"]
    with Catalog(entities) as server:
        snap = backstage_rest.fetch(server.url, token=TOKEN, page_size=5)
    assert kept(snap) == kept(backstage.read(FIXTURES / "catalog-info.yaml"))
    reasons = {(r.file, r.line): r.reason for r in snap.rejected}
    assert reasons[(REPO + "teams/orphan.yaml", 0)] == "component orphan has no spec.owner"
    assert reasons[(f"{server.url} item 23", 0)] == "component unsourced has no spec.owner"
    assert "not a catalog entity" in reasons[(f"{server.url} item 24", 0)]


def test_a_cursor_that_comes_back_is_an_error_not_a_hang() -> None:
    with (
        Catalog(served_entities(), mode="loop") as server,
        pytest.raises(ConnectorError, match="repeated its cursor"),
    ):
        backstage_rest.fetch(server.url, token=TOKEN, page_size=4)
    assert len(server.paths) == 2  # the second page gave the first one's cursor again


def test_endless_pages_stop_at_the_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backstage_rest, "MAX_PAGES", 20)
    with (
        Catalog(served_entities(), mode="endless") as server,
        pytest.raises(ConnectorError, match="more than 20 pages"),
    ):
        backstage_rest.fetch(server.url, token=TOKEN, page_size=4)
    assert len(server.paths) == 20


@pytest.mark.parametrize(
    ("mode", "message"),
    [("500", r"HTTP 500: \{"), ("notjson", "not JSON"), ("slow", "no answer within 0.2s")],
)
def test_a_broken_server_is_an_error(mode: str, message: str) -> None:
    with (
        Catalog(served_entities(), mode=mode) as server,
        pytest.raises(ConnectorError, match=message),
    ):
        backstage_rest.fetch(server.url, token=TOKEN, timeout_s=0.2)


def test_no_server_is_an_error() -> None:
    with Catalog([]) as server:
        url = server.url  # a port nobody listens on once the server is gone
    with pytest.raises(ConnectorError, match="cannot connect"):
        backstage_rest.fetch(url, token=TOKEN, timeout_s=2)
