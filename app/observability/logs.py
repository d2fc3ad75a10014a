"""Logging set-up: human-readable text by default, or one JSON object per line
(``BATON_LOG_FORMAT=json``) for log pipelines, carrying trace ids when present."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from app.observability import tracecontext

_STD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class TraceIdFilter(logging.Filter):
    """Stamps ``trace_id``/``span_id`` on records when they are emitted, so a handler that
    formats later (or in another thread) still has the ids of the request that logged."""

    def filter(self, record: logging.LogRecord) -> bool:
        ids = tracecontext.current_ids()
        if ids is not None and not hasattr(record, "trace_id"):
            record.trace_id, record.span_id = ids
        return True


class JsonFormatter(logging.Formatter):
    """One line per record: ts, level, logger, msg, trace_id/span_id when a trace context is
    current, plus any ``extra=`` fields."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        ids = tracecontext.current_ids()
        if ids is not None:
            out["trace_id"], out["span_id"] = ids
        # extras (and ids stamped when the record was made) win; None never hides an id
        out.update({k: v for k, v in vars(record).items() if k not in _STD and v is not None})
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            out["stack"] = self.formatStack(record.stack_info)
        return json.dumps(out, default=str)


# Libraries that narrate every call at INFO (each scheduler job run, each HTTP request of the
# SDK and MCP clients): quiet unless BATON_LOG_LEVEL=DEBUG asks for everything.
QUIET = ("apscheduler", "httpx", "httpcore", "websockets", "uvicorn.access", "neo4j", "mcp")


def configure(fmt: str = "text", level: str = "INFO") -> None:
    """Install one handler on the root logger; third-party loggers at WARNING."""
    handler = logging.StreamHandler()
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
        handler.addFilter(TraceIdFilter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in QUIET:
        logging.getLogger(name).setLevel("DEBUG" if str(level).upper() == "DEBUG" else "WARNING")
    # one access line per request in JSON mode (text mode keeps the console quiet)
    logging.getLogger("baton.http").setLevel(level if fmt == "json" else "WARNING")
