"""Moved to tests/support/api_client.py; this name stays until its last importers use the new one."""

from tests.support.api_client import AppointmentsApi, Reply

__all__ = ["AppointmentsApi", "Reply"]
