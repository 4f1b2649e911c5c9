"""docker-compose.yml and the GitHub workflow cannot run here (no Docker engine, no GitHub): they
are validated against their published JSON schemas (tests/schemas/) and their wiring is asserted."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from bootstrap.config import ROOT

SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"


def load_yaml(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text())
    if True in document:  # YAML 1.1 reads the workflow's `on:` key as a boolean
        document["on"] = document.pop(True)
    return dict(document)


def validate(document: dict[str, Any], schema_file: str) -> None:
    schema = json.loads((SCHEMAS / schema_file).read_text())
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    errors = sorted(validator_class(schema).iter_errors(document), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load_yaml(ROOT / "docker-compose.yml")


def test_the_compose_file_follows_the_compose_specification(compose: dict[str, Any]) -> None:
    validate(compose, "compose-spec.json")


def test_the_schema_check_catches_a_broken_compose_file(compose: dict[str, Any]) -> None:
    broken = {**compose, "services": {"localstack": {"image": "x", "health_check": {"retries": 3}}}}

    with pytest.raises(AssertionError, match="health_check"):
        validate(broken, "compose-spec.json")


def test_images_are_pinned_to_exact_tags_and_overridable(compose: dict[str, Any]) -> None:
    for name in ("localstack", "mysql"):
        image = compose["services"][name]["image"]
        match = re.fullmatch(r"\$\{[A-Z_]+_IMAGE:-([^}]+)\}", image)
        assert match, f"{name}: {image} is not overridable"
        assert re.search(r":\d+\.\d+\.\d+$", match.group(1)), f"{name}: {match.group(1)} is not an exact tag"


def test_localstack_and_mysql_have_health_checks_and_provisioning_waits_for_both(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]

    for name in ("localstack", "mysql"):
        assert services[name]["healthcheck"]["test"], name
    assert services["provision"]["depends_on"] == {
        "localstack": {"condition": "service_healthy"},
        "mysql": {"condition": "service_healthy"},
    }
    assert services["provision"]["command"] == ["sh", "localstack/provision.sh"]
    assert "python -m bootstrap up" in (ROOT / "localstack" / "provision.sh").read_text()


def test_mysql_is_initialised_from_mysql_init(compose: dict[str, Any]) -> None:
    assert "./mysql-init:/docker-entrypoint-initdb.d:ro" in compose["services"]["mysql"]["volumes"]
    assert any((ROOT / "mysql-init").glob("*.sql"))


def test_localstack_gets_the_token_and_puts_lambdas_on_the_mysql_network(compose: dict[str, Any]) -> None:
    localstack = compose["services"]["localstack"]
    network = compose["networks"]["kit"]["name"]

    assert localstack["environment"]["LOCALSTACK_AUTH_TOKEN"].startswith("${LOCALSTACK_AUTH_TOKEN")
    assert localstack["environment"]["LAMBDA_DOCKER_NETWORK"] == network
    assert "/var/run/docker.sock:/var/run/docker.sock" in localstack["volumes"]
    for name in ("localstack", "mysql", "provision"):
        assert compose["services"][name]["networks"] == ["kit"]
    # The functions reach MySQL by its compose name: that is the host written to SSM.
    assert compose["services"]["provision"]["environment"]["LAMBDA_MYSQL_HOST"] == "mysql"


def test_the_token_has_a_documented_place_that_git_ignores() -> None:
    assert "LOCALSTACK_AUTH_TOKEN=" in (ROOT / ".env.example").read_text()
    assert ".env" in (ROOT / ".gitignore").read_text().splitlines()


def test_the_github_workflow_follows_its_schema_and_runs_make_test_with_mysql() -> None:
    workflow = load_yaml(ROOT / ".github" / "workflows" / "ci.yml")

    validate(workflow, "github-workflows.json")
    job = workflow["jobs"]["test"]
    assert job["services"]["mysql"]["image"].startswith("mysql:8.4")
    assert "--health-cmd" in job["services"]["mysql"]["options"]
    assert job["env"]["MYSQL_PASSWORD"] == job["services"]["mysql"]["env"]["MYSQL_ROOT_PASSWORD"]
    assert [step.get("run") for step in job["steps"]][-1] == "make test"
