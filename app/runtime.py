"""The per-process runtime: settings, the graph store, the event hub and the clock.

The wiring above core: the API, the scheduler and the CLI each build one, and it is where the
process environment reaches the observability set-up (OpenTelemetry's ``OTEL_*``); nothing in
it is state that a restart would lose (the graph holds all of that).
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from app.config import Settings
from app.core import principals, traces, webhooks
from app.core.clock import Clock
from app.core.event_hub import EventHub
from app.core.events import bootstrap
from app.core.fact_feed import FactFeed
from app.core.tasks import Backoff
from app.embeddings import Embedder, make_embedder
from app.graph import GraphStore, migrations, open_store
from app.graph.supervisor import Supervisor
from app.observability import otel

log = logging.getLogger("baton")


@dataclass
class Runtime:
    """Shared handles for one app process."""

    settings: Settings
    store: GraphStore
    clock: Clock = field(default_factory=Clock)
    hub: EventHub | None = None
    admin_token: str | None = None  # set only on the very first start (printed once)
    nudges: list[Callable[[str], None]] = field(default_factory=list)  # "run job X now"
    otel: otel.Exporter | None = None  # OpenTelemetry export, when OTEL_* asks for it
    dispatcher: webhooks.Dispatcher | None = None  # outbound webhooks (made by their job)
    supervisor: Supervisor | None = None  # restarts the embedded graph server if it dies
    lease_lock: asyncio.Lock = field(default_factory=asyncio.Lock)  # one lease renewal at once
    embedder: Embedder | None = None  # turns text into vectors (None: BATON_EMBEDDER=off)
    fact_feed: FactFeed = field(init=False)  # contextUpdates: one read per delivered fact

    def __post_init__(self) -> None:
        self.fact_feed = FactFeed(self.store)

    def now(self) -> int:
        return self.clock.now()

    @property
    def backoff(self) -> Backoff:
        """Retry delays from settings."""
        return Backoff(self.settings.retry_base_ms, self.settings.retry_max_ms)

    def nudge(self, job: str = "route") -> None:
        """New work arrived: wake the scheduler job that handles it (if it runs here)."""
        for fn in self.nudges:
            fn(job)

    def wake(self, jobs: Iterable[str]) -> None:
        """Wake the jobs core decided a change needs (:mod:`app.core.wakeups`)."""
        for job in jobs:
            self.nudge(job)


def admin_token_path(settings: Settings) -> Path:
    """Where the first-start admin token is kept (``baton admin-token`` prints it)."""
    return Path(settings.data_dir) / "admin-token"


def save_admin_token(settings: Settings, token: str) -> Path | None:
    """Keep a freshly minted admin token in a 0600 file in the data dir (a 0700 dir), so
    whatever process started first (``serve``, ``seed``) never loses it."""
    path = admin_token_path(settings)
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(token + "\n")
        os.chmod(path, 0o600)
    except OSError as exc:
        log.warning("could not write the admin token to %s: %s", path, exc)
        return None
    return path


async def prepare_graph(store: GraphStore) -> None:
    """Idempotent start-up: schema, model version (migrations), the event counter and the
    run-id secret."""
    await store.apply_schema()
    await migrations.migrate(store, now=int(time.time() * 1000))
    await bootstrap(store)


async def open_runtime(settings: Settings, clock: Clock | None = None, hub: bool = True) -> Runtime:
    """Connect (starting the embedded graph if configured), prepare the graph, mint the admin."""
    traces.set_enabled(settings.tracing)
    store = open_store(settings)
    supervisor: Supervisor | None = None
    try:
        await prepare_graph(store)
        rt = Runtime(settings, store, clock or Clock())
        rt.embedder = make_embedder(settings)  # the local model loads on first use
        rt.admin_token = await principals.ensure_admin(
            store, token=settings.admin_token, now=rt.now()
        )
        if rt.admin_token and not settings.admin_token:
            save_admin_token(settings, rt.admin_token)
        server = getattr(store, "embedded", None)
        if server is not None:
            rt.supervisor = supervisor = Supervisor(server, lambda: prepare_graph(store))
            supervisor.start()
        rt.otel = otel.configure_from_env(os.environ)
        if rt.otel is not None:
            otel.install(rt.otel)  # otel.export_spans() goes to this runtime's exporter
        if hub:
            rt.hub = EventHub(
                store,
                settings.event_poll_ms,
                max_per_owner=settings.ws_max_subscriptions,
                replay_page=settings.replay_page,
                replay_concurrency=settings.replay_concurrency,
            )
            await rt.hub.start()
    except BaseException:
        if supervisor is not None:
            await supervisor.stop()
        await store.close()
        raise
    return rt


async def close_runtime(rt: Runtime) -> None:
    """Stop the hub and close the store (stopping an embedded server this process owns)."""
    if rt.supervisor is not None:
        await rt.supervisor.stop()  # first: it would restart the server the store stops
    if rt.dispatcher:
        await rt.dispatcher.close()
    if rt.hub:
        await rt.hub.stop()
    if rt.otel is not None:
        if otel.active() is rt.otel:
            otel.install(None)
        rt.otel.flush()
        rt.otel.shutdown()
    await rt.store.close()
