"""Headless Chromium (Debian's `chromium`) for looking at a page as a person would: a screenshot, the DOM after
rendering, and every request the page made, with the network off.

Without chromium the tests that need it skip, except under CI (CI=true), where they fail: .ci/run installs it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import pytest

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--host-resolver-rules=MAP * ~NOTFOUND",  # the network off: any host fails to resolve
)
# The browser's own service calls, which it makes whatever page it shows: not the page's requests.
BROWSER_HOSTS = ("google.com", "googleapis.com", "gstatic.com", "gvt1.com")
REQUEST = re.compile(r"NotifyBeforeURLRequest: (\S+)")


def chromium() -> str:
    """The chromium binary; skips the test when there is none, and fails it under CI."""
    found = shutil.which("chromium")
    if found:
        return found
    if os.environ.get("CI") == "true":
        pytest.fail("chromium is missing under CI: .ci/run installs it (apt-get install chromium)")
    pytest.skip("chromium is not installed (apt-get install chromium)")


@dataclass(frozen=True)
class Looked:
    dom: str  # the document after rendering (`--dump-dom`)
    screenshot: Path
    requests: list[str]  # every URL the page asked for (its own file excluded)


def _run(page: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        args = [chromium(), *FLAGS, f"--user-data-dir={profile}", *extra, page.resolve().as_uri()]
        return subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)


def page_requests(log: str, page: Path) -> list[str]:
    own = page.resolve().as_uri()
    found = []
    for url in REQUEST.findall(log):
        host = urlparse(url).hostname or ""
        if url != own and not any(host == known or host.endswith(f".{known}") for known in BROWSER_HOSTS):
            found.append(url)
    return found


def look(page: Path, screenshot: Path, size: tuple[int, int] = (1280, 2200)) -> Looked:
    """Render `page` twice in headless chromium: once for the DOM, once for a screenshot with request logging."""
    dom = _run(page, "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-3000:]
    shot = _run(
        page, f"--screenshot={screenshot}", f"--window-size={size[0]},{size[1]}", "--enable-logging=stderr", "--v=1"
    )
    assert shot.returncode == 0 and screenshot.is_file(), shot.stderr[-3000:]
    return Looked(dom.stdout, screenshot, page_requests(shot.stderr, page))


def colours(png: Path) -> int:
    """How many distinct colours the screenshot has: a blank or failed render has one or two."""
    from PIL import Image

    with Image.open(png) as image:
        return len(image.convert("RGB").getcolors(maxcolors=1 << 20) or [])


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    text: list[str]

    @property
    def content(self) -> str:
        return "".join(self.text).strip()


VOID = {"meta", "br", "img", "input", "link", "hr", "area", "base", "col", "embed", "source", "track", "wbr"}


def elements(dom: str) -> list[Element]:
    """Every element of a document in order, each with its attributes and the text inside it."""
    from html.parser import HTMLParser

    found: list[Element] = []
    open_: list[Element] = []

    class Parser(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            element = Element(tag, {name: value or "" for name, value in attrs}, [])
            found.append(element)
            if tag not in VOID:
                open_.append(element)

        def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            found.append(Element(tag, {name: value or "" for name, value in attrs}, []))

        def handle_endtag(self, tag: str) -> None:
            while open_ and open_.pop().tag != tag:
                pass

        def handle_data(self, data: str) -> None:
            for element in open_:
                element.text.append(data)

    Parser(convert_charrefs=True).feed(dom)
    return found


def by_tag(found: list[Element], tag: str, **attrs: str) -> list[Element]:
    return [e for e in found if e.tag == tag and all(e.attrs.get(k.replace("_", "-")) == v for k, v in attrs.items())]


def rows_of(found: list[Element], table_id: str) -> list[Element]:
    """The <tr data-version> rows after the table with this id (the page's tables hold no nested tables)."""
    start = found.index(by_tag(found, "table", id=table_id)[0])
    return [e for e in found[start:] if e.tag == "tr" and "data-version" in e.attrs and "data-action" not in e.attrs]


def check_common(page: Path, shot: Path) -> list[Element]:
    seen = look(page, shot)
    assert seen.requests == [], f"the page asked the network for {seen.requests}"
    assert colours(shot) > 20, "the screenshot is blank"
    found = elements(seen.dom)
    assert not by_tag(found, "img") and not by_tag(found, "script") and not by_tag(found, "a")
    return found
