"""GraphiQL works offline (issue 21, finding 2): in Debian Chromium with no network but
loopback, GET /graphql loads Baton's own GraphiQL (no CDN), the token typed into its box
fills the Authorization header, `{ me { id } }` answers, and a `graphChanges` subscription
over graphql-ws receives one event emitted after it started."""

from __future__ import annotations

import asyncio
import time
from typing import Any
from urllib.parse import quote

import pytest

from tests.browser.offline import (
    console_problems,
    foreign_requests,
    needs_chromium,
    offline_browser,
)
from tests.browser.test_inbox_page import ARTIFACTS
from tests.conftest import ADMIN_TOKEN, App

pytestmark = needs_chromium

ME = "{ me { id } }"
CHANGES = 'subscription { graphChanges(types: ["probe.pinged"], after: %d) { type subject } }'


def _result(driver: Any) -> str:
    from selenium.webdriver.common.by import By

    return str(driver.find_element(By.CSS_SELECTOR, ".result-window").text)


def _open(driver: Any, url: str, query: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get("about:blank")  # a new document, not just a new fragment
    driver.get(f"{url}/graphql#query={quote(query)}")
    WebDriverWait(driver, 30).until(
        ec.element_to_be_clickable((By.CSS_SELECTOR, ".graphiql-execute-button"))
    )


def _sign_in(driver: Any, token: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    box = WebDriverWait(driver, 30).until(ec.visibility_of_element_located((By.ID, "baton-token")))
    box.send_keys(token)
    driver.find_element(By.ID, "baton-use").click()
    WebDriverWait(driver, 10).until(
        lambda d: "token set" in d.find_element(By.ID, "baton-state").text
    )


def _run(driver: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    button = WebDriverWait(driver, 30).until(
        ec.element_to_be_clickable((By.CSS_SELECTOR, ".graphiql-execute-button"))
    )
    button.click()


def _settings(driver: Any) -> None:
    """GraphiQL's dialogs open under the strict policy too (they inject no script)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    driver.find_element(By.CSS_SELECTOR, '[aria-label="Open settings dialog"]').click()
    WebDriverWait(driver, 10).until(
        ec.visibility_of_element_located((By.CSS_SELECTOR, '[role="dialog"]'))
    )


def _wait_text(driver: Any, needle: str, timeout: float = 20) -> str:
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        text = _result(driver)
        if needle in text:
            return text
        time.sleep(0.2)
    raise AssertionError(f"{needle!r} never showed in the result pane: {text!r}")


async def test_graphiql_runs_a_query_and_a_subscription_offline(api: App) -> None:
    me = (await api.admin(ME))["me"]["id"]
    driver = await asyncio.to_thread(offline_browser)
    try:
        # The browser really is offline: another host is unreachable.
        from selenium.common.exceptions import WebDriverException

        with pytest.raises(WebDriverException, match="ERR_PROXY_CONNECTION_FAILED"):
            await asyncio.to_thread(driver.get, "https://unpkg.com/")
        await asyncio.to_thread(console_problems, driver)  # drain that page's log

        await asyncio.to_thread(_open, driver, api.url, ME)
        await asyncio.to_thread(_sign_in, driver, ADMIN_TOKEN)
        # The token box filled the Authorization header GraphiQL sends.
        headers = await asyncio.to_thread(
            lambda: driver.execute_script(
                "return [...document.querySelectorAll('.graphiql-editor-tool .CodeMirror')]"
                ".map((e) => e.CodeMirror.getValue()).join('\\n')"
            )
        )
        assert f"Bearer {ADMIN_TOKEN}" in headers, headers
        await asyncio.to_thread(_run, driver)
        answer = await asyncio.to_thread(_wait_text, driver, f'"id": "{me}"')
        assert '"me"' in answer

        # A subscription over graphql-ws: one event emitted after it started arrives.
        # `after` the current head: an event the hub tails before the subscription is
        # registered (the socket's session watcher counts as a subscriber too) is replayed.
        head = (await api.admin("{ eventHead }"))["eventHead"]
        await asyncio.to_thread(_open, driver, api.url, CHANGES % head)
        hub = api.rt.hub
        assert hub is not None
        before = hub.subscribers
        await asyncio.to_thread(_run, driver)
        for _ in range(300):
            if hub.subscribers > before:
                break
            await asyncio.sleep(0.05)
        assert hub.subscribers > before, "the page never subscribed"
        await api.admin(
            'mutation { emitEvent(type: "probe.pinged", subject: "from-the-test") { seq } }'
        )
        got = await asyncio.to_thread(_wait_text, driver, "from-the-test")
        assert '"type": "probe.pinged"' in got

        await asyncio.to_thread(_settings, driver)
        assert await asyncio.to_thread(foreign_requests, driver, api.url) == []
        assert await asyncio.to_thread(console_problems, driver) == []
    finally:
        ARTIFACTS.mkdir(exist_ok=True)
        await asyncio.to_thread(driver.save_screenshot, str(ARTIFACTS / "graphiql.png"))
        print("browser console:", await asyncio.to_thread(driver.get_log, "browser"))
        await asyncio.to_thread(driver.quit)
