"""Headless Chromium for the tests that open a page in a real browser.

`chromium()` finds Debian's `chromium` (or another Chromium/Chrome on PATH) and installs the
package with apt-get where it is absent and we may (root, or password-less sudo), as
`scripts/check_prereqs.sh` does; it returns None with the reason when neither works.
"""

import json
import os
import shutil
import subprocess
from pathlib import Path

NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
INSTALL_TIMEOUT_S = 900
RUN_TIMEOUT_S = 120
PROBE = """<pre id="layout-probe"></pre><script>
window.addEventListener("load", () => {
  const plots = {};
  for (const figure of document.querySelectorAll("figure[id]")) {
    const r = figure.getBoundingClientRect();
    const img = figure.querySelector("img");
    plots[figure.id] = {x: r.x + scrollX, y: r.y + scrollY, width: r.width, height: r.height,
                        decoded: img ? img.complete && img.naturalWidth > 0 : false};
  }
  const height = document.documentElement.scrollHeight;
  document.getElementById("layout-probe").textContent = JSON.stringify({height, plots});
});
</script>"""


def find_chromium() -> str | None:
    """The first Chromium or Chrome on PATH."""
    return next((path for path in map(shutil.which, NAMES) if path), None)


def chromium() -> tuple[str | None, str]:
    """The browser's path, installing Debian's `chromium` if needed; else None and why."""
    found = find_chromium()
    if found:
        return found, ""
    if shutil.which("apt-get") is None:
        return None, "no chromium on PATH and no apt-get to install it"
    if os.geteuid() == 0:
        prefix: list[str] = []
    elif shutil.which("sudo") and subprocess.run(["sudo", "-n", "true"]).returncode == 0:
        prefix = ["sudo", "-n"]
    else:
        return None, "no chromium on PATH; installing it needs root or password-less sudo"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium"],
    ):
        done = subprocess.run(
            prefix + command, env=env, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S
        )
        if done.returncode != 0:
            return None, f"no chromium on PATH; {' '.join(command)} failed: {done.stderr[-300:]}"
    found = find_chromium()
    return found, "" if found else "apt-get installed chromium but it is not on PATH"


def _run(browser: str, *args: str) -> subprocess.CompletedProcess:
    # No sandbox: tests may run as root, where Chromium refuses its sandbox. The proxy makes
    # any network request fail, so a page that renders needs no network.
    command = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        "--force-device-scale-factor=1",
        "--virtual-time-budget=10000",
        "--proxy-server=http://127.0.0.1:9",
        *args,
    ]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=True
    )


def layout(browser: str, page: Path, width: int, workdir: Path) -> dict:
    """Where each `<figure id>` of `page` stands once loaded, the page's height, and whether
    each figure's image decoded: read from a copy of the page with a probe script added."""
    probe = workdir / f"probe-{page.name}"
    probe.write_text(page.read_text().replace("</body>", PROBE + "</body>"))
    dom = _run(browser, f"--window-size={width},1000", "--dump-dom", probe.as_uri()).stdout
    start = dom.index('<pre id="layout-probe">') + len('<pre id="layout-probe">')
    return json.loads(dom[start : dom.index("</pre>", start)].replace("&quot;", '"'))


def screenshot(browser: str, page: Path, out: Path, width: int, height: int) -> Path:
    """A PNG of the whole `page` at `width` x `height` CSS pixels."""
    _run(browser, f"--window-size={width},{height}", f"--screenshot={out}", page.as_uri())
    return out
