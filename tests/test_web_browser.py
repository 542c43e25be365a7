"""End to end in a real browser: ``rostersync serve`` as a subprocess, Debian's Chromium driven
headless by Playwright (the system browser through ``executable_path``: nothing is downloaded).

An operator opens the dashboard, opens a held run, approves it and sees the roster change and the
run become ok; discards another and sees nothing change; a POST without the CSRF token is refused;
with a password set, signs in first. Every page is photographed into the test's tmp dir, and into
``$ROSTERSYNC_SCREENSHOTS`` when set (``ROSTERSYNC_SCREENSHOTS=docs/screenshots ./scripts/test -k
browser`` refreshes the README's pictures). Without Chromium the tests skip, except in CI
(``CI=true``), where they fail: scripts/test installs chromium when it can.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import roster_snapshot, rostersync_exe
from rostersync.cli import main
from web_helpers import held_district

CHROMIUM = os.environ.get("ROSTERSYNC_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
# as root in a container; no network but loopback: no background connections, updates or sync
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    missing = None
    if not Path(CHROMIUM).exists():
        missing = f"Chromium not found at {CHROMIUM} (apt-get install chromium, or set ROSTERSYNC_CHROMIUM)"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing = "playwright is not installed (pip install -e '.[test]')"
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(missing)
        pytest.skip(missing)
    with sync_playwright() as playwright:
        # Playwright launches with a new, empty profile (its own temporary --user-data-dir) every time
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1360, "height": 860})
    try:
        yield context.new_page()
    finally:
        context.close()


class Shots:
    """Screenshots of whole pages, into the test's tmp dir and ``$ROSTERSYNC_SCREENSHOTS`` if set."""

    def __init__(self, folder: Path) -> None:
        self.folders = [folder]
        extra = os.environ.get("ROSTERSYNC_SCREENSHOTS")
        if extra:
            self.folders.append(Path(extra) if Path(extra).is_absolute() else REPO / extra)
        for f in self.folders:
            f.mkdir(parents=True, exist_ok=True)

    def __call__(self, page: Any, name: str) -> None:
        first = self.folders[0] / f"{name}.png"
        page.screenshot(path=str(first), full_page=True)
        for folder in self.folders[1:]:
            shutil.copyfile(first, folder / first.name)


@pytest.fixture
def shots(tmp_path: Path) -> Shots:
    return Shots(tmp_path / "screenshots")


@pytest.fixture
def serve(project: Path) -> Iterator[Any]:
    """Start ``rostersync serve`` on a free port for the project; yield its base URL (stopped after)."""
    procs: list[subprocess.Popen[str]] = []

    def start(*args: str) -> str:
        proc = subprocess.Popen([rostersync_exe(), "serve", "--port", "0", *args], cwd=project, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=os.environ.copy())
        procs.append(proc)
        line = proc.stdout.readline() if proc.stdout else ""
        match = re.search(r"http://127\.0\.0\.1:\d+/", line)
        assert match, f"serve did not start: {line}{proc.stderr.read() if proc.poll() is not None else ''}"
        return match[0].rstrip("/")

    yield start
    for proc in procs:
        proc.send_signal(signal.SIGINT)  # uvicorn shuts down gracefully on Ctrl-C
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        assert proc.returncode in (0, -signal.SIGINT), proc.stderr.read() if proc.stderr else ""


def row(page: Any, school: str) -> Any:
    return page.locator("table.dashboard tbody tr", has_text=school)


def test_an_operator_approves_one_held_run_and_discards_another(cli, bundle, project: Path, page: Any,  # type: ignore[no-untyped-def]
                                                               serve: Any, shots: Shots) -> None:
    district = held_district(cli, bundle)
    lincoln, roosevelt = district["held"]["lincoln"], district["held"]["roosevelt"]
    gone_from_lincoln = sorted(s for s in district["dropped"] if s.startswith("le-"))[0]
    gone_from_roosevelt = sorted(s for s in district["dropped"] if not s.startswith("le-"))[0]
    base = serve()

    page.goto(base + "/")
    rows = page.locator("table.dashboard tbody tr")
    assert rows.count() == 2 and "held" in rows.nth(0).inner_text() and "held" in rows.nth(1).inner_text()
    assert "384" in row(page, "Lincoln").inner_text()  # users in the roster
    shots(page, "dashboard")

    # the student the held run would delete is still in the roster
    page.click("text=People")
    page.fill("input[name=q]", gone_from_lincoln)
    page.click("button:has-text('Search')")
    assert "live" in page.locator("table.grid tbody tr").first.inner_text()
    shots(page, "people")
    page.locator("table.grid tbody tr a").first.click()
    assert page.locator("h1 .badge").count() == 0  # not deleted
    shots(page, "person")

    page.click("header >> text=Holds")
    assert page.locator("article.hold").count() == 2
    shots(page, "holds")

    page.goto(base + "/")
    row(page, "Lincoln").locator("a:has-text('review')").click()
    assert page.url.endswith(f"/runs/{lincoln}")
    assert "would delete 45 of 384 rows" in page.inner_text("p.reason")
    shots(page, "run-held")
    page.click(f"button:has-text('Approve run {lincoln}')")
    page.wait_for_url(f"**/runs/{lincoln}")
    assert f"Approved run {lincoln}" in page.inner_text("p.flash")
    assert page.inner_text("h1 .badge") == "ok"
    assert "approve" in page.inner_text("section:has(h2:has-text('Decisions'))")
    shots(page, "run-approved")

    # the roster changed: the student is deleted, the school has 45 fewer users, the source is ok
    page.goto(f"{base}/person?school=lincoln&source=csv-folder&id={gone_from_lincoln}")
    assert page.inner_text("h1 .badge") == "deleted"
    page.goto(base + "/")
    assert "ok" in row(page, "Lincoln").inner_text() and "339" in row(page, "Lincoln").inner_text()

    # a POST without the CSRF token is refused, even with the operator's own session cookie
    before = roster_snapshot(project / "rostersync.db")
    refused = page.context.request.post(f"{base}/runs/{roosevelt}/approve", form={"go": "approve"})
    assert refused.status == 403
    forged = page.context.request.post(f"{base}/runs/{roosevelt}/approve", form={"csrf_token": "guess"})
    assert forged.status == 403
    page.goto(f"{base}/runs/{roosevelt}")
    assert page.inner_text("h1 .badge") == "held"

    # discard the other: nothing changes
    page.goto(base + "/holds")
    page.click(f"button:has-text('Discard run {roosevelt}')")
    page.wait_for_url(f"**/runs/{roosevelt}")
    assert "the roster was not changed" in page.inner_text("p.flash")
    assert page.inner_text("h1 .badge") == "discarded"
    assert roster_snapshot(project / "rostersync.db") == before
    page.goto(f"{base}/person?school=roosevelt&source=csv-folder&id={gone_from_roosevelt}")
    assert page.locator("h1 .badge").count() == 0
    page.goto(base + "/holds")
    assert "No held runs." in page.inner_text("main")

    assert cli("enable", "roosevelt", "oneroster-api", "--set", "base_url=https://sis.maple.example/ims/oneroster/v1p1",
               "--set", "token_url=https://sis.maple.example/oauth/token", "--set", "client_id=rostersync",
               "--set", "client_secret=env:MAPLE_SIS_SECRET", "--schedule", "30 5 * * 1-5").exit_code == 0
    page.goto(base + "/connectors")
    assert "env:MAPLE_SIS_SECRET" in page.inner_text("main")  # the reference, never a value
    shots(page, "connectors")
    page.goto(f"{base}/runs/{lincoln}?entity=users&action=delete")
    assert page.locator("tr.act-delete").count() == 45
    page.goto(f"{base}/runs/1?entity=users")
    shots(page, "run-changes")


def test_with_a_password_the_operator_signs_in_first(cli, bundle, project: Path, page: Any, serve: Any,  # type: ignore[no-untyped-def]
                                                     shots: Shots) -> None:
    held_district(cli, bundle)
    made = CliRunner().invoke(main, ["serve", "--set-password", "--user", "ana"],
                              input="a long pass phrase\na long pass phrase\n")
    assert made.exit_code == 0, made.output
    base = serve()
    page.goto(base + "/holds")
    assert "/login" in page.url
    shots(page, "login")
    page.fill("input[name=user]", "ana")
    page.fill("input[name=password]", "not the password")
    page.click("button:has-text('Sign in')")
    assert "Wrong user name or password" in page.inner_text("main")
    page.fill("input[name=user]", "ana")
    page.fill("input[name=password]", "a long pass phrase")
    page.click("button:has-text('Sign in')")
    page.wait_for_url("**/holds")
    assert page.locator("article.hold").count() == 2 and "ana" in page.inner_text("header")
    page.click("button:has-text('Sign out')")
    page.wait_for_url("**/login")


def test_serve_binds_loopback_by_default(project: Path, cli, serve: Any) -> None:  # type: ignore[no-untyped-def]
    """Without a password the server listens on 127.0.0.1 only, and refuses other bindings."""
    assert cli("init").exit_code == 0
    assert serve().startswith("http://127.0.0.1:")
    result = subprocess.run([rostersync_exe(), "serve", "--host", "::", "--port", "0"], cwd=project,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "without a password" in result.stderr
    assert sys.executable  # the same interpreter ran both
