"""Static checks of the CloudFormation template: the wiring the flow depends on."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from aws_lambda_powertools.shared.constants import TRACER_CAPTURE_ERROR_ENV, TRACER_CAPTURE_RESPONSE_ENV

from appointments.hand_over import RESERVED_SECONDS
from bootstrap import names
from bootstrap.config import KitError, StackConfig
from bootstrap.stack.provision import stack_parameters
from tests.support.template import load_template


@pytest.fixture(scope="module")
def resources() -> dict[str, dict[str, Any]]:
    template = load_template()
    return {name: dict(body) for name, body in template["Resources"].items()}


@pytest.fixture(scope="module")
def parameters() -> dict[str, dict[str, Any]]:
    template = load_template()
    return {name: dict(body) for name, body in template["Parameters"].items()}


def of_type(resources: dict[str, dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {name: body for name, body in resources.items() if body["Type"] == kind}


def test_every_work_queue_has_its_own_dead_letter_queue(resources: dict[str, dict[str, Any]]) -> None:
    queues = of_type(resources, "AWS::SQS::Queue")
    work = {name: q for name, q in queues.items() if not name.endswith("DeadLetterQueue")}

    assert sorted(work) == ["CallbackQueue", "ClQueue", "PeQueue"]
    targets = [
        q["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0] for q in work.values()
    ]
    assert sorted(targets) == ["CallbackDeadLetterQueue", "ClDeadLetterQueue", "PeDeadLetterQueue"]


def test_each_country_queue_is_fed_by_a_filtered_raw_subscription(
    resources: dict[str, dict[str, Any]],
) -> None:
    subscriptions = of_type(resources, "AWS::SNS::Subscription")
    routes = {
        body["Properties"]["Endpoint"]["Fn::GetAtt"][0]: body["Properties"]["FilterPolicy"]["countryISO"]
        for body in subscriptions.values()
    }

    assert routes == {"PeQueue": ["PE"], "ClQueue": ["CL"]}
    for body in subscriptions.values():
        assert body["Properties"]["RawMessageDelivery"] is True
        assert body["Properties"]["FilterPolicyScope"] == "MessageAttributes"


def test_every_queue_consumer_reports_partial_batch_failures(resources: dict[str, dict[str, Any]]) -> None:
    mappings = of_type(resources, "AWS::Lambda::EventSourceMapping")

    assert len(mappings) == len(names.QUEUES)
    for body in mappings.values():
        assert body["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_every_queue_consumer_runs_a_bounded_number_of_batches_at_once(
    resources: dict[str, dict[str, Any]],
) -> None:
    mappings = of_type(resources, "AWS::Lambda::EventSourceMapping")

    for body in mappings.values():
        # A number, not a parameter: the local engine keeps a Ref's value as a string and its poller
        # then fails comparing it, for every mapping.
        assert body["Properties"]["ScalingConfig"] == {"MaximumConcurrency": 3}


def test_the_processor_code_is_deployed_once_per_country(resources: dict[str, dict[str, Any]]) -> None:
    functions = of_type(resources, "AWS::Lambda::Function")
    processors = {n: f["Properties"] for n, f in functions.items() if "Processor" in n}

    assert sorted(processors) == ["ClProcessorFunction", "PeProcessorFunction"]
    assert {p["Handler"] for p in processors.values()} == {
        f.handler for f in names.functions_in(names.PROCESSOR_ZIP)
    }
    assert {p["Environment"]["Variables"]["COUNTRY_ISO"] for p in processors.values()} == set(names.COUNTRIES)


def test_each_function_has_a_role_of_its_own(resources: dict[str, dict[str, Any]]) -> None:
    functions = of_type(resources, "AWS::Lambda::Function")
    roles = [f["Properties"]["Role"]["Fn::GetAtt"][0] for f in functions.values()]

    assert len(functions) == len(names.FUNCTIONS)
    assert len(set(roles)) == len(functions)


def test_the_reconciler_runs_every_minute_unless_told_on_the_created_and_outbox_indexes(
    resources: dict[str, dict[str, Any]], parameters: dict[str, dict[str, Any]]
) -> None:
    [schedule] = [
        rule["Properties"]
        for rule in of_type(resources, "AWS::Events::Rule").values()
        if "ScheduleExpression" in rule["Properties"]
    ]
    assert schedule["ScheduleExpression"] == {"Ref": "ReconcilerRate"}
    assert parameters["ReconcilerRate"]["Default"] == "rate(1 minute)"
    assert schedule["Targets"][0]["Arn"] == {"Fn::GetAtt": ["ReconcilerFunction", "Arn"]}
    indexes = {
        index["IndexName"]: index
        for index in resources["AppointmentsTable"]["Properties"]["GlobalSecondaryIndexes"]
    }
    assert [key["AttributeName"] for key in indexes["outbox"]["KeySchema"]] == ["outbox", "createdAt"]
    assert [key["AttributeName"] for key in indexes["created"]["KeySchema"]] == ["createdIn", "createdAt"]
    # keys only: the callback's settling write (status, time) writes the table, not this index
    assert indexes["created"]["Projection"] == {"ProjectionType": "KEYS_ONLY"}
    reconciler = resources["ReconcilerFunction"]["Properties"]["Environment"]["Variables"]
    assert reconciler["SWEEP_TABLE_NAME"] == {"Ref": "SweepTable"}


def test_the_reconciler_runs_one_at_a_time(resources: dict[str, dict[str, Any]]) -> None:
    reconciler = resources["ReconcilerFunction"]["Properties"]

    # A run still walking a backlog is never joined by a second one publishing the same items
    assert reconciler["ReservedConcurrentExecutions"] == 1
    # and it stops starting pages in time to report what it did
    assert reconciler["Timeout"] >= 3 * RESERVED_SECONDS


def test_the_reconciler_is_never_retried_asynchronously(resources: dict[str, dict[str, Any]]) -> None:
    [config] = of_type(resources, "AWS::Lambda::EventInvokeConfig").values()

    # the next minute's run is the retry; a throttled schedule event expires when the next comes
    assert config["Properties"] == {
        "FunctionName": {"Ref": "ReconcilerFunction"},
        "Qualifier": "$LATEST",
        "MaximumRetryAttempts": 0,
        "MaximumEventAgeInSeconds": 60,
    }


def policy_statements(resources: dict[str, dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (role_name, statement)
        for role_name, role in of_type(resources, "AWS::IAM::Role").items()
        for policy in role["Properties"].get("Policies", [])
        for statement in policy["PolicyDocument"]["Statement"]
    ]


def as_text(value: Any) -> str:
    """A resource as written: a plain ARN, or the string inside !Sub / the name inside !GetAtt/!Ref."""
    if isinstance(value, dict):
        (function, argument), *_ = value.items()
        if function == "Fn::Sub":
            return str(argument if isinstance(argument, str) else argument[0])
        return f"{function}:{argument}"
    return str(value)


def test_no_role_grants_a_wildcard_action(resources: dict[str, dict[str, Any]]) -> None:
    for role, statement in policy_statements(resources):
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        for action in actions:
            assert "*" not in action, f"{role}: {action}"


def test_no_role_grants_a_wildcard_resource_where_the_name_is_known(
    resources: dict[str, dict[str, Any]],
) -> None:
    for role, statement in policy_statements(resources):
        targets = (
            statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        )
        for target in map(as_text, targets):
            if "*" not in target:
                continue
            if target == "*" and all(action.startswith("xray:") for action in statement["Action"]):
                continue  # X-Ray offers no resource-level permissions
            # Log streams are named by Lambda at run time: the group is named, its streams are not.
            assert ":log-group:/aws/lambda/" in target, f"{role}: {target}"
            assert target.endswith(":*"), f"{role}: {target}"
            assert target.count("*") == 1, f"{role}: {target}"


def test_each_role_reaches_only_its_own_queue_and_country_parameters(
    resources: dict[str, dict[str, Any]],
) -> None:
    grants: dict[str, set[str]] = {}
    for role, statement in policy_statements(resources):
        grants.setdefault(role, set()).update(
            as_text(t)
            for t in (
                statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            )
        )

    assert "Fn::GetAtt:['PeQueue', 'Arn']" in grants["PeProcessorRole"]
    pe_parameters, cl_parameters = (names.db_parameters_path("", country) for country in ("PE", "CL"))
    assert not any("ClQueue" in g or cl_parameters in g for g in grants["PeProcessorRole"])
    assert not any("PeQueue" in g or pe_parameters in g for g in grants["ClProcessorRole"])
    assert not any("Queue" in g and "Callback" not in g for g in grants["CallbackFunctionRole"])


def test_every_function_is_traced_when_the_template_says_so(resources: dict[str, dict[str, Any]]) -> None:
    for name, function in of_type(resources, "AWS::Lambda::Function").items():
        properties = function["Properties"]
        assert properties["TracingConfig"]["Mode"] == {"Ref": "Tracing"}, name
        assert "POWERTOOLS_TRACE_DISABLED" in properties["Environment"]["Variables"], name


def test_the_build_probes_the_handler_module_each_function_runs(
    resources: dict[str, dict[str, Any]],
) -> None:
    from bootstrap.packaging import FUNCTIONS

    handlers = {
        body["Properties"]["Handler"].rsplit(".", 1)[0]
        for body in of_type(resources, "AWS::Lambda::Function").values()
    }
    assert handlers == {handler for function in FUNCTIONS for handler in function.handlers}


def test_both_api_flavours_throttle_and_the_http_function_cannot_take_all_the_concurrency(
    resources: dict[str, dict[str, Any]],
) -> None:
    limits = {
        "ThrottlingRateLimit": {"Ref": "ApiRateLimit"},
        "ThrottlingBurstLimit": {"Ref": "ApiBurstLimit"},
    }
    assert resources["HttpApiStage"]["Properties"]["DefaultRouteSettings"] == limits
    [every_method] = resources["RestApiStage"]["Properties"]["MethodSettings"]
    assert every_method == {"ResourcePath": "/*", "HttpMethod": "*", **limits}
    http = resources["HttpFunction"]["Properties"]
    assert http["ReservedConcurrentExecutions"] == {"Ref": "HttpReservedConcurrency"}


def test_the_processors_verify_mysqls_certificate_unless_told_otherwise(
    resources: dict[str, dict[str, Any]],
) -> None:
    template = load_template()
    processors = {
        name: r["Properties"]["Environment"]["Variables"]
        for name, r in of_type(resources, "AWS::Lambda::Function").items()
        if "DB_PARAMETERS_PATH" in r["Properties"]["Environment"]["Variables"]
    }

    assert template["Parameters"]["DatabaseTls"]["Default"] == "verify"
    assert len(processors) == len(names.COUNTRIES)
    assert all(variables["DB_TLS"] == {"Ref": "DatabaseTls"} for variables in processors.values())


class RecordingSubsegment:
    def __init__(self) -> None:
        self.metadata: dict[str, Any] = {}

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        self.metadata[key] = value

    def put_annotation(self, key: str, value: Any) -> None:
        return None


class RecordingProvider:
    """Stands in for the X-Ray recorder: keeps what powertools hands to each subsegment."""

    def __init__(self) -> None:
        self.subsegments: list[RecordingSubsegment] = []

    @contextmanager
    def in_subsegment(self, name: str | None = None, **kwargs: Any) -> Iterator[RecordingSubsegment]:
        subsegment = RecordingSubsegment()
        self.subsegments.append(subsegment)
        yield subsegment

    def put_annotation(self, key: str, value: Any) -> None:
        return None


def test_x_ray_gets_neither_a_handlers_answer_nor_its_exception(
    resources: dict[str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    from aws_lambda_powertools import Tracer

    def answer_with_a_list(event: dict[str, Any], context: object) -> dict[str, Any]:
        return {"items": [{"insuredId": "PE001", "status": "pending"}]}

    def fail_quoting_a_field(event: dict[str, Any], context: object) -> None:
        raise ValueError("Duplicate entry 'PE001-1' for key 'slot'")

    for name, function in of_type(resources, "AWS::Lambda::Function").items():
        variables = function["Properties"]["Environment"]["Variables"]
        for variable in (TRACER_CAPTURE_RESPONSE_ENV, TRACER_CAPTURE_ERROR_ENV):
            monkeypatch.setenv(variable, variables.get(variable, "true"))
        provider = RecordingProvider()
        tracer = Tracer(service=name, provider=provider, auto_patch=False, disabled=False)
        try:
            tracer.capture_lambda_handler(answer_with_a_list)({}, None)
            with pytest.raises(ValueError, match="Duplicate entry"):
                tracer.capture_lambda_handler(fail_quoting_a_field)({}, None)
        finally:
            Tracer._reset_config()  # the tracer's settings are shared by every instance

        assert [s.metadata for s in provider.subsegments] == [{}, {}], name


def test_the_topic_and_every_queue_keep_their_messages_encrypted(
    resources: dict[str, dict[str, Any]],
) -> None:
    assert resources["AppointmentsTopic"]["Properties"]["KmsMasterKeyId"] == "alias/aws/sns"
    for name, queue in of_type(resources, "AWS::SQS::Queue").items():
        # SQS-managed keys: SNS and EventBridge deliver to them with no key policy to open.
        assert queue["Properties"].get("SqsManagedSseEnabled") is True, name
        assert "KmsMasterKeyId" not in queue["Properties"], name


def test_the_appointments_table_outlives_its_stack_and_can_be_restored(
    resources: dict[str, dict[str, Any]],
) -> None:
    table = resources["AppointmentsTable"]

    assert table["DeletionPolicy"] == "RetainExceptOnCreate"
    assert table["UpdateReplacePolicy"] == "Retain"
    assert table["Properties"]["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}


IAM_NAME_PROPERTIES = {
    "AWS::IAM::Role": "RoleName",
    "AWS::IAM::User": "UserName",
    "AWS::IAM::Group": "GroupName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::IAM::InstanceProfile": "InstanceProfileName",
}


def test_the_deploy_asks_only_for_the_capabilities_the_template_needs(
    resources: dict[str, dict[str, Any]],
) -> None:
    from bootstrap.stack.provision import CAPABILITIES

    iam = {name: body for name, body in resources.items() if body["Type"].startswith("AWS::IAM::")}
    named = [
        name
        for name, body in iam.items()
        if IAM_NAME_PROPERTIES.get(body["Type"], "") in body.get("Properties", {})
    ]
    needed = {"CAPABILITY_IAM"} if iam else set()
    if named:
        needed.add("CAPABILITY_NAMED_IAM")

    assert sorted(CAPABILITIES) == sorted(needed)


def test_the_processors_may_put_only_the_events_they_emit(resources: dict[str, dict[str, Any]]) -> None:
    from appointments.messages import EVENT_SOURCE

    put_events = [
        (role, statement)
        for role, statement in policy_statements(resources)
        if statement["Action"] == "events:PutEvents"
    ]
    assert sorted(role for role, _ in put_events) == ["ClProcessorRole", "PeProcessorRole"]
    for role, statement in put_events:
        # Each entry of a PutEvents call names its source, so every value must be ours.
        assert statement["Condition"] == {"ForAllValues:StringEquals": {"events:source": EVENT_SOURCE}}, role
    assert resources["AppointmentSettledRule"]["Properties"]["EventPattern"]["source"] == [EVENT_SOURCE]


def access_log_fields(log_format: str) -> dict[str, str]:
    fields = json.loads(log_format)
    assert isinstance(fields, dict)
    return {key: str(value) for key, value in fields.items()}


def test_both_api_flavours_log_each_request_without_its_body_or_path(
    resources: dict[str, dict[str, Any]],
) -> None:
    http = resources["HttpApiStage"]["Properties"]["AccessLogSettings"]
    rest = resources["RestApiStage"]["Properties"]["AccessLogSetting"]

    for setting in (http, rest):
        assert setting["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogs", "Arn"]}
        variables = " ".join(access_log_fields(setting["Format"]).values())
        assert "$context.requestId" in variables
        assert "$context.status" in variables
        # No body, header, query or the path itself (GET's path holds the insured's id).
        for forbidden in ("$input", "body", "header", "querystring", "$context.path", "requestOverride"):
            assert forbidden.lower() not in variables.lower(), forbidden
    assert access_log_fields(http["Format"])["route"] == "$context.routeKey"
    assert access_log_fields(rest["Format"])["route"] == "$context.resourcePath"
    assert resources["ApiAccessLogs"]["Properties"]["RetentionInDays"] > 0


def test_the_rest_stage_logs_through_the_accounts_role_made_before_it(
    resources: dict[str, dict[str, Any]],
) -> None:
    account = resources["ApiGatewayAccount"]
    role = resources["ApiGatewayLogsRole"]

    assert account["Condition"] == role["Condition"] == "SetsApiGatewayAccount"
    assert account["Properties"]["CloudWatchRoleArn"] == {"Fn::GetAtt": ["ApiGatewayLogsRole", "Arn"]}
    [trust] = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "apigateway.amazonaws.com"}
    # DependsOn cannot be conditional: the stage's metadata refers to the setting when the stack makes it.
    assert resources["RestApiStage"]["Metadata"]["AfterAccountSettings"] == {
        "Fn::If": ["SetsApiGatewayAccount", {"Ref": "ApiGatewayAccount"}, "none"]
    }


def rest_api_routes(resources: dict[str, dict[str, Any]]) -> set[str]:
    """Each REST API method as `METHOD /path`, the path built from its resource's parents."""

    def path_of(resource: str) -> str:
        properties = resources[resource]["Properties"]
        parent = properties["ParentId"]
        above = "" if parent == {"Fn::GetAtt": ["RestApi", "RootResourceId"]} else path_of(parent["Ref"])
        return f"{above}/{properties['PathPart']}"

    methods = of_type(resources, "AWS::ApiGateway::Method").values()
    return {
        f"{m['Properties']['HttpMethod']} {path_of(m['Properties']['ResourceId']['Ref'])}" for m in methods
    }


def test_both_api_flavours_route_each_request_by_name_and_the_docs_route_is_the_one_the_code_makes_public(
    resources: dict[str, dict[str, Any]],
) -> None:
    """The HTTP function tells the public docs page by the route API Gateway matched (routeKey,
    resource): no catch-all route or proxy resource may stand in for it."""
    from appointments.http.checks import DOCS_RESOURCE, DOCS_ROUTE_KEY

    http_routes = {
        r["Properties"]["RouteKey"] for r in of_type(resources, "AWS::ApiGatewayV2::Route").values()
    }

    routes = {"POST /appointments", "GET /appointments/{insuredId}", DOCS_ROUTE_KEY}
    assert http_routes == rest_api_routes(resources) == routes
    assert f"GET {DOCS_RESOURCE}" in rest_api_routes(resources)


def test_the_idempotency_table_says_how_long_its_records_live_as_the_function_keeps_them(
    resources: dict[str, dict[str, Any]],
) -> None:
    from appointments.http.idempotency import IDEMPOTENCY_RECORD_SECONDS

    skips = resources["IdempotencyTable"]["Metadata"]["checkov"]["skip"]
    [why] = [skip["comment"] for skip in skips if skip["id"] == "CKV_AWS_28"]

    assert f"expire {IDEMPOTENCY_RECORD_SECONDS // 3600} h after" in why


def test_every_security_scan_suppression_says_why(resources: dict[str, dict[str, Any]]) -> None:
    suppressions = [
        (name, skip)
        for name, body in resources.items()
        for skip in body.get("Metadata", {}).get("checkov", {}).get("skip", [])
    ]

    assert suppressions
    for name, skip in suppressions:
        assert set(skip) == {"id", "comment"}, name
        assert skip["id"].startswith("CKV_"), name
        assert len(skip["comment"].split()) >= 8, f"{name} {skip['id']}: say why it does not apply"


def test_the_waits_a_stage_shortens_are_parameters_the_provisioning_passes(
    resources: dict[str, dict[str, Any]], parameters: dict[str, dict[str, Any]]
) -> None:
    config = StackConfig(
        queue_visibility_timeout=6,
        queue_function_timeout=6,
        api_key_cache_seconds=5,
        reconciler_rate="rate(2 minutes)",
        hand_over_after_seconds=30,
    )
    passed = {p["ParameterKey"]: p["ParameterValue"] for p in stack_parameters(config, [])}

    assert set(passed) <= set(parameters)
    assert {key: passed[key] for key in WAITS} == {
        "QueueVisibilityTimeout": "6",
        "QueueFunctionTimeout": "6",
        "ApiKeyCacheSeconds": "5",
        "ReconcilerRate": "rate(2 minutes)",
        "HandOverAfterSeconds": "30",
    }
    queue_functions = ["PeProcessorFunction", "ClProcessorFunction", "CallbackFunction"]
    assert {resources[f]["Properties"]["Timeout"]["Ref"] for f in queue_functions} == {"QueueFunctionTimeout"}
    http = resources["HttpFunction"]["Properties"]
    assert http["Environment"]["Variables"]["API_KEY_MAX_AGE"] == {"Ref": "ApiKeyCacheSeconds"}
    reconciler = resources["ReconcilerFunction"]["Properties"]
    assert reconciler["Environment"]["Variables"]["HAND_OVER_AFTER_SECONDS"] == {
        "Ref": "HandOverAfterSeconds"
    }


WAITS = (
    "QueueVisibilityTimeout",
    "QueueFunctionTimeout",
    "ApiKeyCacheSeconds",
    "ReconcilerRate",
    "HandOverAfterSeconds",
)


def test_a_visibility_timeout_shorter_than_the_functions_timeout_is_refused_by_the_kit() -> None:
    config = StackConfig(queue_visibility_timeout=6, queue_function_timeout=10)

    with pytest.raises(KitError, match=r"visibility timeout \(6 s\) must be at least .* \(10 s\)"):
        stack_parameters(config, [])
