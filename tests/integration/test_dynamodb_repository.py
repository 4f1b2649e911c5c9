"""The DynamoDB repository against the engine: what is particular to the table (the facts it
shares with the fake are in test_port_contracts.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from appointments.adapters.dynamodb import DynamoAppointmentRepository
from appointments.domain import Appointment, AppointmentRequest, Country
from appointments.services import new_appointment_id
from bootstrap import names
from bootstrap.kit import Stack

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.fixture
def repository(aws: Callable[[str], Any], stack: Stack) -> DynamoAppointmentRepository:
    return DynamoAppointmentRepository(stack.outputs[names.TABLE_NAME], aws("dynamodb"))


def pending(insured: str, schedule: int = 1, country: Country = Country.PE) -> Appointment:
    request = AppointmentRequest(insured, schedule, country, correlation_id=f"req-{insured}")
    return Appointment.pending(new_appointment_id(), request, T0)


def test_an_added_appointment_reads_back_identical(
    repository: DynamoAppointmentRepository, unique_id: str
) -> None:
    appointment = pending(unique_id, schedule=7, country=Country.CL)

    repository.add(appointment)

    assert repository.list_for_insured(unique_id) == [appointment]


def test_the_list_is_newest_first_and_scoped_to_the_insured(
    repository: DynamoAppointmentRepository, unique_id: str
) -> None:
    mine = [pending(unique_id, schedule=n) for n in range(1, 4)]
    for appointment in mine:
        repository.add(appointment)
    repository.add(pending(unique_id + "X"))

    listed = repository.list_for_insured(unique_id)

    assert [a.schedule_id for a in listed] == [3, 2, 1]
    assert repository.list_for_insured("NOBODY" + unique_id) == []
