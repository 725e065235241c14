"""Real browser: a click on the Coverage map answers "what can I reach from here?" with routes.

Reuses the app server and headless Chromium of tests/test_browser.py (same marker, same offline
setup); see that module for the requirements.
"""

from __future__ import annotations

import time

import pytest
from test_browser import (  # noqa: F401 (fixtures)
    ARTIFACTS,
    _map_state,
    app_url,
    click_free_map_point,
    driver,
)

pytestmark = pytest.mark.browser


def test_click_on_the_coverage_map_shows_the_nearest_facilities(
    app_url: str,  # noqa: F811
    driver: object,  # noqa: F811
) -> None:
    from selenium.webdriver.common.by import By

    ARTIFACTS.mkdir(exist_ok=True)
    driver.get(f"{app_url}/coverage")  # type: ignore[attr-defined]
    before = _map_state(driver, timeout=150)
    assert any(m["filled"] for m in before["maps"]), before
    body = driver.find_element(By.TAG_NAME, "body").text  # type: ignore[attr-defined]
    assert "在上方地图上点击任意位置" in body  # the hint until a point is clicked
    frame = driver.find_element(By.CSS_SELECTOR, "iframe[title*='st_folium']")  # type: ignore[attr-defined]
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", frame)  # type: ignore[attr-defined]
    time.sleep(0.5)
    click_free_map_point(driver, frame)
    deadline = time.monotonic() + 45
    while time.monotonic() < deadline:
        body = driver.find_element(By.TAG_NAME, "body").text  # type: ignore[attr-defined]
        if "查询点：" in body and "清除查询点" in body:
            break
        time.sleep(0.3)
    assert "查询点：" in body, body[-2000:]
    # The map is drawn again with the routes (SVG paths with green or red strokes).
    strokes: list = []
    deadline = time.monotonic() + 45
    while time.monotonic() < deadline:
        frames = driver.find_elements(By.CSS_SELECTOR, "iframe[title*='st_folium']")  # type: ignore[attr-defined]
        strokes = []
        for frame in frames:
            strokes += driver.execute_script(  # type: ignore[attr-defined]
                "const d = arguments[0].contentDocument;"
                "return d ? Array.from(d.querySelectorAll('path'))"
                ".map(p => p.getAttribute('stroke')) : [];",
                frame,
            )
        if {"#1a9850", "#d73027"} & set(strokes):
            break
        time.sleep(0.5)
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", frames[0])  # type: ignore[attr-defined]
    driver.save_screenshot(str(ARTIFACTS / "browser_point_query.png"))  # type: ignore[attr-defined]
    assert {"#1a9850", "#d73027"} & set(strokes), sorted({str(s) for s in strokes})[:20]


DRAW_STATE_JS = """
const out = [];
for (const f of document.querySelectorAll("iframe[title*='st_folium']")) {
  const d = f.contentDocument, w = d && d.defaultView;
  if (!w || !w.L) continue;
  const button = d.querySelector('.leaflet-draw-draw-polyline');
  const style = button ? w.getComputedStyle(button).backgroundImage : '';
  out.push({
    control: !!(w.L.Control && w.L.Control.Draw),
    button: button ? button.getAttribute('title') : null,
    others: d.querySelectorAll('.leaflet-draw-draw-polygon, .leaflet-draw-draw-marker').length,
    sprite: style,
    scripts: Array.from(d.scripts).map(s => s.src).filter(Boolean),
    links: Array.from(d.querySelectorAll('link[rel=stylesheet]')).map(l => l.href),
  });
}
return out;
"""

SPRITE_LOADED_JS = """
const done = arguments[arguments.length - 1];
const img = new Image();
img.onload = () => done(img.naturalWidth);
img.onerror = () => done(0);
img.src = arguments[0];
"""


def test_the_draw_toolbar_loads_offline_and_a_drawn_line_reaches_the_form(
    app_url: str,  # noqa: F811
    driver: object,  # noqa: F811
) -> None:
    import re

    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    ARTIFACTS.mkdir(exist_ok=True)
    driver.get(f"{app_url}/coverage")  # type: ignore[attr-defined]
    before = _map_state(driver, timeout=150)
    assert any(m["filled"] for m in before["maps"]), before
    state: list = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        state = driver.execute_script(DRAW_STATE_JS)  # type: ignore[attr-defined]
        if state and state[0]["button"]:
            break
        time.sleep(0.3)
    assert state and state[0]["control"], state
    tool = state[0]
    # Polyline only, its tooltip in the page language, every file from the app itself.
    assert tool["button"] == "画线（新增连接或封闭道路）", tool
    assert tool["others"] == 0, tool
    assert any(u.endswith("/vendor/leaflet.draw/leaflet.draw.js") for u in tool["scripts"]), tool
    assert any(u.endswith("/vendor/leaflet.draw/leaflet.draw.css") for u in tool["links"]), tool
    outside = [u for u in tool["scripts"] + tool["links"] if not u.startswith(app_url)]
    assert not outside, outside
    sprite = re.search(r'url\("?([^")]+)"?\)', tool["sprite"])
    assert sprite and sprite.group(1).startswith(app_url), tool["sprite"]
    assert driver.execute_async_script(SPRITE_LOADED_JS, sprite.group(1)) > 0  # type: ignore[attr-defined]

    # Draw a three-point line: the toolbar button, two clicks, then the last point again.
    frame = driver.find_element(By.CSS_SELECTOR, "iframe[title*='st_folium']")  # type: ignore[attr-defined]
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", frame)  # type: ignore[attr-defined]
    time.sleep(0.5)
    driver.switch_to.frame(frame)  # type: ignore[attr-defined]
    driver.find_element(By.CSS_SELECTOR, ".leaflet-draw-draw-polyline").click()  # type: ignore[attr-defined]
    driver.switch_to.default_content()  # type: ignore[attr-defined]
    time.sleep(0.3)
    for dx, dy in ([-80, 60], [0, 90], [80, 60], [80, 60]):
        ActionChains(driver).move_to_element_with_offset(frame, dx, dy).click().perform()
        time.sleep(0.4)
    body = ""
    deadline = time.monotonic() + 45
    while time.monotonic() < deadline:
        body = driver.find_element(By.TAG_NAME, "body").text  # type: ignore[attr-defined]
        if "已取用地图上画的线" in body:
            break
        time.sleep(0.3)
    driver.save_screenshot(str(ARTIFACTS / "browser_draw.png"))  # type: ignore[attr-defined]
    assert "已取用地图上画的线（3 个点）" in body, body[-2000:]
    # Drawing is not a click on the map: no point query was made on the way.
    assert "查询点：" not in body
    area = driver.find_element(By.CSS_SELECTOR, "textarea")  # type: ignore[attr-defined]
    lines = [s for s in area.get_attribute("value").splitlines() if s.strip()]
    assert len(lines) == 3 and all(re.fullmatch(r"1\d\d\.\d{6},\d\d\.\d{6}", s) for s in lines)


#: Position of the median-minutes metric among the Coverage page's KPI metrics.
MEDIAN = 3

TO_PIXELS_JS = """
const f = arguments[0], w = f.contentWindow;
const map = Object.values(w).find(v => v instanceof w.L.Map);
const pts = arguments[1];
// Zoomed in, a pixel is about a metre: the line can be drawn along the street.
map.setView([(pts[0][1] + pts[1][1]) / 2, (pts[0][0] + pts[1][0]) / 2], 17, {animate: false});
const r = f.getBoundingClientRect(), c = map.getContainer().getBoundingClientRect();
return pts.map(([lon, lat]) => {
  const p = map.latLngToContainerPoint([lat, lon]);
  return [Math.round(c.left + p.x - r.width / 2), Math.round(c.top + p.y - r.height / 2)];
});
"""


def test_closing_a_bridge_drawn_in_the_browser_updates_coverage_quickly(
    app_url: str,  # noqa: F811
    driver: object,  # noqa: F811
) -> None:
    """Draw along a bridge, choose 封闭道路, apply: the KPIs follow (timed; goal 2 s)."""
    import numpy as np
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    from study.demo import load_demo

    demo = load_demo("synthetic")
    edges = demo.network.edges_gdf(to_crs="EPSG:4326")
    bridge = np.asarray(demo.network.edge_attrs["bridge"]).astype(bool)
    line = list(edges.geometry[bridge].iloc[3].coords)
    driver.get(f"{app_url}/coverage")  # type: ignore[attr-defined]
    _map_state(driver, timeout=150)
    metric = "[data-testid='stMetricValue']"
    # The first category's median walk (elderly canteens south of the river use this bridge).
    before = driver.find_elements(By.CSS_SELECTOR, metric)[MEDIAN].text  # type: ignore[attr-defined]
    frame = driver.find_element(By.CSS_SELECTOR, "iframe[title*='st_folium']")  # type: ignore[attr-defined]
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", frame)  # type: ignore[attr-defined]
    time.sleep(0.5)
    ends = [line[0], line[-1]]
    pixels = driver.execute_script(TO_PIXELS_JS, frame, ends)  # type: ignore[attr-defined]
    driver.switch_to.frame(frame)  # type: ignore[attr-defined]
    driver.find_element(By.CSS_SELECTOR, ".leaflet-draw-draw-polyline").click()  # type: ignore[attr-defined]
    driver.switch_to.default_content()  # type: ignore[attr-defined]
    for dx, dy in [*pixels, pixels[-1]]:
        ActionChains(driver).move_to_element_with_offset(frame, dx, dy).click().perform()
        time.sleep(0.4)
    deadline = time.monotonic() + 45
    while time.monotonic() < deadline:
        body = driver.find_element(By.TAG_NAME, "body").text  # type: ignore[attr-defined]
        if "已取用地图上画的线" in body:
            break
        time.sleep(0.3)
    driver.find_element(By.XPATH, "//label[.//*[text()='封闭道路']]").click()  # type: ignore[attr-defined]
    time.sleep(1.5)
    # The closing tolerance takes the drawing's slack (a pixel or two, the bridge's slight bend).
    tol = driver.find_element(
        By.XPATH,
        "//*[contains(text(), '封闭容差')]/ancestor::div[@data-testid='stNumberInput']//input",
    )  # type: ignore[attr-defined]
    tol.send_keys("\b\b\b\b\b\b15\n")
    time.sleep(1.5)
    button = driver.find_element(By.XPATH, "//button[.//*[text()='应用到路网']]")  # type: ignore[attr-defined]
    start = time.monotonic()
    button.click()
    after = before
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        body = driver.find_element(By.TAG_NAME, "body").text  # type: ignore[attr-defined]
        after = driver.find_elements(By.CSS_SELECTOR, metric)[MEDIAN].text  # type: ignore[attr-defined]
        if "当前路网假设" in body and after != before:
            break
        time.sleep(0.1)
    seconds = time.monotonic() - start
    driver.save_screenshot(str(ARTIFACTS / "browser_draw_close.png"))  # type: ignore[attr-defined]
    print(f"browser: apply a drawn closure -> KPI updated in {seconds:.2f} s")
    assert "当前路网假设" in body, body[-2000:]
    assert float(after) > float(before), (before, after)
    assert seconds < 10.0, seconds
