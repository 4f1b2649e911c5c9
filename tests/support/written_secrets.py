"""The secrets tests write (API keys put into a parameter), kept for the audit that scans every log
line the run left: a file under .local/, appended to by any pytest-xdist worker. And every secret
the kit knows, which no log line and no console page may show."""

from __future__ import annotations

import json

from bootstrap import names
from bootstrap.config import LOCAL_COUNTRY_DATABASES, STATE_DIR, open_private, private_dir
from tests.support import stages

WRITTEN = STATE_DIR / "test-stages" / "written-secrets"


def remember(*secrets: str) -> None:
    private_dir(WRITTEN.parent)
    with open_private(WRITTEN, "a") as kept:
        for secret in secrets:
            kept.write(json.dumps(secret) + "\n")  # one line each, whatever the secret holds


def remember_keys(parameter_value: str) -> None:
    """Each key of an API key parameter's value: one key, or a JSON object of named keys."""
    try:
        named = json.loads(parameter_value)
    except ValueError:
        named = None
    remember(*(named.values() if isinstance(named, dict) else [parameter_value]))


def written() -> list[str]:
    if not WRITTEN.exists():
        return []
    return [json.loads(line) for line in WRITTEN.read_text().splitlines() if line.strip()]


def forget_written() -> None:
    """A new session: what earlier sessions wrote was scanned by their audits."""
    WRITTEN.unlink(missing_ok=True)


def known_secrets(api_key: str) -> list[str]:
    """The database passwords (the kit's users', each test stage's), the API key `make up` made
    (`api_key`), each stage's and every key a test wrote."""
    stage_passwords = [
        stages.mysql_password(stages.mysql_user(spec, country))
        for spec in stages.STAGES.values()
        for country in names.COUNTRIES
    ]
    return [
        *(database.password for database in LOCAL_COUNTRY_DATABASES),
        *stage_passwords,
        api_key,
        *(stages.api_key(spec) for spec in stages.STAGES.values()),
        *written(),
    ]
