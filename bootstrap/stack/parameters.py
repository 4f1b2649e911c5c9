"""What the functions read from SSM: each country's database connection and the API key."""

from __future__ import annotations

import secrets
from typing import Any

from bootstrap import names
from bootstrap.config import (
    LOCAL_API_KEY,
    LOCAL_COUNTRY_DATABASES,
    CountryDatabase,
    KitConfig,
    open_private,
    private_dir,
)


def connection_parameter_values(
    host: str, port: int, user: str, password: str, schema: str
) -> dict[str, tuple[str, str]]:
    """Each leaf the processor reads -> (value, SSM type): the password a SecureString."""
    return {
        "host": (host, "String"),
        "port": (str(port), "String"),
        "user": (user, "String"),
        "password": (password, "SecureString"),
        "name": (schema, "String"),
    }


def db_parameter_values(config: KitConfig, database: CountryDatabase) -> dict[str, tuple[str, str]]:
    """Each leaf the processor reads -> (value, SSM type) for the local MySQL."""
    return connection_parameter_values(
        config.lambda_mysql_host, config.lambda_mysql_port, database.user, database.password, database.schema
    )


def put_country_parameters(
    ssm: Any, prefix: str, country: str, values: dict[str, tuple[str, str]]
) -> list[str]:
    """Write one country's connection under the prefix; returns the parameters' names.

    CloudFormation cannot create SecureString parameters, so they are written here.
    """
    written = []
    for leaf, parameter in names.db_parameter_names(prefix, country).items():
        value, kind = values[leaf]
        ssm.put_parameter(Name=parameter, Value=value, Type=kind, Overwrite=True)
        written.append(parameter)
    return written


def put_db_parameters(config: KitConfig) -> list[str]:
    """Write each local country's connection under the prefix."""
    ssm = config.client("ssm")
    written = []
    for database in LOCAL_COUNTRY_DATABASES:
        values = db_parameter_values(config, database)
        written += put_country_parameters(ssm, config.db_parameters_prefix, database.country, values)
    return written


def new_api_key() -> str:
    """32 random URL-safe characters: twice the length the HTTP function requires of a key."""
    return secrets.token_urlsafe(24)


def put_api_key(config: KitConfig) -> str:
    """The local API key: made once, kept in .local/api-key, written to SSM as a SecureString."""
    if LOCAL_API_KEY.exists():
        key = LOCAL_API_KEY.read_text().strip()
    else:
        key = new_api_key()
        private_dir(LOCAL_API_KEY.parent)
        with open_private(LOCAL_API_KEY) as kept:
            kept.write(key + "\n")
    config.client("ssm").put_parameter(
        Name=config.api_key_parameter, Value=key, Type="SecureString", Overwrite=True
    )
    return key
