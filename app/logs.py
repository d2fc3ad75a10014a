"""Logging set-up: human-readable text by default, or one JSON object per line
(``BATON_LOG_FORMAT=json``) for log pipelines, carrying trace ids when present."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from app.core import tracecontext

_STD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One line per record: ts, level, logger, msg, plus any ``extra=`` fields."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        ctx = tracecontext.current()
        if ctx is not None:
            out["trace_id"], out["span_id"] = ctx.trace_id, ctx.span_id
        out.update({k: v for k, v in vars(record).items() if k not in _STD and v is not None})
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)


def configure(fmt: str = "text", level: str = "INFO") -> None:
    """Install one handler on the root logger."""
    handler = logging.StreamHandler()
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # one access line per request in JSON mode (text mode keeps the console quiet)
    logging.getLogger("baton.http").setLevel(level if fmt == "json" else "WARNING")
