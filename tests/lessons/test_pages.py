"""The lesson pages in a real browser: headless Chromium (the OS package) at 1024 and 1920 px.

Each page (the index, the claims page, every lesson page) is loaded in turn into a frame of exactly the
window's width; a small script checks that nothing overflows horizontally, that every image has loaded,
and that the navigation names every lesson. Chromium is driven by its own command-line flags
(``--headless --dump-dom``), so no browser-automation package is needed. Skipped where Chromium is absent.
"""

import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from lessons import runner

CHROMIUM = next((shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome")
                 if shutil.which(name)), None)
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="needs Chromium (apt-get install chromium); "
                                                              ".ci/run installs it")

# Loads every page into the frame one after the other and writes what it found into <pre id="result">.
DRIVER = """<!DOCTYPE html><html><head><meta charset="utf-8"><style>
html, body { margin: 0; padding: 0; overflow: hidden; }
iframe { position: fixed; left: 0; top: 0; width: WIDTHpx; height: 800px; border: 0; }
</style></head><body><pre id="result">pending</pre><iframe id="frame"></iframe><script>
const pages = PAGES, results = {};
const frame = document.getElementById("frame");
let i = 0;
function next() {
  if (i === pages.length) { document.getElementById("result").textContent = JSON.stringify(results); return; }
  frame.onload = () => {
    const doc = frame.contentDocument, root = doc.documentElement;
    results[pages[i]] = {
      scrollWidth: root.scrollWidth, clientWidth: root.clientWidth,
      wide: [...doc.body.querySelectorAll("*")].filter(e => e.getBoundingClientRect().right > root.clientWidth + 1)
              .slice(0, 5).map(e => e.tagName + "." + e.className),
      images: [...doc.images].map(im => [im.getAttribute("src"), im.complete && im.naturalWidth > 0]),
      nav: [...doc.querySelectorAll("nav a")].map(a => a.textContent),
      navHeight: doc.querySelector("nav") ? doc.querySelector("nav").getBoundingClientRect().height : 0,
    };
    i += 1; next();
  };
  frame.src = pages[i];
}
next();
</script></body></html>"""


def check_pages(folder: Path, pages: list[str], width: int) -> dict:
    driver = folder / f"_browser_check_{width}.html"
    driver.write_text(DRIVER.replace("WIDTH", str(width)).replace("PAGES", json.dumps(pages)), encoding="utf-8")
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--allow-file-access-from-files",
               f"--window-size={width},800", "--virtual-time-budget=60000", "--dump-dom", driver.as_uri()]
    done = subprocess.run(command, capture_output=True, text=True, timeout=240)
    match = re.search(r'<pre id="result">(.*?)</pre>', done.stdout, re.S)
    assert match and match.group(1) != "pending", \
        f"Chromium gave no result:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    return json.loads(html.unescape(match.group(1)))


@needs_chromium
@pytest.mark.parametrize("width", [1024, 1920])
def test_pages_fit_load_their_images_and_list_every_lesson(quick_run, width: int) -> None:
    out, outcomes = quick_run
    lessons = runner.discover()
    pages = ["index.html", "claims.html"] + [f"{les.name}.html" for les in lessons]
    found = check_pages(out, pages, width)
    assert set(found) == set(pages)
    for page, r in found.items():
        assert r["scrollWidth"] <= r["clientWidth"], f"{page} at {width} px overflows: {r['wide']}"
        assert all(ok for _, ok in r["images"]), f"{page}: images not loaded {[s for s, ok in r['images'] if not ok]}"
        assert [les.name for les in lessons] == [t for t in r["nav"] if re.match(r"\d\d_", t)], page
        assert r["navHeight"] < 200, f"{page}: the navigation takes {r['navHeight']} px"
    for les in lessons:  # every figure of a lesson is on its page
        assert len(found[f"{les.name}.html"]["images"]) == len(outcomes[les.name].result.figures)
