"""The console's dead letters, on a stage of its own: a wrong PE database password in SSM, on
processors started cold, sends an appointment through every receive into the PE DLQ; the
console's queues page, in a real headless Chromium, shows it there with the error its function
logged; once the setting is fixed, one click on its Redrive button sends it back, and it
completes. A screenshot of the page is kept in .local/artifacts/."""

from __future__ import annotations

import uuid

from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from bootstrap import names
from bootstrap.stack.queries import peek
from tests.support.browser import ARTIFACTS, read_page
from tests.support.console import running_console
from tests.support.faults import FaultRig, holds
from tests.support.functions import environment_changed
from tests.support.polling import wait_completed, wait_for
from tests.support.queues import drain
from tests.support.random_refs import random_insured_id, random_schedule_id
from tests.support.stages import on_stage
from tests.support.written_secrets import known_secrets

pytestmark = on_stage("t-console")


def test_an_appointment_in_the_pe_dlq_shows_its_error_and_one_click_on_redrive_completes_it(
    rig: FaultRig, browser: WebDriver
) -> None:
    ssm, lambda_client = rig.kit_config.client("ssm"), rig.kit_config.client("lambda")
    password = names.db_parameter_names(rig.kit_config.db_parameters_prefix, "PE")["password"]
    processor = rig.stack.outputs[names.processor_function_output("PE")]
    dead_letters = rig.stack.outputs[names.dead_letter_queue_output("PE")]
    insured = random_insured_id("CONSOLE")
    kept = ssm.get_parameter(Name=password, WithDecryption=True)["Parameter"]
    drain(rig.sqs, dead_letters)  # the stage's own DLQ: what an earlier run left there goes
    # every receive, the visibility timeout apart, then the move to the DLQ
    through_every_receive = rig.kit_config.queue_visibility_timeout * rig.kit_config.max_receive_count + 30

    ssm.put_parameter(Name=password, Value="not-the-password", Type=kept["Type"], Overwrite=True)
    try:
        # A new environment value recycles the warm workers: they start cold on the wrong password.
        with environment_changed(lambda_client, processor, COLD_START=uuid.uuid4().hex):
            created = rig.api.create(
                {"insuredId": insured, "scheduleId": random_schedule_id(), "countryISO": "PE"}
            )
            appointment_id = created.body["appointmentId"]
            wait_for(
                lambda: holds(peek(rig.sqs, dead_letters), appointment_id),
                timeout=through_every_receive,
                describe="the appointment in the PE DLQ",
            )
    finally:
        ssm.put_parameter(Name=password, Value=kept["Value"], Type=kept["Type"], Overwrite=True)
    rig.report(
        f"{appointment_id} in the PE DLQ after {rig.kit_config.max_receive_count} receives; setting fixed"
    )

    with running_console(rig.kit_config) as console:
        browser.get(console.url + "/queues")
        row = f'#queue-pe tr.letter[data-appointment="{appointment_id}"]'

        def text_at(selector: str) -> str | None:
            """An element's text, None while it is missing or being swapped."""
            return read_page(lambda: browser.find_element(By.CSS_SELECTOR, selector).text or None)

        error = wait_for(
            lambda: text_at(f"{row} td.error"),
            timeout=rig.deadlines.flow,
            describe="the dead letter on the page",
        )
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(ARTIFACTS / "console-dead-letters.png"))
        page = browser.page_source
        rig.report(f"the console shows it with: {error}")
        # what the processor logged: the adapter's fact, naming the schema, never the password
        assert error.startswith("StoreUnavailable: ")
        assert "mysql_pe" in error
        assert not any(secret in page for secret in known_secrets(rig.stack.api_key))

        def redrive_clicked() -> bool:
            """One click on the row's Redrive (again if the part was swapped under the click: the
            page refreshes itself; a click that landed leaves the page, so it is not repeated)."""
            try:
                browser.find_element(By.CSS_SELECTOR, f"{row} button.redrive-one").click()
            except StaleElementReferenceException:
                return False
            return True

        wait_for(redrive_clicked, timeout=10, describe="a click on the dead letter's Redrive")
        moved = wait_for(
            lambda: browser.find_elements(By.ID, "moved") or None, timeout=10, describe="the redrive's answer"
        )
        assert moved[0].text.startswith("1 message(s) sent back")
        wait_completed(rig.api, insured, appointment_id, rig.deadlines.flow)
        browser.get(f"{console.url}/appointments/{appointment_id}?insured={insured}")
        assert wait_for(lambda: text_at("#final-status"), timeout=10, describe="the journey's status") == (
            "completed"
        )
    rig.report("one click on Redrive: sent back, completed")
    assert not holds(peek(rig.sqs, dead_letters), appointment_id)
