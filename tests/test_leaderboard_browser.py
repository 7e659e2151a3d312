"""End to end in a real headless Chromium (Debian's `chromium` and `chromium-driver`, driven by
Selenium): `tlarena leaderboard` serves the app, a deep link opens a filtered view, its CSV downloads."""
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and DRIVER),
    reason="needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver; "
           ".ci/run installs them)")
webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from tlarena_leaderboard import synthetic  # noqa: E402

PAIR = "domainnet-clipart->domainnet-real"   # longer than the sidebar's chips are wide


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_healthy(url: str, server: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the leaderboard exited: {server.stdout.read()}")
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"the leaderboard did not answer at {url}")


@pytest.fixture
def leaderboard(tmp_path):
    records = [synthetic.record(method, PAIR, seed, top1=top1 + 0.01 * seed, setting=setting)
               for method, top1 in (("fine-tune", 0.8), ("scratch", 0.7))
               for setting in ("few-shot", "supervised") for seed in range(3)]
    results = synthetic.write(tmp_path / "results", records)
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "tlarena", "leaderboard", "--results", str(results),
                               "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_healthy(url, server)
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)   # tlarena and the streamlit server it started
        server.wait(timeout=30)
        time.sleep(2)
        with contextlib.suppress(ProcessLookupError):   # a server still shutting down
            os.killpg(server.pid, signal.SIGKILL)


@pytest.fixture
def browser(tmp_path):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000"):
        options.add_argument(argument)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=webdriver.ChromeService(DRIVER), options=options)
    driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    driver.downloads = downloads
    yield driver
    driver.quit()


def _text(driver) -> str:
    return driver.find_element(By.TAG_NAME, "body").text


def test_a_deep_link_opens_the_filtered_view_and_its_csv_downloads(leaderboard, browser, tmp_path):
    browser.get(f"{leaderboard}/?setting=few-shot&method=scratch&pair={PAIR.replace('>', '%3E')}")
    WebDriverWait(browser, 120).until(lambda d: "selection source-val" in _text(d))
    shown = _text(browser)
    assert "few-shot · lenet · selection source-val" in shown and "supervised · lenet" not in shown
    # the pair's chip in the sidebar shows its whole name (Streamlit cut it with an ellipsis)
    chip = WebDriverWait(browser, 60).until(lambda d: d.find_elements(
        By.CSS_SELECTOR, f'.stMultiSelect [data-tag] span[title="{PAIR}"]'))[0]
    assert browser.execute_script("return arguments[0].scrollWidth <= arguments[0].clientWidth", chip)
    assert chip.text.replace("\n", "") == PAIR
    download = WebDriverWait(browser, 60).until(
        lambda d: d.find_elements(By.XPATH, "//button[contains(., 'Download CSV')]"))[0]
    browser.execute_script("arguments[0].scrollIntoView(); arguments[0].click();", download)
    WebDriverWait(browser, 60).until(lambda d: list(d.downloads.glob("*.csv")))
    csv = next(browser.downloads.glob("*.csv")).read_text()
    assert csv.splitlines()[1].startswith("few-shot,lenet,source-val,scratch,")
    assert len(csv.splitlines()) == 2      # the filter kept one method in one setting
    screenshot = tmp_path / "leaderboard.png"
    browser.save_screenshot(str(screenshot))
    assert screenshot.stat().st_size > 10_000
