from __future__ import annotations

import pytest

from bootstrap.kit import Stack
from tests.e2e.api_client import AppointmentsApi


@pytest.fixture(scope="session")
def api(stack: Stack) -> AppointmentsApi:
    return AppointmentsApi(stack.api_url)
