"""The web inbox in a real headless Chromium: sign in with a token, approve one proposal,
reject another, and the graph records both decisions. A screenshot is kept as an artifact."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from tests.api.test_inbox import human, propose, setup, working
from tests.conftest import App

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"  # git-ignored
pytestmark = pytest.mark.skipif(
    shutil.which("chromium") is None or shutil.which("chromedriver") is None,
    reason="Debian chromium + chromium-driver are not installed (make test installs them)",
)


FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1200,1400",
)  # the background-networking flags matter on this closed network


def _browser():  # type: ignore[no-untyped-def]
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium") or ""
    for flag in FLAGS:
        opts.add_argument(flag)
    return webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=opts)


def _drive(url: str, token: str, approve_id: str, reject_id: str, shot: Path) -> list[str]:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    driver = _browser()
    try:
        wait = WebDriverWait(driver, 20)
        driver.get(f"{url}/inbox")
        wait.until(ec.visibility_of_element_located((By.ID, "token"))).send_keys(token)
        driver.find_element(By.ID, "go").click()
        for pid, decision in ((approve_id, "APPROVE"), (reject_id, "REJECT")):
            sel = f'article[data-proposal="{pid}"]'
            card = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, sel)))
            reason = "ship it" if decision == "APPROVE" else "too risky today"
            card.find_element(By.CSS_SELECTOR, 'input[aria-label="reason"]').send_keys(reason)
            if pid == approve_id:
                driver.save_screenshot(str(shot))
            card.find_element(By.CSS_SELECTOR, f'button[data-decision="{decision}"]').click()
            wait.until(ec.staleness_of(card))
        wait.until(ec.presence_of_element_located((By.ID, "empty")))
        return [driver.find_element(By.ID, "status").text]
    finally:
        driver.quit()


async def test_approve_and_reject_in_the_browser(api: App) -> None:
    await setup(api)
    w1, t1 = await working(api, "web-1", "sre", priority=80)
    w2, t2 = await working(api, "web-2", "sre", priority=20)
    p1 = await propose(w1, "web-1", t1, "rollback", 0.5, rationale="error rate 12% after deploy")
    p2 = await propose(w2, "web-2", t2, "rollback", 0.5)
    alice = await human(api, "alice")
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "inbox.png"
    status = await asyncio.to_thread(_drive, api.url, alice.token or "", p1["id"], p2["id"], shot)
    assert "rejected" in status[0]
    assert shot.stat().st_size > 1_000
    rows = await api.store.execute_text(
        "MATCH (p:Proposal)-[d:DECIDED_BY]->(h:Principal) "
        "RETURN p.id AS id, p.status AS status, h.id AS by, p.reason AS reason ORDER BY id"
    )
    got = {r["id"]: (r["status"], r["by"], r["reason"]) for r in rows}
    assert got == {
        p1["id"]: ("approved", "alice", "ship it"),
        p2["id"]: ("rejected", "alice", "too risky today"),
    }
