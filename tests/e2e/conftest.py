"""A live server on a free port, and Debian's chromium driven by Playwright."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, sync_playwright
from tests.conftest import DemoTemplates

from atmpchain.config import Settings
from atmpchain.db import Database
from atmpchain.web.app import create_app

# Chromium as root in a container, without the background traffic this closed network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def demo_database(tmp_path_factory: pytest.TempPathFactory, demo_templates: DemoTemplates) -> Path:
    """The demo facility seeded once for the browser tests (seeding every capability's demo
    takes half a minute); each test serves its own copy of it."""
    url = demo_templates.copy("sqlite", False, tmp_path_factory.mktemp("e2e-demo"))
    return Path(url.removeprefix("sqlite:///"))


@pytest.fixture
def live_server(tmp_path: Path, demo_database: Path) -> Iterator[str]:
    """The demo facility served by uvicorn on 127.0.0.1, from a fresh copy of the demo data."""
    path = tmp_path / "e2e.db"
    shutil.copyfile(demo_database, path)
    settings = Settings(
        database_url=f"sqlite:///{path}", display_timezone="Europe/Vienna", facility_fin="A9999"
    )
    db = Database(settings.database_url)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, db=db), host="127.0.0.1", port=port, log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline:
            pytest.fail("the test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    db.dispose()


@pytest.fixture
def browser(browser_path: str) -> Iterator[Browser]:
    """Debian's chromium, headless."""
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=browser_path, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser tab with its own cookies."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    yield tab
    context.close()
