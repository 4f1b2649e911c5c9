from __future__ import annotations

import pytest

from appointments.domain import Country
from appointments.settings import ProcessorSettings, SettingsError, load_settings
from bootstrap import names


def parameters_path(country: Country) -> str:
    return names.db_parameters_path(names.DEFAULT_DB_PARAMETERS_PREFIX, country)


def test_settings_are_read_from_the_environment() -> None:
    settings = load_settings(
        ProcessorSettings,
        {
            "COUNTRY_ISO": "CL",
            "DB_PARAMETERS_PATH": parameters_path(Country.CL),
            "EVENT_BUS_NAME": "bus",
            "DB_TLS": "off",
            "OTHER": "x",
        },
    )

    assert settings.COUNTRY_ISO is Country.CL
    assert settings.DB_PARAMETERS_MAX_AGE == 300


def test_a_missing_variable_is_named_in_the_error() -> None:
    with pytest.raises(SettingsError, match=r"EVENT_BUS_NAME: missing environment variable"):
        load_settings(
            ProcessorSettings, {"COUNTRY_ISO": "PE", "DB_PARAMETERS_PATH": parameters_path(Country.PE)}
        )


def test_a_bad_country_is_refused_at_cold_start() -> None:
    with pytest.raises(SettingsError, match=r"COUNTRY_ISO: Input should be 'PE' or 'CL'"):
        load_settings(
            ProcessorSettings, {"COUNTRY_ISO": "AR", "DB_PARAMETERS_PATH": "/p", "EVENT_BUS_NAME": "bus"}
        )
