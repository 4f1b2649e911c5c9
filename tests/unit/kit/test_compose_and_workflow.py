"""docker-compose.yml and the GitHub workflow cannot run here (no Docker engine, no GitHub): they
are validated against their published JSON schemas (tests/schemas/) and their wiring is asserted."""

from __future__ import annotations

import re
from typing import Any

import pytest

from bootstrap.config import ROOT
from bootstrap.engines import localstack as bootstrap_localstack
from bootstrap.stack import database
from tests.support.documents import interpolate, load_yaml, validate


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
        match = re.fullmatch(r"\$\{[A-Z_]+_IMAGE:-([^}@]+)(@sha256:[0-9a-f]{64})?\}", image)
        assert match, f"{name}: {image} is not overridable, or its digest is not a sha256"
        assert re.search(r":\d+\.\d+\.\d+$", match.group(1)), f"{name}: {match.group(1)} is not an exact tag"


def test_mysql_is_pulled_by_digest_in_compose_and_in_ci(compose: dict[str, Any]) -> None:
    """The digest `make pin-images` writes; the same image for the local stack and for CI."""
    workflow = load_yaml(ROOT / ".github" / "workflows" / "ci.yml")
    pinned = interpolate(compose["services"]["mysql"]["image"], {})

    assert re.fullmatch(r"mysql:\d+\.\d+\.\d+@sha256:[0-9a-f]{64}", pinned)
    assert workflow["jobs"]["test"]["services"]["mysql"]["image"] == pinned


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
    assert "-m bootstrap up" in (ROOT / "localstack" / "provision.sh").read_text()


def test_mysql_is_initialised_with_every_script_the_kit_applies_in_the_same_order(
    compose: dict[str, Any],
) -> None:
    """The image runs the files of /docker-entrypoint-initdb.d in name order and reads no
    subfolder: each local users script is mounted there by its own name. The schemas are the
    migrations', which the bootstrap applies (the `provision` service), so none is mounted."""
    mounted = {
        source: target
        for source, target, _ in (
            volume.split(":") for volume in compose["services"]["mysql"]["volumes"] if ":" in volume
        )
        if target.startswith("/docker-entrypoint-initdb.d/")
    }
    scripts = [f"./{script.relative_to(ROOT)}" for script in database.mysql_init_scripts()]

    assert list(mounted) == scripts
    assert sorted(mounted.values()) == list(mounted.values())
    assert all(volume.endswith(":ro") for volume in compose["services"]["mysql"]["volumes"])


def test_localstack_gets_the_token_and_puts_lambdas_on_the_mysql_network(compose: dict[str, Any]) -> None:
    localstack = compose["services"]["localstack"]
    network = compose["networks"]["kit"]["name"]

    assert localstack["environment"]["LOCALSTACK_AUTH_TOKEN"].startswith("${LOCALSTACK_AUTH_TOKEN")
    assert localstack["environment"]["LAMBDA_DOCKER_NETWORK"] == network == bootstrap_localstack.NETWORK
    for name in ("localstack", "mysql", "provision"):
        assert compose["services"][name]["networks"] == ["kit"]
    # The functions reach MySQL by its compose name: that is the host written to SSM.
    assert compose["services"]["provision"]["environment"]["LAMBDA_MYSQL_HOST"] == "mysql"


def test_the_docker_socket_is_a_variable_with_dockers_usual_path_as_default(compose: dict[str, Any]) -> None:
    [socket] = compose["services"]["localstack"]["volumes"]

    assert socket == "${DOCKER_SOCK:-/var/run/docker.sock}:/var/run/docker.sock"
    assert interpolate(socket, {}) == "/var/run/docker.sock:/var/run/docker.sock"
    rootless = {"DOCKER_SOCK": "/run/user/1000/docker.sock"}
    assert interpolate(socket, rootless) == "/run/user/1000/docker.sock:/var/run/docker.sock"


def test_localstack_polls_idle_queues_often_and_gives_cold_containers_time(compose: dict[str, Any]) -> None:
    environment = compose["services"]["localstack"]["environment"]

    # Each SQS hop of the flow waits up to this after an empty poll (LocalStack's default: 10 s).
    assert float(environment["LAMBDA_EVENT_SOURCE_MAPPING_MAX_BACKOFF_ON_EMPTY_POLL_SEC"]) <= 1
    # Twenty containers starting at once must not hit LocalStack's default of 20 s.
    assert int(environment["LAMBDA_RUNTIME_ENVIRONMENT_TIMEOUT"]) >= 60


def test_services_get_time_to_stop_cleanly(compose: dict[str, Any]) -> None:
    for name in ("localstack", "mysql"):
        grace = compose["services"][name]["stop_grace_period"]
        assert re.fullmatch(r"\d+s", grace), name
        assert int(grace[:-1]) >= 30, name


def test_provisioning_runs_as_the_host_user_on_x86_64_and_prints_the_hosts_url(
    compose: dict[str, Any],
) -> None:
    provision = compose["services"]["provision"]
    environment = provision["environment"]

    assert provision["platform"] == "linux/amd64"
    assert provision["user"] == "${HOST_UID:-1000}:${HOST_GID:-1000}"
    assert interpolate(provision["user"], {"HOST_UID": "501", "HOST_GID": "20"}) == "501:20"
    assert environment["HOME"].startswith("/tmp/")  # noqa: S108 (a user without a passwd entry can write there)
    assert 'mkdir -p "$HOME"' in (ROOT / "localstack" / "provision.sh").read_text()
    assert environment["ENGINE_URL"] == "http://localstack:4566"
    assert interpolate(environment["PUBLIC_ENGINE_URL"], {"ENGINE_PORT": "4567"}) == "http://127.0.0.1:4567"
    assert interpolate(compose["services"]["localstack"]["ports"][0], {"ENGINE_PORT": "4567"}).startswith(
        "127.0.0.1:4567:"
    )


def test_every_variable_of_the_compose_file_has_a_default_and_the_result_follows_the_spec(
    compose: dict[str, Any],
) -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    variables = re.findall(r"(?<!\$)\$\{([^}]*)\}", text)

    assert variables
    assert [v for v in variables if ":-" not in v] == []
    validate(interpolate(compose, {}), "compose-spec.json")


def test_env_example_names_the_pinned_localstack_image(compose: dict[str, Any]) -> None:
    default = re.fullmatch(r"\$\{LOCALSTACK_IMAGE:-([^}]+)\}", compose["services"]["localstack"]["image"])

    assert default
    assert f"# LOCALSTACK_IMAGE={default.group(1)}" in (ROOT / ".env.example").read_text().splitlines()


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
    [cache] = [step for step in job["steps"] if step.get("uses", "").startswith("actions/cache@")]
    assert cache["with"]["path"] == "~/.cache/uv"  # uv's downloads, kept while the locks stay the same
    assert "hashFiles('requirements/*.txt')" in cache["with"]["key"]


def test_the_localstack_job_runs_the_path_only_with_the_token_secret_and_says_when_skipped() -> None:
    workflow = load_yaml(ROOT / ".github" / "workflows" / "ci.yml")

    validate(workflow, "github-workflows.json")
    job = workflow["jobs"]["localstack"]
    assert "if" not in job  # secrets cannot be read there: a step decides
    assert job["env"]["LOCALSTACK_AUTH_TOKEN"] == "${{ secrets.LOCALSTACK_AUTH_TOKEN }}"  # noqa: S105
    gate, *steps = job["steps"]
    assert gate["id"] == "token"
    assert "$LOCALSTACK_AUTH_TOKEN" in gate["run"]
    assert "::notice" in gate["run"]
    assert "skipped" in gate["run"]
    assert "$GITHUB_STEP_SUMMARY" in gate["run"]
    for step in steps:
        assert "steps.token.outputs.present == 'true'" in step["if"], step
    runs = [step.get("run") for step in steps]
    assert runs.index("make up ENGINE=localstack") < runs.index("make e2e") < runs.index("make down")
    [down] = [step for step in steps if step.get("run") == "make down"]
    assert down["if"].startswith("always()")


PINNED_ACTION = re.compile(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}")


def workflow_steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def test_the_workflow_token_can_only_read_and_every_action_is_pinned_by_commit() -> None:
    """A tag can be moved to other code; a commit cannot. The tag stays readable in a comment."""
    text = (ROOT / ".github" / "workflows" / "ci.yml").read_text()
    workflow = load_yaml(ROOT / ".github" / "workflows" / "ci.yml")

    assert workflow["permissions"] == {"contents": "read"}
    used = [step["uses"] for step in workflow_steps(workflow) if "uses" in step]
    assert used
    assert [action for action in used if not PINNED_ACTION.fullmatch(action)] == []
    for action in used:
        assert re.search(rf"uses: {re.escape(action)} # v\d+\.\d+\.\d+\n", text), f"{action}: no tag comment"


def test_checkout_leaves_no_token_in_the_clone() -> None:
    workflow = load_yaml(ROOT / ".github" / "workflows" / "ci.yml")
    checkouts = [s for s in workflow_steps(workflow) if s.get("uses", "").startswith("actions/checkout@")]

    assert len(checkouts) == 2
    assert all(step["with"]["persist-credentials"] is False for step in checkouts)


@pytest.mark.parametrize(
    "unpinned", ["actions/checkout@v4", "actions/checkout@main", "actions/checkout@11d5960"]
)
def test_the_pin_check_refuses_a_tag_a_branch_and_a_short_sha(unpinned: str) -> None:
    assert not PINNED_ACTION.fullmatch(unpinned)
