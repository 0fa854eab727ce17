"""Headless Chromium from the distribution's packages, driven by its chromedriver (selenium), for the
viewer's browser tests and its load-time benchmark. Nothing is downloaded: without
``apt-get install chromium chromium-driver`` (and ``pip install selenium``) it says what is missing.
"""

from __future__ import annotations

import shutil
from typing import Any


class BrowserMissing(RuntimeError):
    """Selenium, Chromium or chromedriver is not installed (the message says which)."""


def chromium(width: int = 1400, height: int = 1000) -> Any:
    """A headless Chromium ``selenium.webdriver.Chrome``; raise :class:`BrowserMissing` when absent."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        raise BrowserMissing("selenium is not installed (pip install selenium)") from None
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not binary or not driver:
        raise BrowserMissing("Chromium or chromedriver is missing (apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                f"--window-size={width},{height}"):
        options.add_argument(arg)
    return webdriver.Chrome(service=Service(driver), options=options)


def wait_for(browser: Any, script: str, timeout: float = 30) -> Any:
    """Poll ``script`` (JavaScript returning a value) until it is truthy; return that value."""
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, timeout, poll_frequency=0.02).until(lambda b: b.execute_script(script))
