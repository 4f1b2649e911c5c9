"""The API's Swagger UI page in a real headless Chromium, through both front doors (the stack
`make up` provisioned and the REST stage `deploy` put beside it): it loads, lists both
operations, and a "Try it out" POST made from the page, with the API key, is answered 202. A
screenshot of each is kept in .local/artifacts/ as the test's artifact."""

from __future__ import annotations

import json

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ready
from selenium.webdriver.support.ui import WebDriverWait

from bootstrap.dev.kit import Stack
from tests.support.api_client import AppointmentsApi
from tests.support.browser import ARTIFACTS
from tests.support.random_refs import random_insured_id, random_schedule_id

# The front doors of tests/e2e/conftest.py, and each one's screenshot.
FRONT_DOORS = {"made-up-stack": "swagger-ui.png", "deployed-rest-stack": "swagger-ui-rest.png"}


@pytest.fixture(params=sorted(FRONT_DOORS))
def front_door(request: pytest.FixtureRequest, stack: Stack) -> tuple[str, str]:
    """(API URL, screenshot name); the REST stage is where a compressed page would break."""
    if request.param == "made-up-stack":
        return stack.api_url, FRONT_DOORS[request.param]
    return request.getfixturevalue("deployed_rest_api"), FRONT_DOORS[request.param]


def test_the_docs_page_lists_both_operations_and_a_post_from_it_is_accepted(
    browser: WebDriver, stack: Stack, front_door: tuple[str, str]
) -> None:
    api_url, screenshot = front_door
    wait = WebDriverWait(browser, 30)
    browser.get(f"{api_url}/docs")

    wait.until(ready.presence_of_element_located((By.CSS_SELECTOR, ".opblock")))
    operations = sorted(
        e.text.split("\n")[:2] for e in browser.find_elements(By.CSS_SELECTOR, ".opblock-summary")
    )
    assert [op[:2] for op in operations] == [["GET", "/appointments/{insuredId}"], ["POST", "/appointments"]]

    browser.find_element(By.CSS_SELECTOR, ".btn.authorize").click()
    wait.until(ready.presence_of_element_located((By.CSS_SELECTOR, ".modal-ux input[type=text]"))).send_keys(
        stack.api_key
    )
    browser.find_element(By.CSS_SELECTOR, ".modal-ux .auth-btn-wrapper .authorize").click()
    browser.find_element(By.CSS_SELECTOR, ".modal-ux .btn-done").click()
    browser.find_element(By.CSS_SELECTOR, ".opblock-post .opblock-summary").click()
    wait.until(ready.element_to_be_clickable((By.CSS_SELECTOR, ".opblock-post .try-out__btn"))).click()
    body = wait.until(
        ready.presence_of_element_located((By.CSS_SELECTOR, ".opblock-post textarea.body-param__text"))
    )
    # The page's example is the seed's PE001 and slot 1, which only the seed test books: the
    # request made from the page has an insured and a slot of this test's own.
    insured, slot = random_insured_id("SWAGGER"), random_schedule_id()
    body.clear()
    body.send_keys(json.dumps({"insuredId": insured, "scheduleId": slot, "countryISO": "PE"}))
    browser.find_element(By.CSS_SELECTOR, ".opblock-post .execute").click()
    status = wait.until(
        ready.presence_of_element_located(
            (By.CSS_SELECTOR, ".opblock-post .live-responses-table tbody .response-col_status")
        )
    )

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / screenshot))
    assert status.text == "202"
    url = browser.find_element(By.CSS_SELECTOR, ".opblock-post .request-url pre").text
    assert url == f"{api_url}/appointments"
    booked = AppointmentsApi(api_url, stack.api_key).list(insured).body["items"]
    assert [(item["scheduleId"], item["countryISO"]) for item in booked] == [(slot, "PE")]
