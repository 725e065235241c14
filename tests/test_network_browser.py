"""Real browser: a click on the Coverage map answers "what can I reach from here?" with routes.

Reuses the app server and headless Chromium of tests/test_browser.py (same marker, same offline
setup); see that module for the requirements.
"""

from __future__ import annotations

import time

import pytest
from test_browser import ARTIFACTS, _map_state, app_url, driver  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser


def test_click_on_the_coverage_map_shows_the_nearest_facilities(
    app_url: str,  # noqa: F811
    driver: object,  # noqa: F811
) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
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
    free_point_js = """
    const f = arguments[0], d = f.contentDocument, r = f.getBoundingClientRect();
    for (const [dx, dy] of arguments[1]) {
      const el = d.elementFromPoint(r.width / 2 + dx, r.height / 2 + dy);
      if (el && !el.closest('.leaflet-marker-pane, .leaflet-control, .leaflet-popup-pane'))
        return [dx, dy];
    }
    return null;
    """
    offsets = [[-60, 120], [0, 150], [-120, 60], [80, 100], [-30, 40], [40, -40]]
    point = driver.execute_script(free_point_js, frame, offsets)  # type: ignore[attr-defined]
    assert point is not None, "no free spot on the map to click"
    ActionChains(driver).move_to_element_with_offset(frame, *point).click().perform()
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
