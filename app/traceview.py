"""Moved to :mod:`app.observability.trace_render`; kept while ``app/demo`` imports it."""

from app.observability.trace_render import TRACE_QUERY, timeline_html, tree

__all__ = ["TRACE_QUERY", "timeline_html", "tree"]
