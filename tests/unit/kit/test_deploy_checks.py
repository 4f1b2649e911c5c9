"""What `make deploy` checks before it ships anything: the database parameters exist, on AWS none
of the passwords is one of the local kit's (they are in the repository), the API key parameter
is one the HTTP function accepts; and what it warns of: no TLS to MySQL on AWS."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from bootstrap import names, packaging
from bootstrap.config import LOCAL_COUNTRY_DATABASES, KitError, StackConfig
from bootstrap.progress import Progress
from bootstrap.stack import deploy

PREFIX = names.DEFAULT_DB_PARAMETERS_PREFIX
API_KEY = "generated-api-key-0123456789"


def password_parameter(country: str) -> str:
    return names.db_parameter_names(PREFIX, country)["password"]


class ParameterNotFound(Exception):
    pass


class FakeSsm:
    """Parameter Store holding the given parameters, answering the calls deploy makes."""

    class exceptions:  # noqa: N801 (boto3's spelling)
        ParameterNotFound = ParameterNotFound

    def __init__(self, parameters: dict[str, str]) -> None:
        self.parameters = parameters

    def get_paginator(self, _: str) -> FakeSsm:
        return self

    def paginate(self, Path: str) -> list[dict[str, Any]]:  # noqa: N803
        return [{"Parameters": [{"Name": n} for n in self.parameters if n.startswith(Path + "/")]}]

    def get_parameter(self, Name: str, WithDecryption: bool = False) -> dict[str, Any]:  # noqa: N803
        if Name not in self.parameters:
            raise ParameterNotFound(Name)
        return {"Parameter": {"Name": Name, "Value": self.parameters[Name]}}

    def get_parameters(self, Names: list[str], WithDecryption: bool) -> dict[str, Any]:  # noqa: N803
        assert WithDecryption
        return {
            "Parameters": [{"Name": n, "Value": self.parameters[n]} for n in Names if n in self.parameters]
        }


@dataclass(frozen=True)
class StackWithFakeSsm(StackConfig):
    ssm: FakeSsm = field(default_factory=lambda: FakeSsm({}))

    def client(self, service: str) -> Any:
        assert service == "ssm"
        return self.ssm


def every_parameter(passwords: dict[str, str]) -> dict[str, str]:
    values = {names.DEFAULT_API_KEY_PARAMETER: API_KEY}
    for country in names.COUNTRIES:
        for leaf, name in names.db_parameter_names(PREFIX, country).items():
            values[name] = passwords.get(country, "generated") if leaf == "password" else leaf
    return values


class Built(Exception):
    """Raised by the build: deploy got past its checks."""


@pytest.fixture(autouse=True)
def build_stops_the_deploy(monkeypatch: pytest.MonkeyPatch) -> None:
    def built(*_: Any) -> Any:
        raise Built

    monkeypatch.setattr(packaging, "build", built)


def test_a_local_password_on_aws_is_named_and_refused() -> None:
    local = LOCAL_COUNTRY_DATABASES[0]
    passwords = {password_parameter(local.country): local.password, "/elsewhere": "generated"}

    assert deploy.local_passwords_among(passwords, to_aws=True) == [password_parameter(local.country)]


def test_any_countrys_local_password_is_refused_in_any_country() -> None:
    first, second = LOCAL_COUNTRY_DATABASES[:2]
    passwords = {password_parameter(first.country): second.password}

    assert deploy.local_passwords_among(passwords, to_aws=True) == [password_parameter(first.country)]


def test_generated_passwords_on_aws_pass() -> None:
    passwords = {password_parameter(c): f"generated-{c}" for c in names.COUNTRIES}

    assert deploy.local_passwords_among(passwords, to_aws=True) == []


def test_on_a_local_engine_the_local_passwords_are_the_right_ones() -> None:
    passwords = {password_parameter(db.country): db.password for db in LOCAL_COUNTRY_DATABASES}

    assert deploy.local_passwords_among(passwords, to_aws=False) == []


def test_a_deploy_to_aws_stops_before_the_build_on_a_local_password() -> None:
    local = LOCAL_COUNTRY_DATABASES[-1]
    config = StackWithFakeSsm(
        ssm=FakeSsm(every_parameter({local.country: local.password})), database_tls="off"
    )

    with pytest.raises(KitError, match=password_parameter(local.country)) as refused:
        deploy.deploy(config, Progress(quiet=True))
    assert local.password not in str(refused.value)


def test_a_deploy_to_aws_with_generated_passwords_goes_on_to_the_build() -> None:
    config = StackWithFakeSsm(ssm=FakeSsm(every_parameter({})), database_tls="off")

    with pytest.raises(Built):
        deploy.deploy(config, Progress(quiet=True))


def test_a_deploy_to_a_local_engine_with_the_local_passwords_goes_on_to_the_build() -> None:
    local = {db.country: db.password for db in LOCAL_COUNTRY_DATABASES}
    config = StackWithFakeSsm(
        engine_url="http://127.0.0.1:4566", ssm=FakeSsm(every_parameter(local)), database_tls="off"
    )

    with pytest.raises(Built):
        deploy.deploy(config, Progress(quiet=True))


@pytest.mark.parametrize(
    ("stored", "says"),
    [
        ("x", "16 characters or more"),
        ('{"portal": "' + API_KEY + '", "portal": "other-api-key-0123456789"}', "named twice"),
    ],
    ids=["one-character-key", "a-client-named-twice"],
)
def test_a_deploy_stops_before_the_build_on_an_api_key_parameter_the_function_would_refuse(
    stored: str, says: str
) -> None:
    parameters = {**every_parameter({}), names.DEFAULT_API_KEY_PARAMETER: stored}
    config = StackWithFakeSsm(ssm=FakeSsm(parameters), database_tls="off")

    with pytest.raises(KitError, match=says) as refused:
        deploy.deploy(config, Progress(quiet=True))
    assert names.DEFAULT_API_KEY_PARAMETER in str(refused.value)
    assert API_KEY not in str(refused.value)


def test_a_deploy_to_aws_without_database_tls_warns_that_passwords_and_appointments_travel_in_plain_text(
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = StackWithFakeSsm(ssm=FakeSsm(every_parameter({})), database_tls="off")

    with pytest.raises(Built):
        deploy.deploy(config, Progress(quiet=True))

    warning = capsys.readouterr().err
    assert warning.startswith("warning: DATABASE_TLS=off: ")
    assert "plain text" in warning
    assert "DATABASE_TLS=verify" in warning


def test_a_deploy_to_a_local_engine_without_database_tls_or_to_aws_with_it_warns_of_nothing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    local = {db.country: db.password for db in LOCAL_COUNTRY_DATABASES}
    config = StackWithFakeSsm(
        engine_url="http://127.0.0.1:4566", ssm=FakeSsm(every_parameter(local)), database_tls="off"
    )

    with pytest.raises(Built):
        deploy.deploy(config, Progress(quiet=True))

    assert capsys.readouterr().err == ""
    assert deploy.plaintext_database_warning(StackConfig(region="eu-west-1", database_tls="verify")) is None
