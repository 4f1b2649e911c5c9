"""The stack deployed with CloudFormation: its parameters, the deploy (create or update, waited
for), and why it failed when it did."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError, WaiterError

from bootstrap import names
from bootstrap.config import (
    TEMPLATE,
    KitError,
    StackConfig,
)
from bootstrap.packaging import BuiltZip

WAITER = {"Delay": 2, "MaxAttempts": 900}


NO_CHANGES = ("didn't contain changes", "No updates are to be performed", "No changes")


CAPABILITIES: list[Any] = ["CAPABILITY_IAM"]  # the template names no IAM resource


def stack_parameters(config: StackConfig, zips: Sequence[BuiltZip]) -> list[Any]:
    if config.queue_visibility_timeout < config.queue_function_timeout:
        raise KitError(
            f"the queues' visibility timeout ({config.queue_visibility_timeout} s) must be at least the "
            f"timeout of the functions they invoke ({config.queue_function_timeout} s): a message would "
            "be received again while its first delivery still runs"
        )
    values = {
        "Stage": config.stage,
        "ArtifactBucket": config.artifact_bucket,
        **{names.code_key_parameter(built.name): built.s3_key for built in zips},
        "DbParametersPrefix": config.db_parameters_prefix,
        "ApiKeyParameter": config.api_key_parameter,
        "QueueVisibilityTimeout": str(config.queue_visibility_timeout),
        "MaxReceiveCount": str(config.max_receive_count),
        "QueueFunctionTimeout": str(config.queue_function_timeout),
        "ApiKeyCacheSeconds": str(config.api_key_cache_seconds),
        "ReconcilerRate": config.reconciler_rate,
        "HandOverAfterSeconds": str(config.hand_over_after_seconds),
        # No X-Ray daemon runs beside a local engine: `make trace` is the local equivalent.
        "Tracing": "PassThrough" if config.endpoint else "Active",
        "ApiFlavour": config.api_flavour,
        "SubnetIds": ",".join(config.subnet_ids),
        "SecurityGroupId": config.security_group_id,
        "DatabaseTls": config.database_tls,
        "RestApiLogsRole": config.rest_api_logs_role,
    }
    return [{"ParameterKey": key, "ParameterValue": value} for key, value in values.items()]


def _stack_status(cfn: Any, name: str) -> str | None:
    try:
        return str(cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"])
    except ClientError as error:
        if "does not exist" in str(error):
            return None
        raise


def _failure_reasons(cfn: Any, name: str) -> str:
    events = cfn.describe_stack_events(StackName=name)["StackEvents"]
    reasons = [
        f"{event['LogicalResourceId']}: {event.get('ResourceStatusReason', event['ResourceStatus'])}"
        for event in events
        if event["ResourceStatus"].endswith("FAILED")
    ]
    return "; ".join(reasons[:5]) or "no failure reason recorded"


def deploy_stack(config: StackConfig, parameters: list[Any], template: Path = TEMPLATE) -> str:
    """Create or update the stack through a change set; returns what happened."""
    cfn = config.client("cloudformation")
    name = config.stack_name
    status = _stack_status(cfn, name)
    if status in ("ROLLBACK_COMPLETE", "REVIEW_IN_PROGRESS"):
        cfn.delete_stack(StackName=name)
        cfn.get_waiter("stack_delete_complete").wait(StackName=name, WaiterConfig=WAITER)
        status = None
    change_type = "CREATE" if status is None else "UPDATE"
    change_set = f"{name}-{time.time_ns()}"  # unique even for two deploys in the same second
    try:
        cfn.create_change_set(
            StackName=name,
            ChangeSetName=change_set,
            ChangeSetType=change_type,
            TemplateBody=template.read_text(),
            Parameters=parameters,
            Capabilities=CAPABILITIES,
        )
    except ClientError as error:
        raise KitError(f"stack {name} was refused: {error.response['Error'].get('Message', error)}") from None
    try:
        cfn.get_waiter("change_set_create_complete").wait(
            StackName=name, ChangeSetName=change_set, WaiterConfig=WAITER
        )
    except WaiterError:
        described = cfn.describe_change_set(StackName=name, ChangeSetName=change_set)
        reason = described.get("StatusReason", "")
        if any(marker in reason for marker in NO_CHANGES):
            cfn.delete_change_set(StackName=name, ChangeSetName=change_set)
            return "unchanged"
        raise KitError(f"stack {name}: the change set failed: {reason}") from None
    cfn.execute_change_set(StackName=name, ChangeSetName=change_set)
    waiter = "stack_create_complete" if change_type == "CREATE" else "stack_update_complete"
    try:
        cfn.get_waiter(waiter).wait(StackName=name, WaiterConfig=WAITER)
    except WaiterError:
        raise KitError(f"stack {name} failed: {_failure_reasons(cfn, name)}") from None
    return "created" if change_type == "CREATE" else "updated"
