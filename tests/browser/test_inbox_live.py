"""The inbox refreshes live (issue 21, finding 7): a proposal made after /inbox loaded
appears without a reload, through the `inboxUpdates` subscription over graphql-ws, while
what the human typed into another card stays. Debian Chromium, no network but loopback."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.api.test_inbox import human, propose, setup, working
from tests.browser.offline import console_problems, needs_chromium, offline_browser
from tests.conftest import App

pytestmark = needs_chromium

CARD = 'article[data-proposal="{}"]'


def _sign_in(driver: Any, url: str, token: str, first: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(driver, 20)
    driver.get(f"{url}/inbox")
    wait.until(ec.visibility_of_element_located((By.ID, "token"))).send_keys(token)
    driver.find_element(By.ID, "go").click()
    card = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, CARD.format(first))))
    card.find_element(By.CSS_SELECTOR, 'input[aria-label="reason"]').send_keys("half-typed")
    wait.until(lambda d: d.find_element(By.ID, "live").text == "live")
    driver.execute_script("window.loadedOnce = 'still here'")  # gone after any reload


def _appears(driver: Any, pid: str) -> tuple[Any, Any, str]:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    card = WebDriverWait(driver, 20).until(
        ec.presence_of_element_located((By.CSS_SELECTOR, CARD.format(pid)))
    )
    typed = driver.execute_script(
        "return [...document.querySelectorAll('input[aria-label=reason]')].map((i) => i.value)"
    )
    return card.text, driver.execute_script("return window.loadedOnce"), "|".join(typed)


async def test_a_new_proposal_appears_without_reload(api: App) -> None:
    await setup(api)
    w1, t1 = await working(api, "live-1", "sre", priority=20)
    p1 = await propose(w1, "live-1", t1, "rollback", 0.5)
    alice = await human(api, "alice")
    driver = await asyncio.to_thread(offline_browser)
    try:
        await asyncio.to_thread(_sign_in, driver, api.url, alice.token or "", p1["id"])
        w2, t2 = await working(api, "live-2", "sre", priority=80)
        p2 = await propose(w2, "live-2", t2, "rollback", 0.5, rationale="arrived later")
        text, marker, typed = await asyncio.to_thread(_appears, driver, p2["id"])
        assert "arrived later" in text
        assert marker == "still here"  # the same page: no reload
        assert "half-typed" in typed  # the older card kept what the human typed
        assert await asyncio.to_thread(console_problems, driver) == []
    finally:
        await asyncio.to_thread(driver.quit)
