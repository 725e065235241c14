"""Real-browser test: the app on the demo in headless Chromium with no outside network.

Starts ``streamlit run app.py`` on a free port, drives Debian's chromium through Selenium and
chromedriver, and checks inside the map iframe (same origin) that Leaflet loaded from the app
itself and that coverage polygons were drawn. Outside hosts resolve to nothing
(``--host-resolver-rules``), as on a government intranet. A screenshot is kept in
``test-artifacts/browser_map.png``.

Chromium missing is a failure, not a skip: CI installs it (see scripts/setup_env.sh).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from maps.layers import WATER_FILL

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_http(url: str, *, timeout: float, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
            pytest.fail(f"streamlit exited with {proc.returncode}:\n{out[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"streamlit did not answer {url} within {timeout:.0f} s")


@pytest.fixture(scope="module")
def app_url() -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.headless",
            "true",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--browser.gatherUsageStats",
            "false",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_http(f"http://127.0.0.1:{port}/_stcore/health", timeout=60, proc=proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def driver() -> Iterator[object]:
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: install Debian's chromium (apt)"
    assert CHROMEDRIVER.exists(), f"{CHROMEDRIVER} is missing: install chromium-driver (apt)"
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="lcc-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
        "--window-size=1400,1000",
        "--lang=zh-CN",
        # No outside network: every host but this machine fails to resolve.
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
    ):
        opts.add_argument(arg)
    drv = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=opts)
    try:
        yield drv
    finally:
        drv.quit()
        shutil.rmtree(profile, ignore_errors=True)


MAP_STATE_JS = """
const WATER = arguments[0];
const frames = Array.from(document.querySelectorAll('iframe'));
const out = {frames: frames.length, maps: []};
for (const f of frames) {
  let d = null;
  try { d = f.contentDocument; } catch (e) { continue; }
  if (!d) continue;
  const w = d.defaultView;
  out.maps.push({
    title: f.title || '',
    leaflet: !!(w && w.L && w.L.version),
    version: (w && w.L && w.L.version) || null,
    paths: d.querySelectorAll('.leaflet-overlay-pane path').length,
    filled: Array.from(d.querySelectorAll('.leaflet-overlay-pane path'))
      .filter(p => !['none', WATER].includes(p.getAttribute('fill') || 'none')).length,
    water: Array.from(d.querySelectorAll('.leaflet-overlay-pane path'))
      .filter(p => p.getAttribute('fill') === WATER).length,
    legend: !!d.querySelector('.leaflet-control') ,
    markers: d.querySelectorAll('.leaflet-marker-pane > *').length,
    scripts: Array.from(d.querySelectorAll('script[src]')).map(s => s.src),
    links: Array.from(d.querySelectorAll('link[href]')).map(s => s.href),
  });
}
return out;
"""


def _map_state(drv: object, *, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    state: dict = {}
    while time.monotonic() < deadline:
        state = drv.execute_script(MAP_STATE_JS, WATER_FILL)  # type: ignore[attr-defined]
        drawn = [m for m in state["maps"] if m["leaflet"] and m["filled"] > 0]
        if drawn:
            return state
        time.sleep(0.5)
    return state


#: Where to look for a free spot of a map, as offsets from its centre in pixels.
_FREE_OFFSETS = [[-60, 120], [0, 150], [-120, 60], [80, 100], [-30, 40], [40, -40]]
_FREE_POINT_JS = """
const f = arguments[0], d = f.contentDocument, r = f.getBoundingClientRect();
for (const [dx, dy] of arguments[1]) {
  const el = d.elementFromPoint(r.width / 2 + dx, r.height / 2 + dy);
  if (el && !el.closest('.leaflet-marker-pane, .leaflet-control, .leaflet-popup-pane'))
    return [dx, dy];
}
return null;
"""


def click_free_map_point(driver: object, frame: object) -> None:
    """Click a point near the map's centre that is not a marker or a map control.

    Clicks on markers open popups instead of reaching the map.
    """
    from selenium.webdriver.common.action_chains import ActionChains

    point = driver.execute_script(_FREE_POINT_JS, frame, _FREE_OFFSETS)  # type: ignore[attr-defined]
    assert point is not None, "no free spot on the map to click"
    ActionChains(driver).move_to_element_with_offset(frame, *point).click().perform()  # type: ignore[arg-type]


def test_coverage_map_renders_offline(app_url: str, driver: object) -> None:
    driver.get(f"{app_url}/coverage")  # type: ignore[attr-defined]
    state = _map_state(driver, timeout=180)
    ARTIFACTS.mkdir(exist_ok=True)
    # Let tiles-free rendering settle, then keep a screenshot for people to look at.
    frame = driver.find_element("css selector", "iframe[title*='st_folium']")  # type: ignore[attr-defined]
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", frame)  # type: ignore[attr-defined]
    time.sleep(1.0)
    driver.save_screenshot(str(ARTIFACTS / "browser_map.png"))  # type: ignore[attr-defined]
    maps = [m for m in state.get("maps", []) if m["leaflet"]]
    assert maps, f"no iframe with Leaflet loaded: {state}"
    m = max(maps, key=lambda m: m["filled"])
    # Filled paths are polygons (service areas, gaps); the street base layer is stroked only.
    assert m["filled"] >= 1, f"no coverage polygon drawn: {m}"
    assert m["water"] >= 1, f"the demo's river is not drawn: {m}"
    assert m["paths"] >= 2, f"street network base layer not drawn: {m}"
    assert m["markers"] > 0, f"no facility markers drawn: {m}"
    external = [
        u for u in m["scripts"] + m["links"] if not u.startswith(app_url) and u.startswith("http")
    ]
    assert not external, f"map assets loaded from outside the app: {external}"
    body = driver.find_element("tag name", "body").text  # type: ignore[attr-defined]
    assert "Traceback" not in body
    assert "覆盖" in body


def test_click_on_the_sites_map_adds_a_trial_site(app_url: str, driver: object) -> None:
    from selenium.webdriver.common.by import By

    driver.get(f"{app_url}/sites")  # type: ignore[attr-defined]
    before = _map_state(driver, timeout=180)
    assert any(m["filled"] for m in before["maps"]), before
    frame = driver.find_element(By.CSS_SELECTOR, "iframe[title*='st_folium']")  # type: ignore[attr-defined]
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", frame)  # type: ignore[attr-defined]
    time.sleep(0.5)
    click_free_map_point(driver, frame)
    deadline = time.monotonic() + 30
    body = ""
    while time.monotonic() < deadline:
        body = driver.find_element(By.TAG_NAME, "body").text  # type: ignore[attr-defined]
        if "试加设施的效果" in body and "清除试加设施" in body:
            break
        time.sleep(0.3)
    driver.save_screenshot(str(ARTIFACTS / "browser_sites.png"))  # type: ignore[attr-defined]
    assert "试加设施的效果" in body, body[-2000:]
    assert "清除试加设施" in body  # the trial controls come with the effect table


PAGE_HEADERS = {"": "数据", "data": "数据", "coverage": "覆盖", "gaps": "缺口", "sites": "选址",
                "evaluation": "评估", "compare": "方案比较", "export": "导出"}  # fmt: skip


def test_every_page_url_opens_its_page_in_the_shell(app_url: str, driver: object) -> None:
    from selenium.webdriver.common.by import By

    for path, header in PAGE_HEADERS.items():
        driver.get(f"{app_url}/{path}")  # type: ignore[attr-defined]
        deadline = time.monotonic() + 60
        heads: list[str] = []
        body = ""
        while time.monotonic() < deadline:
            heads = [h.text for h in driver.find_elements(By.CSS_SELECTOR, "h2")]  # type: ignore[attr-defined]
            body = driver.find_element(By.TAG_NAME, "body").text  # type: ignore[attr-defined]
            if header in heads:
                break
            time.sleep(0.3)
        assert header in heads, (path, heads, body[-1500:])
        assert "Page not found" not in body, path
        # The shell ran around the page: navigation and the language switch are in the sidebar.
        sidebar = driver.find_element(By.CSS_SELECTOR, "[data-testid='stSidebar']").text  # type: ignore[attr-defined]
        assert "覆盖" in sidebar and "导出" in sidebar, (path, sidebar)
        if path == "data":  # the old address forwards to the default page at the root
            assert driver.current_url.rstrip("/") == app_url, driver.current_url  # type: ignore[attr-defined]


# --- a walk through every page in both languages ---------------------------------------------

WALK = ["data", "coverage", "gaps", "sites", "evaluation", "compare", "export"]
WALK_TITLES = {
    "zh": {"data": "数据", "coverage": "覆盖", "gaps": "缺口", "sites": "选址",
           "evaluation": "评估", "compare": "方案比较", "export": "导出"},
    "en": {"data": "Data", "coverage": "Coverage", "gaps": "Gaps", "sites": "Sites",
           "evaluation": "Evaluation", "compare": "Compare", "export": "Export"},
}  # fmt: skip
# Something each page must show besides its title (a KPI, a table, a button).
WALK_TEXT = {
    "zh": {"data": "已载入", "coverage": "人口覆盖率", "gaps": "缺口排序", "sites": "方案名称",
           "evaluation": "千人指标与目标", "compare": "各类别覆盖变化", "export": "生成导出文件"},
    "en": {"data": "Loaded", "coverage": "Population coverage", "gaps": "Ranked gaps",
           "sites": "Scenario name", "evaluation": "Supply per 1000 residents",
           "compare": "Coverage change per category",
           "export": "Prepare the files"},
}  # fmt: skip
MAP_PAGES = {"coverage", "gaps", "sites", "compare"}

# Where the study area, the title, the legend and the layer list sit in the map iframe.
LAYOUT_JS = """
const f = document.querySelector("iframe[title*='st_folium']");
if (!f || !f.contentDocument) return null;
const d = f.contentDocument, box = e => e ? e.getBoundingClientRect() : null;
const outline = Array.from(d.querySelectorAll('.leaflet-overlay-pane path'))
  .find(p => p.getAttribute('stroke-dasharray') === '6 4');
const map = box(d.querySelector('.leaflet-container'));
const r = o => o && {left: o.left, right: o.right, top: o.top, bottom: o.bottom,
                     width: o.width, height: o.height};
return {map: r(map), area: r(box(outline)), title: r(box(d.querySelector('.lcc-title'))),
        legend: r(box(d.querySelector('.lcc-legend'))),
        layers_open: !!d.querySelector('.leaflet-control-layers-expanded'),
        layers: !!d.querySelector('.leaflet-control-layers')};
"""


def _check_layout(drv: object, where: str) -> None:
    deadline = time.monotonic() + 20
    lay = None
    while time.monotonic() < deadline:
        lay = drv.execute_script(LAYOUT_JS)  # type: ignore[attr-defined]
        if lay and lay["area"] and lay["map"]:
            break
        time.sleep(0.3)
    assert lay and lay["area"], (where, lay)
    area, frame = lay["area"], lay["map"]
    # The study area fills the map's height (not a third of it) ...
    assert area["height"] >= 0.6 * frame["height"], (where, lay)
    # ... clear of the title above it and of the legend to its right.
    assert lay["title"]["bottom"] <= area["top"] + 2, (where, lay)
    assert lay["legend"]["left"] >= area["right"] - 2, (where, lay)
    # The layer list is an icon, not an open panel over the district.
    assert lay["layers"] and not lay["layers_open"], (where, lay)


def _wait_text(drv: object, texts: list[str], *, timeout: float) -> str:
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By

    deadline = time.monotonic() + timeout
    body = ""
    while time.monotonic() < deadline:
        try:
            body = drv.find_element(By.TAG_NAME, "body").text  # type: ignore[attr-defined]
            running = drv.find_elements(By.CSS_SELECTOR, "[data-testid='stStatusWidget']")  # type: ignore[attr-defined]
        except StaleElementReferenceException:
            continue
        if all(t in body for t in texts) and not running:
            return body
        time.sleep(0.3)
    return body


def _wait_header(drv: object, title: str, *, timeout: float) -> list[str]:
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By

    deadline = time.monotonic() + timeout
    heads: list[str] = []
    while time.monotonic() < deadline:
        try:
            heads = [h.text for h in drv.find_elements(By.CSS_SELECTOR, "h2")]  # type: ignore[attr-defined]
        except StaleElementReferenceException:
            continue
        if title in heads:
            break
        time.sleep(0.3)
    return heads


def _click_nav(drv: object, page: str) -> None:
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By

    url_path = "home" if page == "data" else page
    for _ in range(20):  # the sidebar is redrawn on reruns: find the link again when stale
        try:
            links = drv.find_elements(By.CSS_SELECTOR, "[data-testid='stSidebarNav'] a")  # type: ignore[attr-defined]
            hrefs = [(a, (a.get_attribute("href") or "").rstrip("/")) for a in links]
            link = next((a for a, h in hrefs if h.endswith(f"/{url_path}")), None)
            if link is None and page == "data":  # the default page is served at the root
                link = links[0]
            assert link is not None, [h for _, h in hrefs]
            link.click()
            return
        except StaleElementReferenceException:
            time.sleep(0.3)
    pytest.fail(f"the sidebar link to {page} stayed stale")


def _click_text(drv: object, text: str, *, within: str = "body", timeout: float = 20) -> None:
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        xpath = f".//*[self::button or self::label or self::p][normalize-space()='{text}']"
        try:
            root = drv.find_element(By.CSS_SELECTOR, within)  # type: ignore[attr-defined]
            found = [e for e in root.find_elements(By.XPATH, xpath) if e.is_displayed()]
            if found:
                drv.execute_script("arguments[0].scrollIntoView({block: 'center'});", found[0])  # type: ignore[attr-defined]
                found[0].click()
                return
        except StaleElementReferenceException:
            pass
        time.sleep(0.3)
    pytest.fail(f"nothing to click with text {text!r}")


def _screenshot(drv: object, name: str, *, map_page: bool) -> None:
    from selenium.webdriver.common.by import By

    ARTIFACTS.mkdir(exist_ok=True)
    frames = drv.find_elements(By.CSS_SELECTOR, "iframe[title*='st_folium']")  # type: ignore[attr-defined]
    if map_page and frames:
        drv.execute_script("arguments[0].scrollIntoView({block: 'end'});", frames[0])  # type: ignore[attr-defined]
        time.sleep(0.6)
    drv.save_screenshot(str(ARTIFACTS / f"walk_{name}.png"))  # type: ignore[attr-defined]


def test_walk_every_page_in_both_languages(app_url: str, driver: object) -> None:
    from selenium.webdriver.common.by import By

    drv = driver
    drv.set_window_size(1400, 1500)  # type: ignore[attr-defined]
    drv.get(app_url)  # type: ignore[attr-defined]
    _wait_header(drv, "数据", timeout=60)
    for lang in ("zh", "en"):
        if lang == "en":
            _click_text(drv, "English", within="[data-testid='stSidebar']")
            _wait_header(drv, "Data", timeout=30)
        for page in WALK:
            _click_nav(drv, page)
            title = WALK_TITLES[lang][page]
            heads = _wait_header(drv, title, timeout=60)
            body = drv.find_element(By.TAG_NAME, "body").text  # type: ignore[attr-defined]
            assert title in heads, (lang, page, heads, body[-1500:])
            if page == "sites" and lang == "zh":
                # A run and a saved scenario, so the result table and the Compare page show.
                _click_text(drv, "计算选址")
                _wait_text(drv, ["把建议点保存为方案"], timeout=90)
                _click_text(drv, "把建议点保存为方案")
                _wait_text(drv, ["已保存"], timeout=30)
            body = _wait_text(drv, [title, WALK_TEXT[lang][page]], timeout=60)
            assert WALK_TEXT[lang][page] in body, (lang, page, body[-2000:])
            assert "Traceback" not in body and "Error" not in body.split("Errors")[0], body
            if page in MAP_PAGES:
                state = _map_state(drv, timeout=150)
                drawn = [m for m in state["maps"] if m["leaflet"] and m["filled"] > 0]
                assert drawn, (lang, page, state)
                assert drawn[0]["markers"] > 0 and drawn[0]["paths"] >= 2, drawn[0]
                _check_layout(drv, f"{lang}/{page}")
            _screenshot(drv, f"{lang}_{page}", map_page=page in MAP_PAGES)
