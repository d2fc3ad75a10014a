"""JSON log lines: fields, trace ids from the current context, extras, exceptions."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from app.observability import logs
from app.observability import tracecontext as tc

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
SPAN = "00f067aa0ba902b7"


@pytest.fixture
def json_log() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logs.JsonFormatter())
    handler.addFilter(logs.TraceIdFilter())
    logger = logging.getLogger("baton.test.json")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, out
    logger.removeHandler(handler)


def lines(out: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_a_line_outside_any_trace_has_no_trace_fields(
    json_log: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, out = json_log
    logger.warning("disk %s%% full", 91, extra={"disk": "/data"})
    (line,) = lines(out)
    assert line["msg"] == "disk 91% full" and line["level"] == "warning"
    assert line["logger"] == "baton.test.json" and line["disk"] == "/data"
    assert line["ts"].endswith("Z") and "T" in line["ts"]
    assert "trace_id" not in line and "span_id" not in line


def test_lines_carry_the_current_trace_and_span_ids(
    json_log: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, out = json_log
    with tc.use(tc.TraceContext(TRACE, SPAN)):
        logger.info("claimed", extra={"taskId": "t1"})
    (line,) = lines(out)
    assert (line["trace_id"], line["span_id"], line["taskId"]) == (TRACE, SPAN, "t1")


def test_ids_stamped_when_logged_survive_later_formatting() -> None:
    """A handler that formats later (a queue) still reports the logging request's ids."""
    record = logging.makeLogRecord({"name": "baton.x", "msg": "later", "levelname": "INFO"})
    with tc.use(tc.TraceContext(TRACE, SPAN)):
        assert logs.TraceIdFilter().filter(record)
    line = json.loads(logs.JsonFormatter().format(record))  # formatted outside the context
    assert (line["trace_id"], line["span_id"]) == (TRACE, SPAN)


def test_exceptions_are_one_field(json_log: tuple[logging.Logger, io.StringIO]) -> None:
    logger, out = json_log
    try:
        raise ValueError("boom")
    except ValueError:
        logger.exception("failed")
    (line,) = lines(out)
    assert line["level"] == "error" and "ValueError: boom" in line["exc"]
    assert len(out.getvalue().splitlines()) == 1  # the traceback stays inside the JSON line


def test_configure_json_installs_the_formatter_and_the_access_logger() -> None:
    root = logging.getLogger()
    saved, level = root.handlers[:], root.level
    try:
        logs.configure("json", "INFO")
        (handler,) = root.handlers
        assert isinstance(handler.formatter, logs.JsonFormatter)
        assert logging.getLogger("baton.http").isEnabledFor(logging.INFO)
        logs.configure("text", "INFO")
        assert not logging.getLogger("baton.http").isEnabledFor(logging.INFO)
    finally:
        root.handlers[:] = saved
        root.setLevel(level)
        logging.getLogger("baton.http").setLevel(logging.NOTSET)
