"""Benchmark of the app on the demo district, in a real browser (headless Chromium).

Measures
1. first load to a visible map: a fresh ``streamlit run`` process, a new browser session on
   ``/coverage``, until Leaflet has drawn the coverage polygons (cold: demo, analysis, service
   areas and map are all built); then the same for a second session (warm caches);
2. change of threshold to an updated map: click "路网距离" and type new distances, timing from
   the input until the map's title box shows the new criterion;
3. the map payload: the HTML handed to the map component and the static assets it loads.

Targets (issue 5): 5 s first load, 2 s threshold change. Writes ``bench/results_app.md``.
Run: ``/work/venv/bin/python bench/bench_app.py``.
"""

from __future__ import annotations

import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PROBE_JS = """
const f = document.querySelector("iframe[title*='st_folium']");
if (!f || !f.contentDocument) return null;
const d = f.contentDocument, w = d.defaultView;
if (!w || !d.documentElement) return null;
const filled = Array.from(d.querySelectorAll('.leaflet-overlay-pane path'))
  .filter(p => (p.getAttribute('fill') || 'none') !== 'none').length;
const res = (w.performance ? w.performance.getEntriesByType('resource') : [])
  .map(r => ({name: r.name, size: r.encodedBodySize || r.transferSize || 0}));
return {leaflet: !!(w.L && w.L.version), filled: filled, text: d.body ? d.body.innerText : '',
        resources: res, html: d.documentElement.outerHTML.length};

"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_app(port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
            "--server.port", str(port), "--server.address", "127.0.0.1",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2):
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("streamlit did not start")


def browser(profile: str):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for arg in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={profile}", "--window-size=1400,1000",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
    ):  # fmt: skip
        opts.add_argument(arg)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)


def wait_map(drv, *, text: str | None = None, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        probe = drv.execute_script(PROBE_JS)
        ready = probe and probe["leaflet"] and probe["filled"] > 0
        if ready and (text is None or text in probe["text"]):
            return probe
        time.sleep(0.05)
    raise TimeoutError(f"map not ready (waiting for {text!r})")


def first_load(url: str, profile: str) -> tuple[float, dict]:
    drv = browser(profile)
    try:
        t0 = time.perf_counter()
        drv.get(f"{url}/coverage")
        probe = wait_map(drv)
        return time.perf_counter() - t0, probe
    finally:
        drv.quit()


def via_data_page(url: str, profile: str) -> tuple[float, float]:
    """Cold process, the planner's path: open the app (Data page), then click Coverage at once.

    Returns seconds to the Data page's header and from the click to the visible map. The app
    warms the analysis and the first map in a background thread meanwhile (ui/warmup.py).
    """
    from selenium.webdriver.common.by import By

    drv = browser(profile)
    try:
        t0 = time.perf_counter()
        drv.get(f"{url}/")
        deadline = time.monotonic() + 120
        while not any(h.text == "数据" for h in drv.find_elements(By.CSS_SELECTOR, "h2")):
            if time.monotonic() > deadline:
                raise TimeoutError("data page did not show")
            time.sleep(0.05)
        t_data = time.perf_counter() - t0
        link = drv.find_element(By.CSS_SELECTOR, "[data-testid='stSidebar'] a[href$='/coverage']")
        t1 = time.perf_counter()
        link.click()
        wait_map(drv)
        return t_data, time.perf_counter() - t1
    finally:
        drv.quit()


def threshold_changes(url: str, profile: str) -> list[tuple[str, float]]:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    drv = browser(profile)
    out: list[tuple[str, float]] = []
    try:
        drv.get(f"{url}/coverage")
        wait_map(drv)
        radio = drv.find_element(
            By.XPATH, "//div[@role='radiogroup']//label[.//*[normalize-space(text())='路网距离']]"
        )
        t0 = time.perf_counter()
        radio.click()
        wait_map(drv, text="路网距离 3000 米")
        out.append(("criterion → network distance 3000 m", time.perf_counter() - t0))
        for metres in (1500, 800, 500):
            box = drv.find_element(By.CSS_SELECTOR, "input[type='number']")
            box.send_keys(Keys.CONTROL, "a")
            box.send_keys(str(metres))
            t0 = time.perf_counter()
            box.send_keys(Keys.ENTER)
            wait_map(drv, text=f"路网距离 {metres} 米")
            out.append((f"threshold → {metres} m", time.perf_counter() - t0))
        return out
    finally:
        drv.quit()


def map_html_bytes(name: str = "synthetic") -> int:
    """Size of the coverage map's folium HTML for a demo (what the component receives)."""
    from coverage.analysis import analyse
    from coverage.service_areas import service_areas
    from maps.layers import coverage_map
    from study.demo import load_demo

    demo = load_demo(name)
    result = analyse(demo.network, demo.demand, demo.facilities)
    cat = result.categories[0]
    areas = service_areas(
        demo.network, result, category=cat, thresholds_m=[result.criteria[cat].threshold_m],
        kinds=("dissolved",),
    )  # fmt: skip
    fmap = coverage_map(
        facilities=demo.facilities,
        demand=demo.demand,
        service_areas=areas,
        network_edges=demo.network.edges_gdf(to_crs="EPSG:4326")[["length", "geometry"]],
        categories=[cat],
        title=demo.label_zh,
    )
    return len(fmap.get_root().render().encode("utf-8"))


def main() -> None:
    load = os.getloadavg()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    tmp = tempfile.mkdtemp(prefix="lcc-bench-")
    t_start = time.perf_counter()
    proc = start_app(port)
    t_server = time.perf_counter() - t_start
    try:
        cold, probe = first_load(url, f"{tmp}/a")
        warm, _ = first_load(url, f"{tmp}/b")
        changes = threshold_changes(url, f"{tmp}/c")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    # A second fresh process for the planner's path (Data page first, then Coverage).
    port2 = free_port()
    proc = start_app(port2)
    try:
        t_data, t_click = via_data_page(f"http://127.0.0.1:{port2}", f"{tmp}/d")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)
    assets = [r for r in probe["resources"] if "/app/static/" in r["name"]]
    asset_bytes = sum(r["size"] for r in assets)
    lines = [
        "# App benchmark (demo district, headless Chromium, no outside network)",
        "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}; `python bench/bench_app.py`. Load average when it "
        f"started: {load[0]:.1f} (other processes add seconds to the browser timings; on this "
        "shared machine repeated runs varied by about ±1 s).",
        "",
        "| step | seconds | target |",
        "|---|---:|---:|",
        f"| server start (`streamlit run`, health answers) | {t_server:.2f} | – |",
        f"| first load to a visible map, cold process (demo + analysis + map) | {cold:.2f} | 5 |",
        f"| first load to a visible map, new session, warm caches | {warm:.2f} | 5 |",
        f"| cold process, open the app: Data page shown | {t_data:.2f} | 5 |",
        f"| … then click Coverage at once → visible map (warm-up thread running) | {t_click:.2f} "
        "| 5 |",
    ]
    lines += [f"| {name} → updated map | {sec:.2f} | 2 |" for name, sec in changes]
    lines += [
        "",
        "Map payload in the browser:",
        "",
        f"- folium HTML of the coverage map (street network, service area, demand heat points, "
        f"facilities, legend): {map_html_bytes() / 1024:,.0f} KB on the synthetic demo, "
        f"{map_html_bytes('helsinki') / 1024:,.0f} KB on the Helsinki OSM demo",
        f"- rendered map document in the component iframe: {probe['html'] / 1024:,.0f} KB",
        f"- static assets from the app (`/app/static/`): {asset_bytes / 1024:,.0f} KB in "
        f"{len(assets)} files: " + ", ".join(Path(r["name"]).name for r in assets),
        "",
    ]
    out = ROOT / "bench" / "results_app.md"
    out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
