"""Each function's configuration, read once from the environment and validated.

A missing or bad variable stops the cold start with a message naming it.
"""

from __future__ import annotations

import os
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from appointments.domain import Country


class _Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", defer_build=True)  # only the loaded one is built


class HttpSettings(_Settings):
    TABLE_NAME: str
    TOPIC_ARN: str
    IDEMPOTENCY_TABLE_NAME: str
    API_KEY_PARAMETER: str


class ProcessorSettings(_Settings):
    COUNTRY_ISO: Country
    DB_PARAMETERS_PATH: str
    EVENT_BUS_NAME: str
    DB_PARAMETERS_MAX_AGE: int = 300


class CallbackSettings(_Settings):
    TABLE_NAME: str


class ReconcilerSettings(_Settings):
    TABLE_NAME: str
    TOPIC_ARN: str
    HAND_OVER_AFTER_SECONDS: int = 60


class SettingsError(RuntimeError):
    pass


SettingsT = TypeVar("SettingsT", bound=_Settings)


def load_settings(model: type[SettingsT], environ: dict[str, str] | None = None) -> SettingsT:
    source = dict(os.environ if environ is None else environ)
    try:
        return model.model_validate(source)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in issue['loc'])}: "
            + ("missing environment variable" if issue["type"] == "missing" else issue["msg"])
            for issue in error.errors()
        )
        raise SettingsError(f"{model.__name__}: {problems}") from None
