from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from appointments.adapters.dynamodb import DynamoAppointmentRepository
from appointments.domain import (
    Appointment,
    AppointmentNotFound,
    AppointmentRequest,
    AppointmentStatus,
    Country,
)
from appointments.services import new_appointment_id
from bootstrap.kit import Stack

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.fixture
def repository(aws: Callable[[str], Any], stack: Stack) -> DynamoAppointmentRepository:
    return DynamoAppointmentRepository(stack.outputs["TableName"], aws("dynamodb"))


def pending(insured: str, schedule: int = 1, country: Country = Country.PE) -> Appointment:
    request = AppointmentRequest(insured, schedule, country, correlation_id=f"req-{insured}")
    return Appointment.pending(new_appointment_id(), request, T0)


def test_an_added_appointment_reads_back_identical(
    repository: DynamoAppointmentRepository, unique_id: str
) -> None:
    appointment = pending(unique_id, schedule=7, country=Country.CL)

    repository.add(appointment)

    assert repository.list_for_insured(unique_id) == [appointment]
    assert repository.get(unique_id, appointment.appointment_id) == appointment


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


def test_an_existing_id_is_never_overwritten(repository: DynamoAppointmentRepository, unique_id: str) -> None:
    appointment = pending(unique_id)
    repository.add(appointment)

    with pytest.raises(Exception, match="ConditionalCheckFailed"):
        repository.add(appointment.settled(AppointmentStatus.COMPLETED, T0))

    assert repository.list_for_insured(unique_id)[0].status is AppointmentStatus.PENDING


def test_settling_happens_once_and_only_from_pending(
    repository: DynamoAppointmentRepository, unique_id: str
) -> None:
    appointment = pending(unique_id)
    repository.add(appointment)
    later = T0 + timedelta(seconds=5)
    settle = repository.settle

    assert settle(unique_id, appointment.appointment_id, AppointmentStatus.COMPLETED, None, later) is True
    assert settle(unique_id, appointment.appointment_id, AppointmentStatus.COMPLETED, None, later) is False
    assert settle(unique_id, appointment.appointment_id, AppointmentStatus.REJECTED, "late", later) is False

    stored = repository.get(unique_id, appointment.appointment_id)
    assert stored is not None
    assert (stored.status, stored.updated_at, stored.rejection_reason) == (
        AppointmentStatus.COMPLETED,
        later,
        None,
    )


def test_a_rejection_keeps_its_reason(repository: DynamoAppointmentRepository, unique_id: str) -> None:
    appointment = pending(unique_id)
    repository.add(appointment)

    assert repository.settle(unique_id, appointment.appointment_id, AppointmentStatus.REJECTED, "taken", T0)

    stored = repository.get(unique_id, appointment.appointment_id)
    assert stored is not None
    assert (stored.status, stored.rejection_reason) == (AppointmentStatus.REJECTED, "taken")


def test_settling_a_missing_appointment_raises_not_found(
    repository: DynamoAppointmentRepository, unique_id: str
) -> None:
    with pytest.raises(AppointmentNotFound):
        repository.settle(unique_id, new_appointment_id(), AppointmentStatus.COMPLETED, None, T0)
