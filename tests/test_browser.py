"""The web page in a real browser: Debian's Chromium, headless, through chromedriver.

Each test starts `rules serve` on a loopback port and drives the page as a person would.
`.ci/run` installs Chromium and chromedriver and sets `RULES_REQUIRE_BROWSER=1`, so in
CI these tests always run; elsewhere, without a browser, they are skipped. The test
`test_screenshots` saves a screenshot of each tab; with `RULES_SCREENSHOTS=docs` it
writes them to `docs/screenshots/` (see docs/embedding.md).
"""

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest

import engine
from engine.io.inputs import read_records

ROOT = Path(__file__).resolve().parent.parent
SHEET = ROOT / "examples" / "unit-2021.xlsx"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
HAVE_BROWSER = Path(CHROMIUM).exists() and Path(DRIVER).exists()

if not HAVE_BROWSER and os.environ.get("RULES_REQUIRE_BROWSER"):
    raise RuntimeError(f"RULES_REQUIRE_BROWSER is set but there is no {CHROMIUM} or {DRIVER}")
pytestmark = pytest.mark.skipif(not HAVE_BROWSER, reason="no Chromium here (CI installs it)")

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def serve() -> Iterator:
    """Start `rules serve` with the given arguments; its base URL."""
    servers = []

    def start(*args: str) -> str:
        port = _free_port()
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "engine",
                "serve",
                "--port",
                str(port),
                "--reload-every",
                "0",
                *args,
            ],
            cwd=ROOT,
            stderr=subprocess.DEVNULL,
        )
        servers.append(server)
        for _ in range(300):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    return f"http://127.0.0.1:{port}"
            except OSError:
                time.sleep(0.05)
        raise AssertionError("the server did not start")

    yield start
    for server in servers:
        server.terminate()
        server.wait(timeout=20)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1200,1000",
        "--lang=zh-CN",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)}
    )
    yield driver
    driver.quit()


def _open(driver, url: str) -> None:
    driver.get(url + "/")
    _wait(driver, lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready"))


def _wait(driver, until, seconds: float = 20):
    return WebDriverWait(driver, seconds).until(until)


def _fill(driver, kind: str, year: str, **fields: str) -> None:
    Select(driver.find_element(By.ID, "in-kind")).select_by_value(kind)
    box = driver.find_element(By.ID, "in-year")
    box.clear()
    box.send_keys(year)
    for name, value in fields.items():
        field = driver.find_element(By.ID, f"in-{name}")
        if field.tag_name == "select":
            Select(field).select_by_value(value)
        else:
            field.clear()
            field.send_keys(value)
    driver.find_element(By.ID, "try-submit").click()


def test_a_fourth_author_of_a_national_paper_gets_3(serve, browser) -> None:
    _open(browser, serve())
    _fill(browser, "paper", "2021", venue="cn_serial", words="3000", authors="4", position="4")
    _wait(browser, lambda d: d.find_elements(By.ID, "result-amount"))
    assert browser.find_element(By.ID, "result-amount").text == "3"
    assert browser.find_element(By.ID, "result-counted").text == "计入"
    steps = [li.text for li in browser.find_elements(By.CSS_SELECTOR, "#result-steps li")]
    assert steps[0] == "查「报刊论文的级别」：全国统一刊号 → 国家级［附件一(三)1］"
    assert steps[-1] == "结果：3 学时（share(total, authors, position)）［附件一(三)1］"


def test_the_form_is_made_from_the_schema(serve, browser) -> None:
    _open(browser, serve())
    Select(browser.find_element(By.ID, "in-kind")).select_by_value("award")
    tier = Select(browser.find_element(By.ID, "in-tier"))
    assert [o.text for o in tier.options] == [
        "（不填）",
        "三等奖（third）",
        "二等奖（second）",
        "一等奖（first）",
    ]
    level = Select(browser.find_element(By.ID, "in-level"))
    assert [o.get_attribute("value") for o in level.options] == [
        "county",
        "city",
        "provincial",
        "national",
    ]
    label = browser.find_element(By.CSS_SELECTOR, "label[for='in-rank']").text
    assert label == "位次（rank） （≥ 1）"
    assert "（可选）" in browser.find_element(By.CSS_SELECTOR, "label[for='in-tier']").text


def test_a_field_error_shows_beside_its_field(serve, browser) -> None:
    _open(browser, serve())
    _fill(browser, "paper", "2021", venue="cn_serial", words="3000", authors="2", position="3")
    error = _wait(browser, lambda d: d.find_element(By.ID, "err-position").text)
    must = "`position <= authors` must hold, but position is 3, authors is 2"
    assert error == must + ": 作者位次不能超过作者人数"
    assert browser.find_element(By.ID, "in-position").get_attribute("aria-invalid") == "true"
    _fill(browser, "paper", "2021", words="三千", authors="2", position="1")
    error = _wait(browser, lambda d: d.find_element(By.ID, "err-words").text)
    assert error.startswith("`words` must be an integer")
    assert browser.find_element(By.ID, "err-position").text == ""


def _report_rows() -> tuple[list, list]:
    policy = engine.load()
    from engine.io.cells import CellReader

    rows = list(policy.report_numbered(read_records(SHEET, CellReader([policy.model]))))
    return [r for r in rows if r["scope"] != "error"], [r for r in rows if r["scope"] == "error"]


def test_a_units_sheet_gives_its_report_and_bad_rows(serve, browser, tmp_path: Path) -> None:
    _open(browser, serve())
    browser.find_element(By.ID, "tab-batch").click()
    browser.find_element(By.ID, "batch-file").send_keys(str(SHEET))
    browser.find_element(By.ID, "batch-submit").click()
    _wait(browser, lambda d: d.find_elements(By.ID, "batch-summary"))
    summary, errors = _report_rows()
    shown = browser.find_elements(By.CSS_SELECTOR, "#report-rows tbody tr")
    assert len(shown) == len(summary)
    first = [td.text for td in shown[0].find_elements(By.TAG_NAME, "td")]
    assert first[:2] == [summary[0]["person"], str(summary[0]["year"])]
    short = browser.find_elements(By.CSS_SELECTOR, "#report-rows td.short")
    assert short and all(int(td.text) > 0 for td in short)
    bad = browser.find_elements(By.CSS_SELECTOR, "#error-rows tbody tr")
    assert [tr.find_elements(By.TAG_NAME, "td")[0].text for tr in bad] == [
        str(e["id"]) for e in errors
    ]
    assert len(bad) == 5
    # the download, read back
    browser.find_element(By.ID, "batch-download").click()
    path = tmp_path / "unit-2021-report.xlsx"
    _wait(browser, lambda d: path.exists() and path.stat().st_size > 0)
    time.sleep(0.3)  # let the browser finish the file
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["person-years", "errors"]
    assert book["person-years"].max_row == 1 + len(summary)
    assert [r[0].value for r in book["errors"].iter_rows(min_row=2)] == [e["id"] for e in errors]


def test_the_policy_tab_shows_the_document(serve, browser) -> None:
    _open(browser, serve())
    browser.find_element(By.ID, "tab-policy").click()
    assert "版本" in browser.find_element(By.ID, "policy-about").text
    frame = _wait(browser, lambda d: d.find_element(By.ID, "policy-doc"))
    _wait(browser, lambda d: "Tables" in (frame.get_attribute("srcdoc") or ""))
    browser.switch_to.frame(frame)
    cells = [td.text for td in browser.find_elements(By.CSS_SELECTOR, "table td")]
    assert "县区级" in cells and "国际级" in cells
    browser.switch_to.default_content()


def test_tabs_by_keyboard(serve, browser) -> None:
    _open(browser, serve())
    tab = browser.find_element(By.ID, "tab-try")
    tab.send_keys(Keys.ARROW_RIGHT)
    assert browser.switch_to.active_element.get_attribute("id") == "tab-batch"
    assert browser.find_element(By.ID, "panel-batch").is_displayed()
    browser.switch_to.active_element.send_keys(Keys.END)
    assert browser.find_element(By.ID, "tab-policy").get_attribute("aria-selected") == "true"
    browser.switch_to.active_element.send_keys(Keys.HOME)
    assert browser.find_element(By.ID, "panel-try").is_displayed()


def test_another_policy_gives_another_form(serve, browser) -> None:
    _open(browser, serve("--policy", str(ROOT / "tests" / "check" / "base")))
    kinds = Select(browser.find_element(By.ID, "in-kind"))
    assert [o.get_attribute("value") for o in kinds.options] == ["k"]
    fields = [
        e.get_attribute("id") for e in browser.find_elements(By.CSS_SELECTOR, "#fields .field")
    ]
    assert fields == ["f-level", "f-tier", "f-n"]
    assert browser.find_element(By.ID, "title").text == "基础政策"


def test_the_token_is_asked_for_and_used(serve, browser, tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("s3cret\n")
    _ = serve  # the page itself is open; the API needs the token
    url = serve("--token-file", str(token))
    browser.get(url + "/")
    box = _wait(
        browser,
        lambda d: (
            d.find_element(By.ID, "token-box").is_displayed() and d.find_element(By.ID, "token-box")
        ),
    )
    browser.find_element(By.ID, "token").send_keys("s3cret")
    box.submit()
    _wait(browser, lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready"))
    _fill(browser, "paper", "2021", venue="cn_serial", words="3000", authors="4", position="4")
    assert _wait(browser, lambda d: d.find_element(By.ID, "result-amount")).text == "3"


def test_readable_at_phone_width(serve, browser) -> None:
    browser.set_window_size(390, 844)
    _open(browser, serve())
    wide = browser.execute_script(
        "return document.documentElement.scrollWidth > document.documentElement.clientWidth"
    )
    assert wide is False
    assert all(t.is_displayed() for t in browser.find_elements(By.CSS_SELECTOR, "[role=tab]"))


def test_screenshots(serve, browser, tmp_path: Path) -> None:
    """One screenshot per tab; `RULES_SCREENSHOTS=docs` keeps them in docs/screenshots/."""
    folder = (
        ROOT / "docs" / "screenshots" if os.environ.get("RULES_SCREENSHOTS") == "docs" else tmp_path
    )
    folder.mkdir(exist_ok=True)
    browser.set_window_size(1200, 1400)
    _open(browser, serve())
    _fill(browser, "paper", "2021", venue="cn_serial", words="3000", authors="4", position="4")
    _wait(browser, lambda d: d.find_elements(By.ID, "result-amount"))
    browser.save_screenshot(str(folder / "try.png"))
    browser.find_element(By.ID, "tab-batch").click()
    browser.find_element(By.ID, "batch-file").send_keys(str(SHEET))
    browser.find_element(By.ID, "batch-submit").click()
    _wait(browser, lambda d: d.find_elements(By.ID, "batch-summary"))
    browser.save_screenshot(str(folder / "batch.png"))
    browser.find_element(By.ID, "tab-policy").click()
    frame = browser.find_element(By.ID, "policy-doc")
    _wait(browser, lambda d: "Tables" in (frame.get_attribute("srcdoc") or ""))
    time.sleep(0.5)
    browser.save_screenshot(str(folder / "policy.png"))
    assert all(
        (folder / f"{name}.png").stat().st_size > 10_000 for name in ("try", "batch", "policy")
    )


def test_a_record_still_being_filled_in_is_told_what_is_left(serve, browser) -> None:
    _open(browser, serve())
    _fill(browser, "paper", "2021", venue="cn_serial", authors="2", position="1")
    box = _wait(browser, lambda d: d.find_element(By.ID, "try-needs"))
    said = [p.text for p in box.find_elements(By.TAG_NAME, "p")]
    assert said == ["还需填写：字数", "其中会影响数额的：字数"]
    _fill(browser, "professional_course", "2021")  # exactly one of hours, days
    _wait(browser, lambda d: "其中一项" in d.find_element(By.ID, "try-needs").text)
    said = [p.text for p in browser.find_elements(By.CSS_SELECTOR, "#try-needs p")]
    assert said == ["以下填写其中一项：学时、天数", "其中会影响数额的：学时、天数"]
