"""TLS from the processors to MySQL: on AWS the server's certificate is checked against a CA bundle
that rides in the zip. A deploy without a usable bundle stops before anything is built, and a
processor without one stops at its cold start, naming the file (never a plain-text fallback)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from appointments.adapters.mysql import MySqlCountryUnitOfWork
from appointments.settings import ProcessorSettings, SettingsError, load_settings
from bootstrap.config import KitConfig, KitError, StackConfig
from bootstrap.progress import Progress
from bootstrap.stack import deploy
from tests.support.certificates import Authority

PROCESSOR_ENVIRONMENT = {
    "COUNTRY_ISO": "PE",
    "DB_PARAMETERS_PATH": "/rimac/db/pe",
    "EVENT_BUS_NAME": "appointments",
}


def a_ca_certificate(path: Path) -> Path:
    return Authority("test database CA").bundle(path)


def test_a_missing_bundle_is_named_with_where_to_get_it(tmp_path: Path) -> None:
    problem = deploy.ca_bundle_problem(tmp_path / "mysql-ca.pem")

    assert problem is not None
    assert str(tmp_path / "mysql-ca.pem") in problem
    assert deploy.RDS_CA_BUNDLE_URL in problem


def test_a_file_that_holds_no_certificate_is_refused(tmp_path: Path) -> None:
    bundle = tmp_path / "mysql-ca.pem"
    bundle.write_text("<html>not found</html>\n")

    assert deploy.ca_bundle_problem(bundle) is not None


def test_a_real_ca_certificate_passes(tmp_path: Path) -> None:
    assert deploy.ca_bundle_problem(a_ca_certificate(tmp_path / "mysql-ca.pem")) is None


class Built(Exception):
    pass


def test_a_verified_deploy_without_a_bundle_stops_before_any_aws_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(deploy, "CA_BUNDLE", tmp_path / "absent.pem")

    class NoCalls(StackConfig):
        def client(self, service: str) -> object:
            raise AssertionError(f"{service} was called")

    with pytest.raises(KitError, match=re.escape("absent.pem")):
        deploy.deploy(NoCalls(), Progress(quiet=True))


def test_the_deploy_default_is_verify_and_the_local_kit_default_is_off() -> None:
    assert StackConfig().database_tls == "verify"
    assert KitConfig.from_env({}).database_tls == "off"
    with pytest.raises(KitError, match="DATABASE_TLS"):
        KitConfig.from_env({"DATABASE_TLS": "prefer"})


def test_a_processor_told_to_verify_without_a_bundle_stops_at_its_cold_start(tmp_path: Path) -> None:
    missing = tmp_path / "mysql-ca.pem"

    with pytest.raises(SettingsError, match=re.escape("mysql-ca.pem")):
        load_settings(ProcessorSettings, {**PROCESSOR_ENVIRONMENT, "DB_TLS_CA_FILE": str(missing)})


def test_verify_is_the_processors_default_and_hands_the_bundle_to_the_connection(tmp_path: Path) -> None:
    bundle = a_ca_certificate(tmp_path / "mysql-ca.pem")

    settings = load_settings(ProcessorSettings, {**PROCESSOR_ENVIRONMENT, "DB_TLS_CA_FILE": str(bundle)})

    assert settings.tls_ca == bundle
    assert MySqlCountryUnitOfWork._tls_arguments(settings.tls_ca) == {
        "ssl_ca": str(bundle),
        "ssl_verify_cert": True,
        "ssl_verify_identity": True,
    }


def test_off_connects_in_plain_text() -> None:
    settings = load_settings(ProcessorSettings, {**PROCESSOR_ENVIRONMENT, "DB_TLS": "off"})

    assert settings.tls_ca is None
    assert MySqlCountryUnitOfWork._tls_arguments(None) == {}
