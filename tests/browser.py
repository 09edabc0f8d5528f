"""Headless Chromium for the tests that look at what forumkit makes (the report, Label Studio's screens).

Debian's chromium and chromedriver, which .ci/setup installs; a missing one fails the test with what to do.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest


def headless_chromium(profile: Path, *, width: int = 1280, height: int = 1000):
    """A selenium driver of headless Chromium with its own profile folder, browser console logs kept."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if not (browser and driver_path):
        pytest.fail("chromium and chromedriver must be on PATH: run .ci/setup (as root it installs Debian's "
                    "chromium and chromium-driver with apt-get)", pytrace=False)
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 f"--user-data-dir={profile}", f"--window-size={width},{height}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(driver_path), options=options)
