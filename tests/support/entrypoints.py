"""A function's entry point loaded as a cold start would load it, with the environment given."""

from __future__ import annotations

import importlib
from types import ModuleType

import pytest


def entry_point(name: str, monkeypatch: pytest.MonkeyPatch, **environment: str) -> ModuleType:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "unit")  # or botocore would look for credentials
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "unit")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    for key, value in environment.items():
        monkeypatch.setenv(key, value)
    module = importlib.import_module(f"appointments.entrypoints.{name}")
    return importlib.reload(module)  # a cold start with this environment
