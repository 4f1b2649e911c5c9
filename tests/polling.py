"""Moved to tests/support/polling.py; this name stays until its last importers use the new one."""

from tests.support.polling import DeadlineExceeded, wait_for

__all__ = ["DeadlineExceeded", "wait_for"]
