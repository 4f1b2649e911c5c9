"""A real headless Chromium driven by Selenium: Debian's chromium and chromium-driver (on
GitHub's runners, Google Chrome and the driver in $CHROMEWEBDRIVER). Missing on a laptop, the
test is skipped naming what to install; missing on CI, it fails (prerequisites.missing)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import TypeVar

from selenium import webdriver
from selenium.common.exceptions import (
    NoSuchElementException,
    StaleElementReferenceException,
    WebDriverException,
)
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver

from bootstrap.config import STATE_DIR
from tests.support.prerequisites import missing

T = TypeVar("T")

ARTIFACTS = STATE_DIR / "artifacts"  # screenshots the browser tests keep
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
)


@contextmanager
def chromium(window: str = "1280,2000") -> Iterator[WebDriver]:
    browser = shutil.which("chromium") or shutil.which("google-chrome")
    driver = shutil.which("chromedriver") or shutil.which(
        "chromedriver", path=os.environ.get("CHROMEWEBDRIVER")
    )
    if not (browser and driver):
        missing(
            "a Chromium and its driver on PATH",
            "install Debian's chromium and chromium-driver (.ci/run does), or Google Chrome and chromedriver",
        )
    options = Options()
    options.binary_location = browser
    for flag in (*CHROMIUM_FLAGS, f"--window-size={window}"):
        options.add_argument(flag)
    session = webdriver.Chrome(service=Service(driver), options=options)
    try:
        yield session
    finally:
        session.quit()


class BrowserProcess:
    """A Chromium kept for a worker's browser tests (starting one costs a second or two of CPU),
    handed to each test as a new one would be: a blank page, no cookies. One that no longer
    answers (a test crashed it) is replaced, so a test never meets another's broken browser."""

    def __init__(self, stack: ExitStack) -> None:
        self._stack = stack
        self._session: WebDriver | None = None

    @classmethod
    @contextmanager
    def kept(cls) -> Iterator[BrowserProcess]:
        with ExitStack() as stack:
            yield cls(stack)

    def fresh(self) -> WebDriver:
        if self._session is not None:
            try:
                self._session.get("about:blank")
                self._session.delete_all_cookies()
                return self._session
            except WebDriverException:
                self._session = None  # quit by the stack at the end, whatever state it is in
        self._session = self._stack.enter_context(chromium())
        return self._session


def read_page(read: Callable[[], T]) -> T | None:
    """What `read` finds on the page, or None while the part it reads is being swapped (the
    console's pages refresh their parts themselves) or not read yet (a `?` figure)."""
    try:
        return read()
    except (StaleElementReferenceException, NoSuchElementException, ValueError):
        return None
