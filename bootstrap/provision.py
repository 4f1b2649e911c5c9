"""Provisions the stack on an engine: artifacts, SSM parameters, MySQL schemas, CloudFormation.

Every step is idempotent, so running it again on a provisioned engine changes nothing.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from enum import Enum
from http import HTTPStatus
from pathlib import Path
from typing import Any

import pymysql
from botocore.exceptions import ClientError, WaiterError
from pymysql.constants import CLIENT

from bootstrap import migrations, names
from bootstrap.build import BuiltZip
from bootstrap.config import (
    LOCAL_API_KEY,
    LOCAL_COUNTRY_DATABASES,
    MYSQL_INIT,
    MYSQL_LOCAL_USERS,
    TEMPLATE,
    CountryDatabase,
    KitConfig,
    KitError,
    StackConfig,
    open_private,
    private_dir,
)
from bootstrap.stack_queries import admin_connection

WAITER = {"Delay": 2, "MaxAttempts": 900}
NO_CHANGES = ("didn't contain changes", "No updates are to be performed", "No changes")
CAPABILITIES: list[Any] = ["CAPABILITY_IAM"]  # the template names no IAM resource


def check_mysql(config: KitConfig) -> str:
    """Connect as the admin user; returns the server version."""
    try:
        # read_timeout: a program on that port that is not MySQL never sends a greeting.
        connection = admin_connection(config, connect_timeout=3, read_timeout=5)
    except pymysql.MySQLError as error:
        raise KitError(
            f"MySQL is not answering on {config.mysql_host}:{config.mysql_port} as {config.mysql_user!r} "
            f"({error.args[-1]}); start it (MariaDB: start-stop-daemon --start --oknodo --background "
            f'--exec "$(command -v mariadbd)") or set MYSQL_HOST, MYSQL_PORT, MYSQL_USER, MYSQL_PASSWORD'
        ) from None
    with connection:
        return str(connection.get_server_info())


def mysql_init_scripts() -> list[Path]:
    """The local MySQL's users (mysql-init/local/*.sql) in name order, applied after the
    migrations; the schemas are the migrations' (bootstrap/migrations.py)."""
    return sorted(MYSQL_LOCAL_USERS.glob("*.sql"))


def migrate_local(config: KitConfig) -> list[migrations.SchemaMigrated]:
    """Every local country schema created when missing and brought to the last migration, as
    the admin user."""

    def connect(schema: str | None) -> pymysql.connections.Connection:
        return admin_connection(config, database=schema, connect_timeout=3)

    return migrations.migrate(connect, [database.schema for database in LOCAL_COUNTRY_DATABASES])


def apply_mysql_init(config: KitConfig) -> list[str]:
    """Run mysql_init_scripts() as the admin user; the scripts are safe to re-run."""
    scripts = mysql_init_scripts()
    connection = admin_connection(config, client_flag=CLIENT.MULTI_STATEMENTS, autocommit=True)
    with connection, connection.cursor() as cursor:
        for script in scripts:
            try:
                cursor.execute(script.read_text())
                while cursor.nextset():
                    pass
            except pymysql.MySQLError as error:
                raise KitError(
                    f"{script.relative_to(MYSQL_INIT)} failed on MySQL: {error.args[-1]}"
                ) from None
    return [str(script.relative_to(MYSQL_INIT)) for script in scripts]


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


BLOCK_PUBLIC_ACCESS = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}


class BucketState(Enum):
    OURS = "ours"
    MISSING = "missing"
    FOREIGN = "foreign"


def artifact_bucket_state(head_status: int | None) -> BucketState:
    """What HeadBucket with ExpectedBucketOwner (our account) said: it answered (None), the bucket
    is ours; 404, there is none; 403, it belongs to another account (or this one may not read it).
    The name is predictable, so a bucket someone else made first would take, and serve back, the
    functions' code."""
    if head_status is None:
        return BucketState.OURS
    if head_status == HTTPStatus.NOT_FOUND:
        return BucketState.MISSING
    if head_status == HTTPStatus.FORBIDDEN:
        return BucketState.FOREIGN
    raise KitError(f"the artifact bucket answered HeadBucket with HTTP {head_status}")


def _status(error: ClientError) -> int:
    return int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))


def _foreign_bucket(bucket: str, account: str) -> KitError:
    return KitError(
        f"the artifact bucket {bucket} exists and is not account {account}'s (or this account may not read it): "
        "the functions' code must not go there; name a bucket of yours with BUCKET=..."
    )


def upload_artifacts(config: StackConfig, zips: Sequence[BuiltZip]) -> int:
    """Upload each zip under its content-hash key, unless already there; returns how many were sent.

    Every S3 call names the bucket's expected owner, this account, so S3 refuses a bucket that is
    anyone else's; a bucket made here gets Block Public Access and versioning. The local engines
    take the same calls (ministack 1.5.33 accepts the owner and does not check it)."""
    s3 = config.client("s3")
    bucket = config.artifact_bucket
    account = str(config.client("sts").get_caller_identity()["Account"])
    owner = {"ExpectedBucketOwner": account}
    try:
        s3.head_bucket(Bucket=bucket, **owner)
        state = artifact_bucket_state(None)
    except ClientError as error:
        state = artifact_bucket_state(_status(error))
    if state is BucketState.FOREIGN:
        raise _foreign_bucket(bucket, account)
    if state is BucketState.MISSING:
        where = {} if config.region == "us-east-1" else {"LocationConstraint": config.region}
        try:
            s3.create_bucket(Bucket=bucket, **({"CreateBucketConfiguration": where} if where else {}))
        except ClientError as error:
            code = error.response["Error"].get("Code")
            if code == "BucketAlreadyExists":  # someone else's, made since the HeadBucket
                raise _foreign_bucket(bucket, account) from None
            if code != "BucketAlreadyOwnedByYou":
                raise
        s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=BLOCK_PUBLIC_ACCESS, **owner)
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"}, **owner)
    sent = 0
    for built in zips:
        try:
            s3.head_object(Bucket=bucket, Key=built.s3_key, **owner)
        except ClientError:
            s3.upload_file(str(built.path), bucket, built.s3_key, ExtraArgs=owner)
            sent += 1
    return sent


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
