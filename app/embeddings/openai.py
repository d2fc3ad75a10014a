"""An OpenAI-compatible ``/v1/embeddings`` client (OpenAI, Azure-style gateways, vLLM, TEI,
Ollama, LiteLLM, llama.cpp server, ...).

Request: ``POST <url>`` (``<url>/embeddings`` when the URL does not end in ``/embeddings``, so
``https://api.openai.com/v1`` works) with ``{"model", "input": [texts], "encoding_format":
"float"}`` and ``Authorization: Bearer <key>`` when a key is set; texts go in batches of
``batch``. Response: ``{"data": [{"index": i, "embedding": [...]}, ...]}``; vectors are put
back in input order by ``index`` (servers may answer out of order), checked (one per input,
same length, finite) and L2-normalised (not every server normalises).

429 and 502/503/504 answers and connection failures are retried (``retries`` times, backoff
honouring ``Retry-After`` up to 10 s); anything else fails at once with an
:class:`EmbeddingError` naming the status and the server's own message. The key never appears
in errors or ``repr``.
"""

from __future__ import annotations

import json
import math
import time
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from app.embeddings.base import EmbeddingError, check_texts, l2_normalised

RETRY_STATUS = frozenset({429, 502, 503, 504})
MAX_RETRY_AFTER_S = 10.0


def endpoint(url: str) -> str:
    """The embeddings URL for a base URL (``…/v1``) or a full one (``…/v1/embeddings``)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"embedding URL must be http(s)://host/...: {url!r}")
    path = parts.path.rstrip("/")
    if not path.endswith("/embeddings"):
        path += "/embeddings"
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


def _server_message(resp: httpx.Response) -> str:
    """The server's error text, short: OpenAI's ``{"error": {"message"}}`` or the body."""
    try:
        body = resp.json()
    except ValueError:
        text = resp.text.strip()
    else:
        err = body.get("error") if isinstance(body, dict) else None
        if isinstance(err, dict) and isinstance(err.get("message"), str):
            text = err["message"]
        elif isinstance(err, str):
            text = err
        else:
            text = json.dumps(body)[:300]
    return text[:300] or resp.reason_phrase


class OpenAIEmbedder:
    """Embeddings from an OpenAI-compatible server. ``dim`` is the configured one, else
    learnt from the first answer (asking the server once for a one-word text)."""

    def __init__(
        self,
        url: str,
        model: str,
        api_key: str | None = None,
        *,
        batch: int = 64,
        timeout_s: float = 30.0,
        retries: int = 2,
        dim: int | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not model:
            raise ValueError("an embedding model name is required (BATON_EMBEDDING_MODEL)")
        if batch < 1:
            raise ValueError("embedding batch must be at least 1")
        self.url = endpoint(url)
        self.model = model
        self.batch = batch
        self.retries = max(0, retries)
        self._dim = dim
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self._client = httpx.Client(
            headers=headers,
            timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 10.0)),
            transport=transport,
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"OpenAIEmbedder(url={self.url!r}, model={self.model!r}, batch={self.batch})"

    @property
    def name(self) -> str:
        return f"openai:{self.model}"

    @property
    def dim(self) -> int:
        if self._dim is None:
            self.embed(["dimension"])
        assert self._dim is not None
        return self._dim

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> OpenAIEmbedder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def embed(self, texts: list[str]) -> list[list[float]]:
        check_texts(texts)
        out: list[list[float]] = []
        for i in range(0, len(texts), self.batch):
            out.extend(self._embed_batch(texts[i : i + self.batch]))
        return out

    def _embed_batch(self, texts: list[str]) -> list[list[float]]:
        payload = {"model": self.model, "input": texts, "encoding_format": "float"}
        resp = self._post(payload)
        try:
            body = resp.json()
        except ValueError as e:
            raise EmbeddingError(
                f"embedding endpoint {self.url} answered with invalid JSON "
                f"(HTTP {resp.status_code}): {resp.text[:200]!r}"
            ) from e
        return self._vectors(body, len(texts))

    def _post(self, payload: dict[str, Any]) -> httpx.Response:
        attempt = 0
        while True:
            try:
                resp = self._client.post(self.url, json=payload)
            except httpx.TimeoutException as e:
                if attempt >= self.retries:
                    raise EmbeddingError(
                        f"embedding endpoint {self.url} timed out ({type(e).__name__}) "
                        f"after {attempt + 1} attempt(s)"
                    ) from e
                delay = self._backoff(attempt, None)
            except httpx.TransportError as e:
                if attempt >= self.retries:
                    raise EmbeddingError(
                        f"cannot reach embedding endpoint {self.url}: {e or type(e).__name__}"
                    ) from e
                delay = self._backoff(attempt, None)
            else:
                if resp.is_success:
                    return resp
                if resp.status_code not in RETRY_STATUS or attempt >= self.retries:
                    raise self._http_error(resp)
                delay = self._backoff(attempt, resp.headers.get("Retry-After"))
            attempt += 1
            time.sleep(delay)

    @staticmethod
    def _backoff(attempt: int, retry_after: str | None) -> float:
        if retry_after:
            try:
                return min(max(float(retry_after), 0.0), MAX_RETRY_AFTER_S)
            except ValueError:
                pass
        return float(min(0.25 * 2**attempt, MAX_RETRY_AFTER_S))

    def _http_error(self, resp: httpx.Response) -> EmbeddingError:
        status = resp.status_code
        msg = _server_message(resp)
        if status in (401, 403):
            return EmbeddingError(
                f"embedding endpoint {self.url} refused the credentials (HTTP {status}: {msg}); "
                "check BATON_EMBEDDING_API_KEY"
            )
        if status == 404:
            return EmbeddingError(
                f"embedding endpoint {self.url} not found or model {self.model!r} unknown "
                f"(HTTP 404: {msg}); check BATON_EMBEDDING_URL / BATON_EMBEDDING_MODEL"
            )
        return EmbeddingError(f"embedding endpoint {self.url} failed: HTTP {status}: {msg}")

    def _vectors(self, body: object, n: int) -> list[list[float]]:
        def bad(why: str) -> EmbeddingError:
            return EmbeddingError(f"malformed embeddings response from {self.url}: {why}")

        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list):
            raise bad("no 'data' list")
        if len(data) != n:
            raise bad(f"{len(data)} embeddings for {n} inputs")
        slots: list[list[float] | None] = [None] * n
        for pos, item in enumerate(data):
            if not isinstance(item, dict):
                raise bad(f"data[{pos}] is not an object")
            index = item.get("index", pos)
            if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < n:
                raise bad(f"data[{pos}].index is {index!r}")
            if slots[index] is not None:
                raise bad(f"index {index} appears twice")
            vec = item.get("embedding")
            if not isinstance(vec, list) or not vec:
                raise bad(f"data[{pos}].embedding is not a list of numbers")
            floats: list[float] = []
            for x in vec:
                if isinstance(x, bool) or not isinstance(x, int | float):
                    raise bad(f"data[{pos}].embedding holds {type(x).__name__}")
                f = float(x)
                if not math.isfinite(f):
                    raise bad(f"data[{pos}].embedding holds a non-finite number")
                floats.append(f)
            slots[index] = floats
        vectors = [v for v in slots if v is not None]
        dims = {len(v) for v in vectors}
        if len(dims) != 1:
            raise bad(f"vectors of different lengths {sorted(dims)}")
        dim = dims.pop()
        if self._dim is None:
            self._dim = dim
        elif dim != self._dim:
            raise bad(f"vectors have {dim} dimensions, expected {self._dim}")
        try:
            return [l2_normalised(v) for v in vectors]
        except EmbeddingError as e:
            raise bad(str(e)) from e
