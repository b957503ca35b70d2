"""The HTML report as a reader sees it, in a real browser: headless Chromium opens the report,
clicks through to the paper comparison and finds the published and the reproduced numbers on the
rendered page. Skips, saying why, where Chromium, its driver or selenium is absent
(Debian: apt-get install chromium chromium-driver)."""

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from benchmark_workflow import copy_workflow  # noqa: E402  (the benchmark copies the workflow the same way)

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        CHROMIUM is None or CHROMEDRIVER is None,
        reason="Chromium or its driver is not installed (apt-get install chromium chromium-driver)",
    ),
]
# Flags of a headless run on a machine without a network: no background connections, no GPU.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    workdir = copy_workflow(tmp_path_factory.mktemp("browser") / "w")
    for args in (["--cores", "2"], ["--report", "results/report.html"]):
        result = subprocess.run(
            [sys.executable, "-m", "snakemake", *args], cwd=workdir, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr[-2000:]
    return workdir


@pytest.fixture(scope="module")
def browser():
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.implicitly_wait(10)
    yield driver
    driver.quit()


def rendered_page(browser, report_html: Path, category: str, result: str) -> str:
    """Text of one result of the report, opened the way a reader does: category, then the view
    button."""
    from selenium.webdriver.common.by import By

    browser.get(report_html.as_uri())
    browser.find_element(By.XPATH, f"//span[text()='{category}']").click()
    row = browser.find_element(By.XPATH, f"//tr[td[contains(text(), '{result}')]]")
    row.find_elements(By.TAG_NAME, "a")[0].click()  # the first button of a row shows the result
    browser.switch_to.frame(browser.find_element(By.TAG_NAME, "iframe"))
    deadline = time.monotonic() + 10
    text = ""
    while time.monotonic() < deadline and "published" not in text:
        text = browser.find_element(By.TAG_NAME, "body").text
    browser.switch_to.default_content()
    return text


def test_the_report_shows_the_paper_comparison_with_both_numbers(report, browser):
    text = rendered_page(
        browser, report / "results" / "report.html", "Paper comparison", "paper_comparison.html"
    )
    table = pd.read_csv(
        report / "results" / "paper_comparison.tsv", sep="\t", dtype=str, keep_default_na=False
    )
    for published in ("F(1,253) = 4.83, P = 0.029", "F(1,74) = 5.39, P = 0.023", "larger in males"):
        assert published in text
    for reproduced in table["reproduced"]:
        assert reproduced in text
