"""The inspector's page in a real browser: Debian's Chromium, headless, driven by Selenium with
Debian's chromedriver, against `hybridstore inspect` running as a user runs it. It types a
query, changes the fusion, reads the ranks (the API's own answer, in the API's order), compares
two configurations, opens "why not", shows an eval's charts, and keeps screenshots in
tests/artifacts/ (git-ignored). Without Chromium the test fails naming the fix (`make test`
installs it)."""

from __future__ import annotations

import json
import shutil
import urllib.request
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
Q = "guitar music on the street"
WAIT_S = 120  # the longest a page update may take on a loaded CI machine (a bound, not a measure)
FIX = "install Debian's Chromium and its driver: apt-get install -y chromium chromium-driver (make test does)"


@pytest.fixture(scope="module")
def browser():
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.fail("the browser tests need Selenium: pip install -e '.[dev]' (make test does)")
    binary, driver = chromium()
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1280,1100", "--force-device-scale-factor=1"):
        options.add_argument(flag)
    chrome = webdriver.Chrome(options=options, service=Service(executable_path=driver))
    yield chrome
    chrome.quit()


def chromium() -> tuple[str, str]:
    """Chromium and its driver on PATH; else the test fails (not skips), naming the fix."""
    binary, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if binary is None or driver is None:
        pytest.fail(f"Chromium {'is' if binary is None else 'driver is'} not installed: {FIX}")
    return binary, driver


def test_without_chromium_the_browser_test_fails_naming_the_fix(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(pytest.fail.Exception, match=r"Chromium is not installed: .*apt-get install -y chromium chromium-driver"):
        chromium()


def api(url: str, path: str, body: dict) -> dict:
    asked = urllib.request.Request(url + "api/" + path, data=json.dumps(body).encode(),
                                   headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(asked) as r:
        return json.loads(r.read())


def waited(chrome, css: str, ready=lambda found: bool(found), read=lambda found: found):
    """`read` of the elements `css` selects (default: the elements), once `ready` says they are
    there. Read inside the wait: an element the page replaces mid-read is read again."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def there(d):
        found = d.find_elements(By.CSS_SELECTOR, css)
        return (read(found),) if ready(found) else None  # a tuple: a read that is empty is still done

    return WebDriverWait(chrome, WAIT_S, ignored_exceptions=(StaleElementReferenceException,)).until(there)[0]


def shot(chrome, name: str, at=None) -> Path:
    """The window (scrolled to the element `at`) as a PNG of 256 colours (a page of flat colours:
    a third of the size, the same look; docs/images/inspect.png is inspect-compare.png)."""
    from PIL import Image

    if at is not None:
        chrome.execute_script("arguments[0].scrollIntoView()", at)
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    assert chrome.save_screenshot(str(path)), f"no screenshot at {path}"
    with Image.open(path) as taken:
        small = taken.convert("RGB").quantize(256)
    small.save(path, optimize=True)
    return path


def hits(chrome, list_id: str = "hits", before: list[str] | None = None) -> list[tuple[int, str]]:
    """The page's hits (rank, id), once they differ from `before` (the page replaces them)."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def read(d):  # read whole inside the wait: a list the page replaces mid-read is read again
        found = [(int(e.get_attribute("data-rank")), e.get_attribute("data-id"))
                 for e in d.find_elements(By.CSS_SELECTOR, f"#{list_id} li.hit")]
        return found if found and [i for _, i in found] != before else None

    return WebDriverWait(chrome, WAIT_S, ignored_exceptions=(StaleElementReferenceException,)).until(read)


def test_search_fusion_compare_why_not_and_eval_in_chromium(browser, served, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    url, _, _ = served
    browser.get(url)
    waited(browser, "#overview table")
    assert "inspect" in browser.find_element(By.ID, "collection").text
    assert "north (5)" in browser.find_element(By.ID, "tenants").get_attribute("textContent")  # folded

    browser.find_element(By.ID, "query").send_keys(Q)
    browser.find_element(By.ID, "k").clear()
    browser.find_element(By.ID, "k").send_keys("5")
    browser.find_element(By.ID, "run").click()
    default = hits(browser)
    want = api(url, "search", {"query": Q, "k": 5})["hits"]
    assert default == [(h["rank"], h["id"]) for h in want]
    marks, bars, head = waited(browser, "#hits li.hit", read=lambda f: (
        {m.text.lower() for m in f[0].find_elements(By.TAG_NAME, "mark")},
        len(f[0].find_elements(By.CSS_SELECTOR, ".bars .bar")), f[0].find_element(By.CLASS_NAME, "head").text))
    assert marks >= {"guitar", "street"} and bars == len(want[0]["explanation"]["branches"]) and "dbsf" in head

    Select(browser.find_element(By.ID, "fusion")).select_by_value("rrf")  # the fusion changed
    browser.find_element(By.ID, "oversample").send_keys("1")
    browser.find_element(By.ID, "run").click()
    waited(browser, "#hits li.hit .head", lambda f: bool(f) and "rrf" in f[0].text)
    rrf = hits(browser)
    want = api(url, "search", {"query": Q, "k": 5, "fusion": "rrf", "oversample": 1})["hits"]
    assert rrf == [(h["rank"], h["id"]) for h in want]
    shot(browser, "inspect-search.png")

    Select(browser.find_element(By.ID, "b-mode")).select_by_value("sparse")
    browser.find_element(By.ID, "compare-run").click()
    moves = waited(browser, "#compare tr.move", read=lambda f: [m.get_attribute("data-id") for m in f])
    want = api(url, "compare", {"query": Q, "k": 5, "a": {"fusion": "rrf", "oversample": 1}, "b": {"mode": "sparse"}})
    assert moves == [m["id"] for m in want["moves"]]
    assert hits(browser, "hits-other") == [(h["rank"], h["id"]) for h in want["b"]]
    shot(browser, "inspect-compare.png")

    browser.find_element(By.ID, "k").clear()  # no tenant chosen: the whole collection's "rates"
    browser.find_element(By.ID, "k").send_keys("2")
    browser.find_element(By.ID, "whynot-id").send_keys("rates")
    browser.find_element(By.ID, "whynot-run").click()
    said = waited(browser, "#whynot-result", lambda f: bool(f) and f[0].text.strip() != "", lambda f: f[0].text)
    want = api(url, "why-not", {"query": Q, "k": 2, "id": "rates", "fusion": "rrf", "oversample": 1})
    assert said.splitlines() == want["stages"] and said.startswith("'rates' is not in the top 2: ")
    shot(browser, "inspect-why-not.png", browser.find_element(By.ID, "whynot-box"))

    before = [i for _, i in hits(browser)]
    browser.find_element(By.ID, "oversample").clear()  # the default depth
    browser.find_element(By.ID, "group_by").send_keys("topic")  # a grouped search, explained
    browser.find_element(By.ID, "run").click()
    grouped = hits(browser, before=before)
    want = api(url, "search", {"query": Q, "k": 2, "fusion": "rrf", "group_by": "topic"})["hits"]
    assert grouped == [(h["rank"], h["id"]) for h in want]
    shown = waited(browser, "#hits li.hit .head .group", read=lambda f: [e.text for e in f])
    assert shown == [f"group {h['group']}" for h in want] and all(h["explanation"] for h in want)
    browser.find_element(By.ID, "group_by").clear()

    rows = [{"mode": m, "ndcg@10": v, "recall@100": v, "p50_ms": 1.0,
             "queries": {"q1": {"ndcg@10": v, "recall@100": v}}} for m, v in (("dense", 0.9), ("hybrid", 0.5))]
    (tmp_path / "eval.json").write_text(json.dumps(rows))
    (tmp_path / "queries.jsonl").write_text(json.dumps({"_id": "q1", "text": "guitar on stage"}) + "\n")
    browser.find_element(By.ID, "eval-file").send_keys(str(tmp_path / "eval.json"))
    browser.find_element(By.ID, "eval-queries").send_keys(str(tmp_path / "queries.jsonl"))
    browser.find_element(By.ID, "eval-run").click()
    assert waited(browser, "#eval-charts svg.bars", read=len) == 2
    lost = waited(browser, "#eval-charts tr.lost", read=lambda f: [r.get_attribute("data-query") for r in f])
    assert lost == ["q1"]
    shot(browser, "inspect-eval.png", browser.find_element(By.ID, "eval-box"))
    browser.find_element(By.CSS_SELECTOR, "#eval-charts tr.lost").click()  # the lost query, searched and explained
    waited(browser, "#query", lambda f: bool(f) and f[0].get_attribute("value") == "guitar on stage")
    assert hits(browser, before=[i for _, i in rrf])
