"""Each function's configuration, read once from the environment and validated.

A missing or bad variable stops the cold start with a message naming it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal, Self, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from appointments.domain import Country

# Where the processors' CA bundle rides in the zip: lambdas/appointments/certs/ (README).
CA_BUNDLE = Path(__file__).with_name("certs") / "mysql-ca.pem"


class _Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", defer_build=True)  # only the loaded one is built


class HttpSettings(_Settings):
    TABLE_NAME: str
    TOPIC_ARN: str
    IDEMPOTENCY_TABLE_NAME: str
    API_KEY_PARAMETER: str
    API_KEY_MAX_AGE: int = 60  # seconds the keys read from SSM are kept (the template's ApiKeyCacheSeconds)


class ProcessorSettings(_Settings):
    COUNTRY_ISO: Country
    DB_PARAMETERS_PATH: str
    EVENT_BUS_NAME: str
    DB_PARAMETERS_MAX_AGE: int = 300
    # TLS to MySQL, the server's certificate and name checked against the CA bundle in the zip.
    # "off" is for a local MySQL without TLS; the template's default is "verify".
    DB_TLS: Literal["verify", "off"] = "verify"
    DB_TLS_CA_FILE: Path = CA_BUNDLE

    @model_validator(mode="after")
    def _bundle_in_the_zip(self) -> Self:
        if self.DB_TLS == "verify" and not self.DB_TLS_CA_FILE.is_file():
            raise ValueError(
                f"DB_TLS=verify needs the CA bundle {self.DB_TLS_CA_FILE}, which this code does not carry "
                "(README, Deploy to AWS: the RDS CA bundle)"
            )
        return self

    @property
    def tls_ca(self) -> Path | None:
        """The CA bundle that verifies the server, or None for a plain connection."""
        return self.DB_TLS_CA_FILE if self.DB_TLS == "verify" else None


class CallbackSettings(_Settings):
    TABLE_NAME: str


class ReconcilerSettings(_Settings):
    TABLE_NAME: str
    SWEEP_TABLE_NAME: str
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
