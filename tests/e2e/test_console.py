"""The console (`make console`) on the stack `make up` provisioned: in a real headless Chromium,
appointments posted through the API appear on the flow map and in the list and reach
`completed`, and one appointment's journey shows every hop in order with its durations; over
HTTP, what stands before its routes (Host, Origin, CSRF token, read-only), and no page or answer
showing a secret. Screenshots are kept in .local/artifacts/."""

from __future__ import annotations

import random
from collections.abc import Iterator

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from bootstrap import names
from bootstrap.config import KitConfig
from bootstrap.dev.kit import Stack
from tests.support.api_client import AppointmentsApi
from tests.support.browser import ARTIFACTS, read_page
from tests.support.console import RunningConsole, running_console
from tests.support.deadlines import Deadlines
from tests.support.polling import DeadlineExceeded, wait_completed, wait_for
from tests.support.random_refs import random_insured_id, random_schedule_id
from tests.support.tally import QUEUE_CONSUMERS, flush_late_lines, wait_nudging
from tests.support.written_secrets import known_secrets

# The kit's table holds every earlier run's appointments: scanned at its own pace (a hundred times
# the scan's time, up to a minute), the map's counts would take that long to move.
SCAN_SECONDS = "3"


@pytest.fixture(scope="module")
def console(kit_config: KitConfig, stack: Stack) -> Iterator[RunningConsole]:
    with running_console(kit_config, "--scan-seconds", SCAN_SECONDS) as running:
        yield running


@pytest.fixture
def made_up_api(stack: Stack) -> AppointmentsApi:
    return AppointmentsApi(stack.api_url, stack.api_key)


def completed_on_a_free_slot(api: AppointmentsApi, country: str, deadlines: Deadlines) -> tuple[str, str]:
    """One appointment posted on a slot of its own and completed: (insuredId, appointmentId)."""
    insured = random_insured_id("CONSOLE")
    created = api.create({"insuredId": insured, "scheduleId": random_schedule_id(), "countryISO": country})
    appointment_id = created.body["appointmentId"]
    wait_completed(api, insured, appointment_id, deadlines.flow)
    return insured, appointment_id


def figure(browser: WebDriver, name: str) -> int:
    """A number on the flow map: the first word of the figure's line (`12 completed`)."""
    text = browser.find_element(By.CSS_SELECTOR, f'[data-figure="{name}"]').text
    return int(text.split()[0])


def figures(browser: WebDriver, *wanted: str) -> dict[str, int] | None:
    return read_page(lambda: {name: figure(browser, name) for name in wanted})


def statuses_listed(browser: WebDriver) -> dict[str, str] | None:
    return read_page(
        lambda: {
            row.get_attribute("data-appointment") or "": row.find_element(
                By.CSS_SELECTOR, "[data-status]"
            ).text
            for row in browser.find_elements(By.CSS_SELECTOR, "tr[data-appointment]")
        }
    )


def test_two_appointments_posted_through_the_api_appear_on_the_map_and_reach_completed(
    browser: WebDriver, console: RunningConsole, made_up_api: AppointmentsApi, deadlines: Deadlines
) -> None:
    shown = ("status-completed", "rows-mysql_pe", "rows-mysql_cl")
    browser.get(console.url + "/")
    before = wait_for(lambda: figures(browser, *shown), timeout=deadlines.flow, describe="the map's figures")
    insured, slot = random_insured_id("CONSOLE"), random_schedule_id()
    ids = [
        made_up_api.create({"insuredId": insured, "scheduleId": slot, "countryISO": country}).body[
            "appointmentId"
        ]
        for country in ("PE", "CL")
    ]

    # The map refreshes itself (htmx, every 2 s): the page is not reloaded.
    def counted_both() -> dict[str, int] | None:
        now = figures(browser, *shown, "processor-pe-invocations", "processor-cl-invocations")
        return (
            now
            if now
            and now["status-completed"] >= before["status-completed"] + 2
            and now["rows-mysql_pe"] > before["rows-mysql_pe"]
            and now["rows-mysql_cl"] > before["rows-mysql_cl"]
            else None
        )

    # The map refreshes itself (htmx, every 2 s; the table's scan as often as its cost allows):
    # the page is not reloaded.
    scans_every = console.get("/overview.json").json()["scan"]["again_after"]
    after = wait_for(
        counted_both,
        timeout=deadlines.flow + 2 * scans_every,
        describe="the map counting both completed and stored",
    )
    assert after["processor-pe-invocations"] >= 1
    assert after["processor-cl-invocations"] >= 1
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "console-map.png"))

    browser.get(f"{console.url}/appointments?q={insured}")
    listed = wait_for(
        lambda: (
            found if (found := statuses_listed(browser)) and set(found.values()) == {"completed"} else None
        ),
        timeout=deadlines.flow,
        describe="both appointments listed as completed",
    )
    assert sorted(listed) == sorted(ids)
    browser.save_screenshot(str(ARTIFACTS / "console-appointments.png"))


def test_an_appointments_journey_shows_every_hop_in_order_with_its_durations(
    browser: WebDriver,
    console: RunningConsole,
    made_up_api: AppointmentsApi,
    kit_config: KitConfig,
    stack: Stack,
    deadlines: Deadlines,
) -> None:
    insured, appointment_id = completed_on_a_free_slot(made_up_api, "PE", deadlines)

    browser.get(f"{console.url}/appointments/{appointment_id}?insured={insured}")

    seen: list[object] = [None]

    def lanes() -> list[tuple[str, str, float, float]] | None:
        rows = read_page(hops)
        seen[0] = rows
        functions = [lane for kind, lane, _, _ in rows or [] if kind == "function"]
        return rows if functions == ["http", "processor-pe", "callback"] else None

    def hops() -> list[tuple[str, str, float, float]]:
        return [
            (
                row.get_attribute("data-kind") or "",
                row.get_attribute("data-lane") or "",
                float(row.find_element(By.CSS_SELECTOR, "[data-start]").get_attribute("data-start") or 0),
                float(
                    row.find_element(By.CSS_SELECTOR, "[data-duration]").get_attribute("data-duration") or 0
                ),
            )
            for row in browser.find_elements(By.CSS_SELECTOR, "tr.hop")
        ]

    # Lines a quiet worker still holds reach the log with its next invocation: nudged here, the
    # HTTP function's workers too (its bar is drawn from its REPORT line).
    try:
        rows = wait_nudging(
            lanes,
            lambda: flush_late_lines(kit_config, stack.outputs, (names.HTTP_FUNCTION_NAME, *QUEUE_CONSUMERS)),
            timeout=deadlines.flow,
            describe="a bar for each function of the journey",
        )
    except DeadlineExceeded as error:
        raise DeadlineExceeded(f"{error}; the page's rows: {seen[0]}") from None
    kinds = [(kind, lane) for kind, lane, _, _ in rows if kind != "point"]
    queue = stack.outputs[names.queue_output("PE")].rsplit("/", 1)[-1]
    callback_queue = stack.outputs[names.CALLBACK_QUEUE_URL].rsplit("/", 1)[-1]
    assert kinds == [
        ("function", "http"),
        ("queue", queue),
        ("function", "processor-pe"),
        ("queue", callback_queue),
        ("function", "callback"),
    ]
    starts = [start for _, _, start, _ in rows]
    assert starts == sorted(starts), "the bars in the order they began"
    assert all(duration > 0 for kind, _, _, duration in rows if kind == "function")
    assert all(duration >= 0 for _, _, _, duration in rows)

    def item_and_row() -> tuple[str, str, str, str]:
        return (
            browser.find_element(By.ID, "final-status").text,
            browser.find_element(By.ID, "item").text,
            browser.find_element(By.ID, "row").text,
            browser.find_element(By.XPATH, "//table[@id='item']//tr[th='correlationId']/td").text,
        )

    # read in one go, again if the page swapped its part meanwhile (it refreshes itself)
    final_status, item, row, correlation_id = wait_for(
        lambda: read_page(item_and_row), timeout=10, describe="the journey's item and row read whole"
    )
    assert final_status == "completed"
    assert appointment_id in item
    assert "mysql_pe.appointments" in row
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "console-journey.png"))

    # the same journey's lines on the log page, filtered by its correlation id
    browser.get(f"{console.url}/logs?correlation={correlation_id}")

    def correlated() -> set[str] | None:
        found = read_page(
            lambda: {
                row.get_attribute("data-correlation") or ""
                for row in browser.find_elements(By.CSS_SELECTOR, "tr.line")
            }
        )
        return found if found and len(browser.find_elements(By.CSS_SELECTOR, "tr.line")) >= 3 else None

    assert wait_for(correlated, timeout=deadlines.flow, describe="the journey's log lines") == {
        correlation_id
    }
    browser.save_screenshot(str(ARTIFACTS / "console-logs.png"))


def test_a_queues_age_is_what_sqs_publishes_to_cloudwatch_and_the_map_says_where_none_is(
    console: RunningConsole, kit_config: KitConfig, stack: Stack
) -> None:
    """SQS gives the age of a queue's oldest message only as CloudWatch's
    ApproximateAgeOfOldestMessage. The Docker-free engine publishes none; a datapoint put as SQS
    puts it (on the engine's real CloudWatch API) is what the console shows, and a queue without
    one says so."""
    pe_queue = stack.outputs[names.QUEUES["pe"].queue_output].rsplit("/", 1)[-1]
    age = float(random.randint(30, 80))  # shown in seconds; another run's datapoint is older
    kit_config.client("cloudwatch").put_metric_data(
        Namespace="AWS/SQS",
        MetricData=[
            {
                "MetricName": "ApproximateAgeOfOldestMessage",
                "Dimensions": [{"Name": "QueueName", "Value": pe_queue}],
                "Value": age,
                "Unit": "Seconds",
            }
        ],
    )

    def ages() -> dict[str, float | None] | None:
        queues = console.get("/overview.json").json().get("queues", [])
        found = {q["name"]: q["age_seconds"] for q in queues}
        return found if found.get("pe") == age else None

    found = wait_for(ages, timeout=30, describe=f"the PE queue's age {age:.0f} s on the overview")
    if (
        kit_config.engine == "ministack"
    ):  # it publishes no SQS metric, and nothing here puts the callback queue's
        assert found["callback"] is None
    page = console.get("/map").text
    assert f"oldest {age:.0f} s" in page
    assert "oldest: no metric" in page
    assert "which this engine does not publish" in page


def test_a_request_naming_another_host_is_refused(console: RunningConsole) -> None:
    # what a page of another site gets when a DNS name of its own points at 127.0.0.1
    assert console.get("/", headers={"host": f"rebound.example:{console.port}"}).status_code == 421
    assert console.get("/overview.json", headers={"host": "127.0.0.1"}).status_code == 421
    assert console.get("/", headers={"host": f"localhost:{console.port}"}).status_code == 200


def test_a_redrive_needs_the_consoles_origin_and_its_pages_token(console: RunningConsole) -> None:
    page = console.get("/queues").text
    token = page.split('<meta name="csrf-token" content="', 1)[1].split('"', 1)[0]
    # a message id no DLQ holds: the redrive finds nothing and moves nothing
    form = {"csrf": token, "message": "no-such-message"}
    post = f"{console.url}/queues/pe/redrive"
    assert httpx.post(post, data=form).status_code == 403  # no Origin
    assert httpx.post(post, data=form, headers={"origin": "http://evil.example"}).status_code == 403
    wrong = {**form, "csrf": "not-" + token}
    assert httpx.post(post, data=wrong, headers={"origin": console.url}).status_code == 403
    accepted = httpx.post(post, data=form, headers={"origin": console.url})
    assert (accepted.status_code, accepted.headers["location"]) == (303, "/queues?moved=0")
    headers = console.get("/").headers
    assert "default-src 'self'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"


def test_a_read_only_console_refuses_every_action_and_offers_none(
    kit_config: KitConfig, stack: Stack
) -> None:
    with running_console(kit_config, "--read-only") as read_only:
        page = read_only.get("/queues").text
        refused = httpx.post(f"{read_only.url}/queues/pe/redrive", data={}, headers={"origin": read_only.url})
    assert refused.status_code == 403
    assert "read-only" in refused.text
    assert "csrf" not in page


def test_no_console_page_or_answer_shows_a_secret(
    console: RunningConsole,
    made_up_api: AppointmentsApi,
    kit_config: KitConfig,
    stack: Stack,
    deadlines: Deadlines,
) -> None:
    insured, appointment_id = completed_on_a_free_slot(made_up_api, "CL", deadlines)
    item = kit_config.client("dynamodb").get_item(
        TableName=stack.outputs[names.TABLE_NAME],
        Key={"insuredId": {"S": insured}, "appointmentId": {"S": appointment_id}},
    )["Item"]
    correlation_id = item["correlationId"]["S"]
    paths = [
        "/",
        "/map",
        "/overview.json",
        "/appointments",
        f"/appointments?q={insured}",
        f"/appointments/{appointment_id}?insured={insured}",
        f"/appointments/{appointment_id}",
        "/appointments/01NOSUCHAPPOINTMENT0000000",
        "/queues",
        "/logs",
        "/logs?level=ERROR",
        f"/logs?correlation={correlation_id}",
        "/static/console.css",
    ]
    answers = {path: console.get(path) for path in paths}
    secrets = known_secrets(stack.api_key)
    leaks = [path for path, answer in answers.items() if any(secret in answer.text for secret in secrets)]
    assert {path: answer.status_code for path, answer in answers.items()} == {
        **dict.fromkeys(paths, 200),
        "/appointments/01NOSUCHAPPOINTMENT0000000": 404,
    }
    assert appointment_id in answers["/logs"].text, "the log page shows the functions' lines"
    assert leaks == []
