"""The HTML report as a reader sees it, in a real browser: headless Chromium opens the report and
clicks through it. Items are listed by what they show; every table page shows its caption
without a click and no number with more than 4 significant digits; the paper comparison shows
the published and the reproduced numbers; the configuration is a page that shows its settings.
Skips, saying why, where Chromium, its driver or selenium is absent (Debian: apt-get install
chromium chromium-driver)."""

import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

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


def results_of(browser, report_html: Path) -> tuple[dict, dict]:
    """The report's items (path -> name, labels, caption, ...) and categories, as its page holds
    them."""
    browser.get(report_html.as_uri())
    return browser.execute_script("return [results, categories];")


def open_item(browser, report_html: Path, categories: dict, path: str):
    """Open one item the way a reader does: its category, its subcategory when the category has
    several, then the view button of the row that names it; leaves the driver in the item's
    frame, loaded."""
    from selenium.webdriver.common.by import By

    category, subcategory = next(
        (c, s) for c, subs in categories.items() for s, paths in subs.items() if path in paths
    )
    name = browser.execute_script("return results[arguments[0]].labels.name;", path)
    browser.get(report_html.as_uri())
    browser.find_element(By.XPATH, f"//span[text()='{category}']").click()
    if len(categories[category]) > 1:
        browser.find_element(By.XPATH, f"//span[text()='{subcategory}']").click()
    row = browser.find_element(By.XPATH, f"//tr[td[text()='{name}']]")
    row.find_elements(By.TAG_NAME, "a")[0].click()  # the first button of a row shows the result
    browser.switch_to.frame(browser.find_element(By.TAG_NAME, "iframe"))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not browser.find_elements(By.TAG_NAME, "h3"):
        time.sleep(0.1)


def body_text(browser) -> str:
    from selenium.webdriver.common.by import By

    return browser.find_element(By.TAG_NAME, "body").text


def significant_digits(number: str) -> int:
    """Significant digits of a number as written: leading zeros never count, trailing zeros of
    a whole number neither (2000 has 1; 0.0100 has 3)."""
    digits = number.replace(".", "").lstrip("0")
    return len(digits if "." in number else digits.rstrip("0")) or 1


@pytest.fixture(scope="module")
def items(report, browser):
    report_html = report / "results" / "report.html"
    results, categories = results_of(browser, report_html)
    return report_html, results, categories


def table_pages(results: dict) -> list[str]:
    return sorted(path for path in results if "/report/tables/" in path)


def test_the_report_shows_the_paper_comparison_with_both_numbers(report, browser, items):
    report_html, results, categories = items
    (path,) = [p for p in results if p.endswith("tables/paper_comparison.html")]
    open_item(browser, report_html, categories, path)
    text = body_text(browser)
    browser.switch_to.default_content()
    table = pd.read_csv(
        report / "results" / "paper_comparison.tsv", sep="\t", dtype=str, keep_default_na=False
    )
    for published in ("F(1,253) = 4.83, P = 0.029", "F(1,74) = 5.39, P = 0.023", "larger in males"):
        assert published in text
    for reproduced in table["reproduced"]:
        assert reproduced in text


def test_every_item_is_listed_by_what_it_shows(browser, items):
    from selenium.webdriver.common.by import By

    report_html, results, categories = items
    names = {path: (result["labels"] or {}).get("name") for path, result in results.items()}
    assert all(names.values()), [path for path, name in names.items() if not name]
    file_like = [
        name
        for path, name in names.items()
        if name in (path, Path(path).name) or re.search(r"\.(html|png|tsv|yaml)$", name)
    ]
    assert not file_like, file_like
    for category, subcategories in categories.items():
        for subcategory, paths in subcategories.items():
            browser.get(report_html.as_uri())
            browser.find_element(By.XPATH, f"//span[text()='{category}']").click()
            if len(subcategories) > 1:
                browser.find_element(By.XPATH, f"//span[text()='{subcategory}']").click()
            listed = {cell.text for cell in browser.find_elements(By.XPATH, "//tbody/tr/td[1]")}
            assert {names[path] for path in paths} <= listed, (category, subcategory, listed)
            assert not [text for text in listed if re.search(r"\.(html|png|tsv|yaml)$", text)]


def test_table_pages_are_rounded_and_show_their_caption(browser, items):
    from selenium.webdriver.common.by import By

    report_html, results, categories = items
    pages = table_pages(results)
    assert len(pages) >= 15, pages
    for path in pages:
        open_item(browser, report_html, categories, path)
        cells = [cell.text for cell in browser.find_elements(By.TAG_NAME, "td")]
        caption = browser.find_element(By.CLASS_NAME, "caption")
        height = browser.execute_script("return window.innerHeight;")
        caption_text, caption_top = caption.text, caption.location["y"]
        caption_shown = caption.is_displayed()
        browser.switch_to.default_content()
        assert cells, path
        numbers = [n for cell in cells for n in re.findall(r"\d+(?:\.\d+)?", cell)]
        assert max(map(significant_digits, numbers)) <= 4, (
            path,
            [n for n in numbers if significant_digits(n) > 4],
        )
        # the caption Snakemake shows behind the (i) button, on the page, in the first screen
        expected = " ".join(re.sub(r"<[^>]+>", " ", results[path]["caption"]).split())
        assert caption_shown and caption_top < height, (path, caption_top, height)
        assert " ".join(caption_text.split())[:60] == expected[:60], path


def test_the_configuration_is_a_readable_page(report, browser, items):
    report_html, results, categories = items
    (path,) = [p for p in results if p.endswith("report/run/config.html")]
    open_item(browser, report_html, categories, path)
    text = body_text(browser)
    browser.switch_to.default_content()
    config = yaml.safe_load((report / "results" / "run" / "config.yaml").read_text())
    assert "glx_formula" in text and config["stats"]["glx_formula"] in text
    assert "clinical_formula" in text and config["stats"]["clinical_formula"] in text
