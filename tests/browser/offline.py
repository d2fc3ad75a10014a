"""Debian Chromium with no network but loopback: every request to another host goes to a
proxy on a closed loopback port and fails, while 127.0.0.1 (where the test app listens) is
reached directly (Chromium never proxies loopback). A page that needs a CDN cannot load."""

from __future__ import annotations

import json
import shutil
from typing import Any

import pytest

from tests.browser.test_inbox_page import FLAGS
from tests.conftest import free_port

needs_chromium = pytest.mark.skipif(
    shutil.which("chromium") is None or shutil.which("chromedriver") is None,
    reason="Debian chromium + chromium-driver are not installed (make test installs them)",
)


def offline_browser() -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium") or ""
    for flag in FLAGS:
        opts.add_argument(flag)
    blackhole = free_port()  # nothing listens there: every proxied request fails at once
    opts.add_argument(f"--proxy-server=http://127.0.0.1:{blackhole}")
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=opts)


def console_problems(driver: Any) -> list[str]:
    """Console errors (a CSP violation, a failed load) the page produced so far; the
    browser's own favicon probe is not the page's."""
    return [
        json.dumps(e)
        for e in driver.get_log("browser")
        if e.get("level") in ("SEVERE", "ERROR") and "/favicon.ico" not in e.get("message", "")
    ]


def foreign_requests(driver: Any, origin: str) -> list[str]:
    """Resources the page tried to load from anywhere but ``origin``."""
    names = driver.execute_script(
        "return performance.getEntriesByType('resource').map((e) => e.name)"
    )
    return [n for n in names if not n.startswith(origin) and not n.startswith("data:")]
