"""The embeddings port (issue 23): the bundled local model loads from site-packages with the
network off and ranks incident-like texts sensibly; the OpenAI-compatible client speaks the
protocol to a real loopback server; the texts facts and entities are embedded as."""

from __future__ import annotations

import json
import logging
import math
import os
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from app.config import Settings
from app.embeddings import (
    Embedder,
    EmbeddingError,
    aembed,
    entity_text,
    fact_text,
    make_embedder,
)
from app.embeddings.local import DIM, MODEL_NAME, LocalEmbedder, package_dir
from app.embeddings.openai import OpenAIEmbedder, endpoint

ROOT = Path(__file__).resolve().parents[2]


def cos(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


@pytest.fixture(scope="module")
def local() -> LocalEmbedder:
    return LocalEmbedder().load()


# --- the local model ------------------------------------------------------------------------


def test_local_model_loads_offline_from_site_packages(tmp_path: Path) -> None:
    """In a fresh interpreter whose every socket connect / DNS lookup raises (an audit hook),
    with the Hugging Face offline switches on, no proxy and an empty HOME (no cache): the model
    loads from the installed wheel, and neither wordllama's own loader nor huggingface_hub is
    imported."""
    script = textwrap.dedent(
        """
        import json, sys
        attempts = []
        def no_network(event, args):
            if event in ("socket.connect", "socket.getaddrinfo", "socket.gethostbyname",
                         "urllib.Request", "http.client.connect"):
                attempts.append(event)
                raise OSError("network disabled in this test: " + event)
        sys.addaudithook(no_network)
        from app.embeddings.local import LocalEmbedder
        e = LocalEmbedder()
        weights, tokenizer = e.files
        vecs = e.embed(["Checkout timeouts: the database connection pool is exhausted"])
        print(json.dumps({
            "dim": len(vecs[0]), "norm": sum(x * x for x in vecs[0]) ** 0.5,
            "weights": str(weights), "tokenizer": str(tokenizer), "attempts": attempts,
            "imported": sorted(m for m in ("wordllama", "huggingface_hub", "requests", "torch")
                               if m in sys.modules),
        }))
        """
    )
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.lower().endswith("_proxy") and not k.startswith(("HF_", "TRANSFORMERS_"))
    }
    env.update(
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        HOME=str(tmp_path),
        XDG_CACHE_HOME=str(tmp_path / "cache"),
        PYTHONPATH=str(ROOT),
    )
    proc = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["dim"] == DIM
    assert math.isclose(out["norm"], 1.0, rel_tol=1e-5)
    assert out["attempts"] == []
    assert out["imported"] == []
    for key in ("weights", "tokenizer"):
        assert "site-packages" in out[key] and Path(out[key]).is_file()
    assert not (tmp_path / "cache").exists() and not (tmp_path / ".cache").exists()


def test_local_vectors_are_unit_length_of_the_documented_dim(local: LocalEmbedder) -> None:
    assert isinstance(local, Embedder)
    assert local.name == MODEL_NAME and local.dim == DIM == 256
    texts = ["a", "Redis failover logged everyone out", "x" * 20_000, "Zahlung fehlgeschlagen 💳"]
    vecs = local.embed(texts)
    assert len(vecs) == len(texts)
    for v in vecs:
        assert len(v) == DIM
        assert math.isclose(math.sqrt(sum(x * x for x in v)), 1.0, rel_tol=1e-5)
    # Deterministic, and independent of the batch it is in.
    assert local.embed([texts[1]])[0] == pytest.approx(vecs[1], abs=1e-6)
    assert local.embed([]) == []


def test_local_refuses_empty_text(local: LocalEmbedder) -> None:
    with pytest.raises(ValueError, match="text 1 is empty"):
        local.embed(["fine", "   "])


def test_local_matches_wordllamas_own_inference(local: LocalEmbedder) -> None:
    """Our loader/pooling computes what the library's ``embed(norm=True)`` does."""
    root = logging.getLogger()
    guard = logging.NullHandler()
    root.addHandler(guard)  # wordllama's import calls logging.basicConfig
    try:
        from safetensors import safe_open
        from tokenizers import Tokenizer
        from wordllama import WordLlamaInference
    finally:
        root.removeHandler(guard)
    weights, tok = local.files
    with safe_open(str(weights), framework="np") as f:
        table = f.get_tensor("embedding.weight")
    ref = WordLlamaInference(table, Tokenizer.from_file(str(tok)))
    texts = ["Payments API down: expired TLS certificate", "Kafka consumer lag on fraud scoring"]
    expected = ref.embed(texts, norm=True)
    for got, want in zip(local.embed(texts), expected.tolist(), strict=True):
        assert got == pytest.approx(want, abs=1e-4)


CASES = [
    # (query, paraphrase of the same root cause, unrelated incidents)
    (
        "Checkout timing out: database connection pool exhausted",
        "Orders failing because Postgres ran out of connections",
        ["Marketing emails going to spam after DNS change", "Broken product images"],
    ),
    (
        "Users logged out after Redis failover lost sessions",
        "Session store replica promoted, customers forced to sign in again",
        ["Invoice totals off by one cent", "Search cluster out of heap memory"],
    ),
    (
        "TLS certificate expired on the payments endpoint",
        "x509 certificate has expired, renewal failed",
        ["Oversold stock in flash sale", "Customers charged twice for one order"],
    ),
    (
        "Customers charged twice for a single order",
        "Duplicate payment captures after a retry",
        ["Kubernetes DNS lookups timing out", "Password reset emails not arriving"],
    ),
]


@pytest.mark.parametrize(("query", "similar", "unrelated"), CASES)
def test_local_similar_incidents_score_higher(
    local: LocalEmbedder, query: str, similar: str, unrelated: list[str]
) -> None:
    q, s, *others = local.embed([query, similar, *unrelated])
    for o in others:
        assert cos(q, s) > cos(q, o) + 0.05, (query, similar)


async def test_aembed_runs_off_the_loop(local: LocalEmbedder) -> None:
    vecs = await aembed(local, ["async embedding"])
    assert len(vecs) == 1 and len(vecs[0]) == DIM


def test_package_dir_is_the_installed_wheel() -> None:
    assert (package_dir() / "weights").is_dir()


# --- the factory ----------------------------------------------------------------------------


def test_make_embedder_per_setting() -> None:
    assert make_embedder(Settings(embedder="off")) is None
    assert isinstance(make_embedder(Settings(embedder="local")), LocalEmbedder)
    with pytest.raises(ValueError, match="BATON_EMBEDDING_URL"):
        make_embedder(Settings(embedder="openai", embedding_model="m", embedding_dim=8))
    with pytest.raises(ValueError, match="BATON_EMBEDDING_MODEL"):
        make_embedder(
            Settings(embedder="openai", embedding_url="http://127.0.0.1:9/v1", embedding_dim=8)
        )
    with pytest.raises(ValueError, match="BATON_EMBEDDING_DIM"):
        Settings(embedder="openai", embedding_url="http://127.0.0.1:9/v1", embedding_model="m")
    e = make_embedder(
        Settings(
            embedder="openai",
            embedding_url="http://127.0.0.1:9/v1",
            embedding_model="text-embedding-3-small",
            embedding_api_key="sk-secret",
            embedding_batch=7,
            embedding_dim=1536,
        )
    )
    assert isinstance(e, OpenAIEmbedder)
    assert (e.url, e.model, e.batch, e.name) == (
        "http://127.0.0.1:9/v1/embeddings",
        "text-embedding-3-small",
        7,
        "openai:text-embedding-3-small",
    )
    assert "sk-secret" not in repr(e)


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BATON_EMBEDDER", "openai")
    monkeypatch.setenv("BATON_EMBEDDING_URL", "https://emb.example/v1")
    monkeypatch.setenv("BATON_EMBEDDING_MODEL", "bge-small")
    monkeypatch.setenv("BATON_EMBEDDING_API_KEY", "sk-abc")
    monkeypatch.setenv("BATON_EMBEDDING_BATCH", "16")
    monkeypatch.setenv("BATON_EMBEDDING_DIM", "384")
    s = Settings()
    assert (s.embedder, s.embedding_url, s.embedding_model, s.embedding_batch) == (
        "openai",
        "https://emb.example/v1",
        "bge-small",
        16,
    )
    assert s.embedding_api_key is not None and s.embedding_api_key.get_secret_value() == "sk-abc"
    assert "sk-abc" not in repr(s)
    monkeypatch.setenv("BATON_EMBEDDING_API_KEY", "")
    assert Settings().embedding_api_key is None
    monkeypatch.setenv("BATON_EMBEDDER", "word2vec")
    with pytest.raises(ValueError):
        Settings()


def test_endpoint_url_forms() -> None:
    assert endpoint("http://h:1/v1") == "http://h:1/v1/embeddings"
    assert endpoint("http://h:1/v1/") == "http://h:1/v1/embeddings"
    assert endpoint("https://h/v1/embeddings") == "https://h/v1/embeddings"
    with pytest.raises(ValueError):
        endpoint("h:1/v1")


# --- the OpenAI-compatible client against a loopback server ---------------------------------


def fake_vector(text: str, dim: int = 8) -> list[float]:
    """Deterministic, deliberately not unit length."""
    return [float((ord(c) * (i + 3)) % 17 + 1) for i, c in enumerate((text * dim)[:dim])]


class Server:
    """A loopback ``/v1/embeddings`` server. ``respond(body) -> (status, headers, payload)``
    decides each answer; every request is recorded."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.respond: Callable[[dict[str, Any]], tuple[int, dict[str, str], bytes]] = self.ok
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                body = json.loads(raw)
                outer.requests.append(
                    {"path": self.path, "headers": dict(self.headers.items()), "body": body}
                )
                status, headers, payload = outer.respond(body)
                try:
                    self.send_response(status)
                    for k, v in {"Content-Type": "application/json", **headers}.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (the timeout test)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    @staticmethod
    def ok(body: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        """OpenAI's answer shape, with ``data`` in *reverse* order (index says where)."""
        data = [
            {"object": "embedding", "index": i, "embedding": fake_vector(t)}
            for i, t in enumerate(body["input"])
        ]
        out = {
            "object": "list",
            "data": data[::-1],
            "model": body["model"],
            "usage": {"prompt_tokens": 1, "total_tokens": 1},
        }
        return 200, {}, json.dumps(out).encode()


@pytest.fixture
def server() -> Iterator[Server]:
    s = Server()
    t = threading.Thread(target=s.httpd.serve_forever, args=(0.05,), daemon=True)
    t.start()
    try:
        yield s
    finally:
        s.httpd.shutdown()
        s.httpd.server_close()
        t.join(5)


def client(server: Server, **kw: Any) -> OpenAIEmbedder:
    kw.setdefault("api_key", "sk-test")
    kw.setdefault("timeout_s", 5.0)
    return OpenAIEmbedder(server.base, "test-embed-small", **kw)


def test_openai_happy_path(server: Server) -> None:
    texts = ["disk full on postgres", "kafka consumer lag", "tls certificate expired"]
    with client(server) as e:
        vecs = e.embed(texts)
        assert e.dim == 8
    assert len(server.requests) == 1
    req = server.requests[0]
    assert req["path"] == "/v1/embeddings"
    assert req["headers"]["Authorization"] == "Bearer sk-test"
    assert req["headers"]["Content-Type"] == "application/json"
    assert req["body"] == {"model": "test-embed-small", "input": texts, "encoding_format": "float"}
    for text, vec in zip(texts, vecs, strict=True):  # back in input order, normalised
        raw = fake_vector(text)
        norm = math.sqrt(sum(x * x for x in raw))
        assert vec == pytest.approx([x / norm for x in raw])


def test_openai_without_key_sends_no_authorization(server: Server) -> None:
    with client(server, api_key=None) as e:
        e.embed(["x"])
    assert "Authorization" not in server.requests[0]["headers"]


def test_openai_batches_keep_input_order(server: Server) -> None:
    texts = [f"incident number {i}: something broke" for i in range(10)]
    with client(server, batch=3) as e:
        vecs = e.embed(texts)
    assert [len(r["body"]["input"]) for r in server.requests] == [3, 3, 3, 1]
    assert [t for r in server.requests for t in r["body"]["input"]] == texts
    with client(server, batch=100) as e:
        assert e.embed(texts) == vecs


def test_openai_learns_dim_with_one_probe_and_checks_it(server: Server) -> None:
    with client(server) as e:
        assert e.dim == 8
        assert len(server.requests) == 1
    with client(server, dim=16) as e, pytest.raises(EmbeddingError, match="expected 16"):
        e.embed(["x"])


def test_openai_401_names_the_key_setting(server: Server) -> None:
    err = {"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}}
    server.respond = lambda body: (401, {}, json.dumps(err).encode())
    with client(server, api_key="sk-wrong") as e, pytest.raises(EmbeddingError) as exc:
        e.embed(["x"])
    msg = str(exc.value)
    assert "HTTP 401" in msg and "Incorrect API key provided" in msg
    assert "BATON_EMBEDDING_API_KEY" in msg and "sk-wrong" not in msg
    assert len(server.requests) == 1  # not retried


def test_openai_500_fails_with_the_servers_message(server: Server) -> None:
    server.respond = lambda body: (500, {"Content-Type": "text/plain"}, b"model worker crashed")
    with client(server) as e, pytest.raises(EmbeddingError, match="HTTP 500: model worker"):
        e.embed(["x"])
    assert len(server.requests) == 1


def test_openai_retries_503_then_succeeds(server: Server) -> None:
    answers = iter([(503, {"Retry-After": "0"}, b'{"error": "loading model"}')])
    server.respond = lambda body: next(answers, None) or Server.ok(body)
    with client(server) as e:
        assert len(e.embed(["x", "y"])) == 2
    assert len(server.requests) == 2


def test_openai_gives_up_after_retries(server: Server) -> None:
    server.respond = lambda body: (429, {"Retry-After": "0"}, b'{"error": {"message": "slow"}}')
    with client(server, retries=2) as e, pytest.raises(EmbeddingError, match="HTTP 429: slow"):
        e.embed(["x"])
    assert len(server.requests) == 3


@pytest.mark.parametrize(
    ("payload", "why"),
    [
        (b"<html>bad gateway</html>", "invalid JSON"),
        (b'{"object": "list"}', "no 'data' list"),
        (b'{"data": [{"index": 0, "embedding": [1.0, 0.0]}]}', "1 embeddings for 2 inputs"),
        (
            b'{"data": [{"index": 0, "embedding": [1.0]}, {"index": 0, "embedding": [1.0]}]}',
            "index 0 appears twice",
        ),
        (
            b'{"data": [{"index": 0, "embedding": [1.0]}, {"index": 5, "embedding": [1.0]}]}',
            "index is 5",
        ),
        (
            b'{"data": [{"index": 0, "embedding": "AAAA"}, {"index": 1, "embedding": [1]}]}',
            "not a list of numbers",
        ),
        (
            b'{"data": [{"index": 0, "embedding": [1, "x"]}, {"index": 1, "embedding": [1, 2]}]}',
            "holds str",
        ),
        (
            b'{"data": [{"index": 0, "embedding": [1, 2]}, {"index": 1, "embedding": [1]}]}',
            "different lengths",
        ),
        (
            b'{"data": [{"index": 0, "embedding": [0, 0]}, {"index": 1, "embedding": [1, 1]}]}',
            "zero or non-finite",
        ),
    ],
)
def test_openai_malformed_responses(server: Server, payload: bytes, why: str) -> None:
    server.respond = lambda body: (200, {}, payload)
    with client(server) as e, pytest.raises(EmbeddingError, match=why):
        e.embed(["a", "b"])


def test_openai_timeout(server: Server) -> None:
    def slow(body: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        time.sleep(1.0)
        return Server.ok(body)

    server.respond = slow
    with client(server, timeout_s=0.2, retries=0) as e, pytest.raises(EmbeddingError) as exc:
        e.embed(["x"])
    assert "timed out" in str(exc.value)


def test_openai_unreachable() -> None:
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    e = OpenAIEmbedder(f"http://127.0.0.1:{port}/v1", "m", retries=1, timeout_s=2)
    with e, pytest.raises(EmbeddingError, match="cannot reach embedding endpoint"):
        e.embed(["x"])


def test_openai_refuses_empty_text(server: Server) -> None:
    with client(server) as e, pytest.raises(ValueError):
        e.embed([""])
    assert server.requests == []


# --- texts ----------------------------------------------------------------------------------


def test_fact_text() -> None:
    assert fact_text("root_cause", "pool exhausted") == "root cause: pool exhausted"
    assert fact_text("incident.rootCause", "x") == "incident root cause: x"
    assert fact_text("sev", 2) == "sev: 2"
    assert fact_text("flag", True) == "flag: true"
    assert fact_text("impact", {"orders": 120, "eur": 5.5}) == 'impact: {"eur": 5.5, "orders": 120}'
    assert fact_text("k", "a\n\n  b") == "k: a b"
    long = fact_text("notes", "word " * 5_000)
    assert len(long) <= 4_000 and not long.endswith(" ")


def test_entity_text() -> None:
    assert entity_text("Checkout") == "Checkout"
    assert entity_text("Checkout", "service") == "Checkout (service)"
    assert (
        entity_text("Checkout", "service", "Takes orders", ["commerce", " tier-1 ", ""])
        == "Checkout (service). Takes orders. Tags: commerce, tier-1."
    )
    assert entity_text("INC-1", "incident", "Disk full!") == "INC-1 (incident). Disk full!"
