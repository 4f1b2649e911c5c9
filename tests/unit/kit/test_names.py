"""The template against bootstrap/names.py: every name the kit, the tests and bench/ read from the
stack is one the template gives, for every country, and every function the kit knows is the one
the template deploys. A new country is the enum, its resources in the template and its user in
mysql-init/local/: these tests say which of those is missing."""

from __future__ import annotations

import re
from typing import Any

import pytest

from appointments.adapters.ssm import DB_PARAMETER_NAMES
from appointments.domain import Country
from bootstrap import names
from bootstrap.config import (
    LOCAL_COUNTRY_DATABASES,
    MIGRATIONS,
    MYSQL_LOCAL_USERS,
    KitConfig,
    KitError,
)
from bootstrap.ops import trace
from bootstrap.stack import parameters
from tests.support.template import load_template

STAGE = "${Stage}"  # as the template writes it
STACK = names.stack_name(STAGE)


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    decoded = load_template()
    return dict(decoded)


def referenced(template: dict[str, Any], output: str) -> str:
    """The logical id of the resource an output names (`Value: !Ref Resource`)."""
    value = template["Outputs"][output]["Value"]
    assert set(value) == {"Ref"}, f"{output} is not a !Ref of a resource: {value}"
    return str(value["Ref"])


def resource(template: dict[str, Any], logical_id: str, kind: str) -> dict[str, Any]:
    body = template["Resources"][logical_id]
    assert body["Type"] == kind, logical_id
    return dict(body["Properties"])


def test_every_output_key_the_kit_reads_is_an_output_of_the_template(template: dict[str, Any]) -> None:
    assert sorted(names.OUTPUT_KEYS - set(template["Outputs"])) == []


@pytest.mark.parametrize("pair", names.QUEUES.values(), ids=list(names.QUEUES))
def test_each_queue_output_names_a_queue_whose_dead_letter_queue_is_its_pair(
    template: dict[str, Any], pair: names.QueuePair
) -> None:
    queue = resource(template, referenced(template, pair.queue_output), "AWS::SQS::Queue")
    dead_letter = referenced(template, pair.dead_letter_output)

    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": [dead_letter, "Arn"]}
    assert queue["QueueName"] == {"Fn::Sub": pair.queue_name(STAGE)}
    assert resource(template, dead_letter, "AWS::SQS::Queue")["QueueName"] == {
        "Fn::Sub": pair.dead_letter_queue_name(STAGE)
    }


@pytest.mark.parametrize("country", names.COUNTRIES)
def test_each_country_has_its_subscription_queue_and_processor(
    template: dict[str, Any], country: str
) -> None:
    queue = referenced(template, names.queue_output(country))
    processor = referenced(template, names.processor_function_output(country))
    resources = template["Resources"].values()

    routes = [
        body["Properties"]["FilterPolicy"]
        for body in resources
        if body["Type"] == "AWS::SNS::Subscription"
        and body["Properties"]["Endpoint"] == {"Fn::GetAtt": [queue, "Arn"]}
    ]
    assert routes == [{"countryISO": [country]}]
    mappings = [
        body["Properties"]["FunctionName"]
        for body in resources
        if body["Type"] == "AWS::Lambda::EventSourceMapping"
        and body["Properties"]["EventSourceArn"] == {"Fn::GetAtt": [queue, "Arn"]}
    ]
    assert mappings == [{"Ref": processor}]
    environment = resource(template, processor, "AWS::Lambda::Function")["Environment"]["Variables"]
    assert environment["COUNTRY_ISO"] == country
    assert environment["DB_PARAMETERS_PATH"] == {
        "Fn::Sub": names.db_parameters_path("${DbParametersPrefix}", country)
    }


def test_the_template_deploys_the_functions_of_the_list_with_their_handlers_and_zips(
    template: dict[str, Any],
) -> None:
    deployed = {
        logical_id
        for logical_id, body in template["Resources"].items()
        if body["Type"] == "AWS::Lambda::Function"
    }
    listed = {}
    for function in names.FUNCTIONS:
        logical_id = referenced(template, function.output)
        properties = resource(template, logical_id, "AWS::Lambda::Function")
        listed[logical_id] = (properties["Handler"], properties["Code"]["S3Key"])
        # `make logs` names a function by what follows the stack's name
        assert properties["FunctionName"]["Fn::Sub"].startswith(f"{STACK}-"), function

    assert set(listed) == deployed
    assert listed == {
        referenced(template, f.output): (f.handler, {"Ref": names.code_key_parameter(f.zip)})
        for f in names.FUNCTIONS
    }
    assert {names.code_key_parameter(z) for z in names.ZIPS} <= set(template["Parameters"])


def test_the_parameter_defaults_are_the_kits(template: dict[str, Any]) -> None:
    parameters = template["Parameters"]

    assert parameters["DbParametersPrefix"]["Default"] == names.DEFAULT_DB_PARAMETERS_PREFIX
    assert parameters["ApiKeyParameter"]["Default"] == names.DEFAULT_API_KEY_PARAMETER


@pytest.mark.parametrize("country", names.COUNTRIES)
def test_the_local_folder_creates_each_countrys_user_with_rights_on_its_schema_only(country: str) -> None:
    local_users = "\n".join(script.read_text() for script in sorted(MYSQL_LOCAL_USERS.glob("*.sql")))

    assert f"CREATE USER IF NOT EXISTS '{names.mysql_user(country)}'@'%'" in local_users
    assert (
        f"GRANT SELECT, INSERT ON {names.schema(country)}.* TO '{names.mysql_user(country)}'@'%'"
        in local_users
    )


def test_the_migrations_a_real_server_gets_hold_no_user_no_password_and_no_schema_name() -> None:
    """One set for every country: each runs in the schema it is applied to."""
    for script in MIGRATIONS.glob("*.sql"):
        statements = re.sub(r"--[^\n]*", "", script.read_text()).upper()

        assert "CREATE USER" not in statements, script.name
        assert "IDENTIFIED" not in statements, script.name
        assert "GRANT" not in statements, script.name
        for country in names.COUNTRIES:
            assert names.schema(country).upper() not in statements, script.name


def test_the_local_users_passwords_are_the_ones_the_kit_writes_to_ssm() -> None:
    local_users = "\n".join(script.read_text() for script in sorted(MYSQL_LOCAL_USERS.glob("*.sql")))

    for database in LOCAL_COUNTRY_DATABASES:
        assert f"'{database.user}'@'%' IDENTIFIED BY '{database.password}'" in local_users


def test_the_kit_writes_every_database_parameter_the_processor_reads() -> None:
    config = KitConfig.from_env({})

    for database in LOCAL_COUNTRY_DATABASES:
        assert set(parameters.db_parameter_values(config, database)) == set(DB_PARAMETER_NAMES)
        assert list(names.db_parameter_names("/p", database.country)) == list(DB_PARAMETER_NAMES)


def test_every_country_has_its_schema_and_user_in_the_fixed_table() -> None:
    assert list(names.SCHEMAS) == list(names.MYSQL_USERS) == list(Country)
    assert all(
        re.fullmatch(r"[a-z_]+", name) for name in [*names.SCHEMAS.values(), *names.MYSQL_USERS.values()]
    )


@pytest.mark.parametrize("stored", ["PE; DROP DATABASE mysql_pe", "pe`", "AR", "", None, ["PE"]])
def test_trace_refuses_a_stored_country_outside_the_table_before_any_sql(
    stored: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_connection(*_: object) -> None:
        raise AssertionError("no SQL may be sent for this appointment")

    monkeypatch.setattr(trace, "admin_connection", no_connection)
    appointment = {"appointmentId": "01ARZ3NDEKTSV4RRFFQ69G5FAV", "countryISO": stored}

    with pytest.raises(KitError, match="unknown country"):
        trace._mysql_hop(KitConfig.from_env({}), appointment)


def test_a_country_is_named_in_either_case_and_an_unknown_one_is_refused() -> None:
    assert names.schema("PE") == names.schema("pe") == "mysql_pe"
    assert names.processor_function_output("cl") == "ClProcessorFunctionName"
    with pytest.raises(ValueError, match="'AR'"):
        names.schema("AR")


def test_make_up_warms_as_many_queue_workers_as_each_mapping_runs_at_once() -> None:
    from bootstrap.stack import warm

    template = load_template()
    mappings = [
        body["Properties"]
        for body in template["Resources"].values()
        if body["Type"] == "AWS::Lambda::EventSourceMapping"
    ]

    assert mappings
    assert {m["ScalingConfig"]["MaximumConcurrency"] for m in mappings} == {warm.QUEUE_MAPPING_CONCURRENCY}
