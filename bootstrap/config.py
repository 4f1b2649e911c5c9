"""The kit's settings: what a deploy needs (StackConfig), and the local kit's on top of it
(KitConfig, read once from the environment over .env, with local defaults)."""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from appointments.domain import Country
from bootstrap import names

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "bootstrap" / "stack" / "template.yaml"
MYSQL_INIT = ROOT / "mysql-init"
MIGRATIONS = MYSQL_INIT / "migrations"  # the country schemas, in order: what a real server gets too
MYSQL_LOCAL_USERS = MYSQL_INIT / "local"  # the local kit's users, whose passwords are in the repository
LAMBDA_SOURCE = ROOT / "lambdas"
LAMBDA_REQUIREMENTS = ROOT / "requirements" / "lambda.txt"
STATE_DIR = ROOT / ".local"
BUILD_DIR = ROOT / "build"
DIST_DIR = ROOT / "dist"
ENGINE_VENV = ROOT / ".engine-venv"
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOTENV = ROOT / ".env"
LOCAL_API_KEY = STATE_DIR / "api-key"

ENGINES = ("ministack", "localstack")
DEFAULT_REGION = "us-east-1"
API_FLAVOURS = ("http", "rest")
DATABASE_TLS_MODES = ("verify", "off")  # the template's DatabaseTls


# The kit's state holds the engine's saved state (every SecureString in plain text), its log and
# the API key: readable by this user only, created so, never widened and narrowed after a write.
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
PRIVATE_UMASK = 0o077


def private_dir(path: Path = STATE_DIR) -> Path:
    """The folder, made or narrowed to this user alone, with what an earlier kit left in it."""
    path.mkdir(mode=PRIVATE_DIR_MODE, exist_ok=True)
    for inside in (path, *path.rglob("*")):
        if not inside.is_symlink():
            inside.chmod(stat.S_IMODE(inside.stat().st_mode) & ~PRIVATE_UMASK)
    path.chmod(PRIVATE_DIR_MODE)
    return path


def open_private(path: Path, mode: str = "w") -> IO[Any]:
    """A file readable by this user alone from the moment it exists (an existing one is narrowed
    before anything is written to it)."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if "a" in mode else os.O_TRUNC)
    descriptor = os.open(path, flags, PRIVATE_FILE_MODE)
    os.fchmod(descriptor, PRIVATE_FILE_MODE)
    return os.fdopen(descriptor, mode)


class KitError(Exception):
    """A problem the user can fix; printed as one line, without a traceback."""


@dataclass(frozen=True)
class CountryDatabase:
    """How a country processor reaches its schema on the local MySQL. Users and passwords match
    mysql-init/local/; on AWS `make db-users` generates real ones into SSM, and `make deploy`
    refuses these."""

    country: Country

    @property
    def user(self) -> str:
        return names.mysql_user(self.country)

    @property
    def password(self) -> str:
        return f"{self.user}_local"

    @property
    def schema(self) -> str:
        return names.schema(self.country)


LOCAL_COUNTRY_DATABASES = tuple(CountryDatabase(country) for country in names.COUNTRIES)


def read_dotenv(path: Path = DOTENV) -> dict[str, str]:
    """KEY=VALUE lines of a .env file (comments and blanks skipped); empty when there is none."""
    values: dict[str, str] = {}
    if not path.exists():
        return values
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        values[key.strip()] = value.strip().strip("'\"")
    return values


def with_dotenv(environ: Mapping[str, str], dotenv: Path = DOTENV) -> dict[str, str]:
    """The settings as docker compose reads them, and the kit too: .env's values under the
    environment's, so a value set in either reaches both."""
    return {**read_dotenv(dotenv), **environ}


# docker-compose.yml's names for MySQL's published port and root password, which the kit calls
# MYSQL_PORT and MYSQL_PASSWORD: on the LocalStack path each stands in for the kit's own name.
COMPOSE_NAMES = {"COMPOSE_MYSQL_PORT": "MYSQL_PORT", "MYSQL_ROOT_PASSWORD": "MYSQL_PASSWORD"}


def region_from(environ: Mapping[str, str]) -> str:
    """The local kit's region: AWS_REGION, else AWS_DEFAULT_REGION, else us-east-1; never the AWS
    configuration file's, so every command on the local engine agrees with `make up`."""
    return environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION


@dataclass(frozen=True)
class StackConfig:
    """Where a stack goes and the settings its template takes: all that `make deploy` needs.

    `engine_url` None means AWS, reached with the usual boto3 chain of credentials and region;
    a URL is an engine that speaks the AWS APIs there (`make deploy ENDPOINT=...`).
    """

    engine_url: str | None = None
    stage: str = "local"
    region: str = DEFAULT_REGION
    api_flavour: str = "http"
    db_parameters_prefix: str = names.DEFAULT_DB_PARAMETERS_PREFIX
    api_key_parameter: str = names.DEFAULT_API_KEY_PARAMETER
    # AWS-like defaults for deploys; `make up` shortens them so retries and DLQs show in seconds.
    queue_visibility_timeout: int = 60
    max_receive_count: int = 5
    queue_function_timeout: int = 10  # the processors' and the callback's Timeout, at most the visibility
    api_key_cache_seconds: int = 60
    reconciler_rate: str = "rate(1 minute)"
    hand_over_after_seconds: int = 60
    artifact_bucket_name: str | None = None
    subnet_ids: tuple[str, ...] = field(default=())
    security_group_id: str = ""
    # TLS from the processors to MySQL (the template's DatabaseTls): verified on AWS; a local
    # MySQL has none.
    database_tls: str = "verify"
    # REST flavour: `create` makes and sets the account's API Gateway logs role, `existing` keeps the one set.
    rest_api_logs_role: str = "create"

    @property
    def endpoint(self) -> str | None:
        """The URL the AWS clients are pointed at; None for AWS itself."""
        return self.engine_url

    @property
    def where(self) -> str:
        """What answers the AWS calls, as a message names it."""
        return f"the engine at {self.endpoint}" if self.endpoint else f"AWS {self.region}"

    @property
    def stack_name(self) -> str:
        return names.stack_name(self.stage)

    @property
    def artifact_bucket(self) -> str:
        return self.artifact_bucket_name or f"{self.stack_name}-artifacts"

    def api_url(self, outputs: dict[str, str]) -> str:
        """The API's base URL. A local engine is reached through its path form: the template's
        `<id>.execute-api.localhost` endpoint does not resolve everywhere."""
        if self.endpoint is None:
            return outputs[names.API_URL]
        stage = outputs.get(names.API_STAGE, "$default")
        suffix = "" if stage == "$default" else f"/{stage}"
        return f"{self.endpoint}/_aws/execute-api/{outputs[names.API_ID]}{suffix}"

    def client(self, service: str, **options: Any) -> Any:
        """A boto3 client for the stack's AWS; `options` go to boto3.client (a botocore `config`)."""
        import boto3

        if self.endpoint is None:
            return boto3.client(service, region_name=self.region, **options)  # type: ignore[call-overload]
        return boto3.client(
            service,  # type: ignore[call-overload]
            endpoint_url=self.endpoint,
            region_name=self.region,
            aws_access_key_id="test",
            aws_secret_access_key="test",  # noqa: S106 (local engines take any key)
            **options,
        )


@dataclass(frozen=True)
class KitConfig(StackConfig):
    """The local kit: the stack on a local engine, and that engine and the MySQL beside it.

    The engine is reached on 127.0.0.1:`engine_port`, or at `engine_url` when set (the compose
    provisioning container reaches LocalStack by its service name); `public_engine_url` is where
    the host reaches it, which the URLs printed for the user name (the same when unset).
    The `lambda_mysql_*` pair is MySQL as the functions see it: the same as the kit's on the
    Docker-free engine, the compose service name inside LocalStack's Lambda containers.
    """

    engine: str = "ministack"
    engine_port: int = 4566
    public_engine_url: str | None = None
    persist: bool = True  # the Docker-free engine saves its state when it stops, and loads it on start
    state_dir: Path = STATE_DIR  # the engine's pid file, log and saved state (LOCAL_STATE_DIR)
    mysql_host: str = "127.0.0.1"
    mysql_port: int = 3306
    mysql_user: str = "root"
    mysql_password: str = ""
    lambda_mysql_host: str = "127.0.0.1"
    lambda_mysql_port: int = 3306
    console_port: int = 4580  # `make console` serves the console on 127.0.0.1 there (CONSOLE_PORT)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, engine: str = "ministack") -> KitConfig:
        """Settings for `engine`. With LocalStack the defaults follow docker-compose.yml: MySQL 8.4
        published on 127.0.0.1:3307, reached by the functions as mysql:3306, and the REST API
        (LocalStack's free plan has no API Gateway v2); the compose file's names for MySQL's port
        and password stand in for the kit's (COMPOSE_NAMES)."""
        env = dict(os.environ if environ is None else environ)
        compose = engine == "localstack"
        if compose:
            env = {**{kit: env[name] for name, kit in COMPOSE_NAMES.items() if name in env}, **env}
        try:
            port = int(env.get("ENGINE_PORT", "4566"))
            console_port = int(env.get("CONSOLE_PORT", "4580"))
            mysql_port = int(env.get("MYSQL_PORT", "3307" if compose else "3306"))
            lambda_mysql_port = int(env.get("LAMBDA_MYSQL_PORT", "3306" if compose else str(mysql_port)))
            visibility = int(env.get("QUEUE_VISIBILITY_TIMEOUT", "10"))
            receives = int(env.get("MAX_RECEIVE_COUNT", "3"))
        except ValueError as error:
            raise KitError(
                f"ports, QUEUE_VISIBILITY_TIMEOUT and MAX_RECEIVE_COUNT are integers ({error})"
            ) from None
        flavour = env.get("API_FLAVOUR", "rest" if compose else "http")
        if flavour not in API_FLAVOURS:
            raise KitError(f"API_FLAVOUR must be one of {', '.join(API_FLAVOURS)}, not {flavour!r}")
        mysql_host = env.get("MYSQL_HOST", "127.0.0.1")
        database_tls = env.get("DATABASE_TLS", "off")
        if database_tls not in DATABASE_TLS_MODES:
            raise KitError(
                f"DATABASE_TLS must be one of {', '.join(DATABASE_TLS_MODES)}, not {database_tls!r}"
            )
        return cls(
            engine_port=port,
            engine_url=env.get("ENGINE_URL") or None,
            public_engine_url=env.get("PUBLIC_ENGINE_URL") or None,
            engine=engine,
            stage=env.get("STAGE", "local"),
            region=region_from(env),
            api_flavour=flavour,
            db_parameters_prefix=env.get("DB_PARAMETERS_PREFIX", names.DEFAULT_DB_PARAMETERS_PREFIX),
            api_key_parameter=env.get("API_KEY_PARAMETER", names.DEFAULT_API_KEY_PARAMETER),
            persist=env.get("PERSIST", "1") != "0",
            state_dir=Path(env["LOCAL_STATE_DIR"]).resolve() if env.get("LOCAL_STATE_DIR") else STATE_DIR,
            queue_visibility_timeout=visibility,
            max_receive_count=receives,
            mysql_host=mysql_host,
            mysql_port=mysql_port,
            mysql_user=env.get("MYSQL_USER", "root"),
            mysql_password=env.get("MYSQL_PASSWORD", "rimac-local" if compose else ""),
            lambda_mysql_host=env.get("LAMBDA_MYSQL_HOST", "mysql" if compose else mysql_host),
            lambda_mysql_port=lambda_mysql_port,
            database_tls=database_tls,
            console_port=console_port,
        )

    @property
    def engine_host(self) -> str:
        return "127.0.0.1"

    @property
    def endpoint(self) -> str:
        return self.engine_url or f"http://{self.engine_host}:{self.engine_port}"

    @property
    def public_endpoint(self) -> str:
        """The engine as a browser on the host reaches it."""
        return self.public_engine_url or self.endpoint

    def public_api_url(self, outputs: dict[str, str]) -> str:
        """The API's base URL as the host reaches it, for the URLs printed for the user."""
        return self.public_endpoint + self.api_url(outputs).removeprefix(self.endpoint)
