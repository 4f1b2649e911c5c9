"""The kit's settings, read once from the environment with local defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "bootstrap" / "template.yaml"
MYSQL_INIT = ROOT / "mysql-init"
LAMBDA_SOURCE = ROOT / "lambdas"
LAMBDA_REQUIREMENTS = ROOT / "requirements" / "lambda.txt"
STATE_DIR = ROOT / ".local"
BUILD_DIR = ROOT / "build"
DIST_DIR = ROOT / "dist"
ENGINE_VENV = ROOT / ".engine-venv"

COUNTRIES = ("pe", "cl")


class KitError(Exception):
    """A problem the user can fix; printed as one line, without a traceback."""


@dataclass(frozen=True)
class CountryDatabase:
    """How a country processor reaches its schema. Users and passwords match mysql-init/."""

    country: str
    user: str
    password: str

    @property
    def schema(self) -> str:
        return f"mysql_{self.country}"


LOCAL_COUNTRY_DATABASES = tuple(
    CountryDatabase(country=c, user=f"rimac_{c}", password=f"rimac_{c}_local") for c in COUNTRIES
)


@dataclass(frozen=True)
class KitConfig:
    engine_host: str
    engine_port: int
    stage: str
    region: str
    db_parameters_prefix: str
    mysql_host: str
    mysql_port: int
    mysql_user: str
    mysql_password: str

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> KitConfig:
        env = os.environ if environ is None else environ
        try:
            return cls(
                engine_host="127.0.0.1",
                engine_port=int(env.get("ENGINE_PORT", "4566")),
                stage=env.get("STAGE", "local"),
                region=env.get("AWS_REGION", env.get("AWS_DEFAULT_REGION", "us-east-1")),
                db_parameters_prefix=env.get("DB_PARAMETERS_PREFIX", "/rimac/db"),
                mysql_host=env.get("MYSQL_HOST", "127.0.0.1"),
                mysql_port=int(env.get("MYSQL_PORT", "3306")),
                mysql_user=env.get("MYSQL_USER", "root"),
                mysql_password=env.get("MYSQL_PASSWORD", ""),
            )
        except ValueError as error:
            raise KitError(f"ENGINE_PORT and MYSQL_PORT must be integers ({error})") from None

    @property
    def endpoint(self) -> str:
        return f"http://{self.engine_host}:{self.engine_port}"

    @property
    def stack_name(self) -> str:
        return f"rimac-appointments-{self.stage}"

    @property
    def artifact_bucket(self) -> str:
        return f"rimac-appointments-{self.stage}-artifacts"

    def api_url(self, api_id: str) -> str:
        # The engine's ApiEndpoint output (<id>.execute-api.localhost) does not resolve everywhere;
        # the path form always does.
        return f"{self.endpoint}/_aws/execute-api/{api_id}"

    def client(self, service: str) -> Any:
        import boto3

        return boto3.client(
            service,  # type: ignore[call-overload]
            endpoint_url=self.endpoint,
            region_name=self.region,
            aws_access_key_id="test",
            aws_secret_access_key="test",  # noqa: S106 (the local engine takes any key)
        )
