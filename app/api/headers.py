"""Security headers on every HTTP response: no framing, no MIME sniffing, no referrer, and a
Content-Security-Policy that fits what the response is.

- The inbox pages (``/inbox``, ``/inbox/lineage``) are our own static files: only their own
  inline script and style run (by SHA-256 hash), they talk to this origin only.
- GraphiQL (``GET /graphql`` in a browser) is our own page: its one script and stylesheet
  (GraphiQL, React and graphql-ws, built by tools/graphiql) come from this origin
  (``/graphiql/``), so it loads offline and its policy allows this origin only: no CDN, no
  inline script. Inline styles stay allowed (GraphiQL's dialogs inject a <style> element).
- Everything else (JSON, metrics) may load nothing at all.
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

from starlette.types import ASGIApp, Message, Receive, Scope, Send

COMMON = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
NONE = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
GRAPHIQL = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "font-src 'self' data:; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'self'"
)
_INLINE = re.compile(r"<(script|style)>(.*?)</\1>", re.S)


def _sha(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def page_policy(static: Path) -> str:
    """The policy for our static pages: their inline scripts and styles by hash."""
    scripts: set[str] = set()
    styles: set[str] = set()
    for page in sorted(static.glob("*.html")):
        for tag, body in _INLINE.findall(page.read_text()):
            (scripts if tag == "script" else styles).add(_sha(body))
    script = " ".join(sorted(scripts)) or "'none'"
    style = " ".join(sorted(styles)) or "'none'"
    return (
        f"default-src 'none'; script-src {script}; style-src {style}; connect-src 'self'; "
        "img-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    )


class SecurityHeaders:
    """Adds the headers unless the response set them itself."""

    def __init__(self, app: ASGIApp, static: Path) -> None:
        self.app = app
        self.pages = page_policy(static).encode()

    def _policy(self, path: str, content_type: bytes) -> bytes:
        html = content_type.startswith(b"text/html")
        if html and (path == "/inbox" or path.startswith("/inbox/")):
            return self.pages
        if html and path.rstrip("/") == "/graphql":
            return GRAPHIQL.encode()
        return NONE.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                ctype = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                extra = [*COMMON, (b"content-security-policy", self._policy(path, ctype))]
                headers += [(k, v) for k, v in extra if k not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)
