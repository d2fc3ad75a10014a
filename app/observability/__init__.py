"""Observability beside the layers: the Prometheus registry (``metrics``), OpenTelemetry
export (``otel``), W3C trace context (``tracecontext``), logging (``logs``) and the trace and
``whyDid`` renderings (``trace_render``, ``why_render``). It imports nothing else from
``app``, so every layer may record through it."""
