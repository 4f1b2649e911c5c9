"""`make deploy`: the same template and the same zips to AWS, through a CloudFormation change set.

With an endpoint it deploys to a local engine instead, which is how the deploy path is tested.
The database parameters are the user's to write (they hold a real password; `make db-users`
generates them); deploy checks that they are there before it deploys functions that need them,
and on AWS that no password is one of the local kit's, which are in the repository.
"""

from __future__ import annotations

import ssl
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from appointments.adapters.ssm import InvalidApiKeys, parse_api_keys
from appointments.settings import CA_BUNDLE  # where the processors read it, in the zip and here
from bootstrap import names, packaging
from bootstrap.config import LOCAL_COUNTRY_DATABASES, KitError, StackConfig
from bootstrap.progress import Progress
from bootstrap.stack import artifacts, provision
from bootstrap.stack.queries import stack_outputs


def default_bucket(config: StackConfig) -> str:
    """Bucket names are global on AWS: the account and region make this one ours."""
    account = config.client("sts").get_caller_identity()["Account"]
    return f"{config.stack_name}-{account}-{config.region}"


def missing_db_parameters(config: StackConfig) -> list[str]:
    ssm = config.client("ssm")
    missing = []
    for country in names.COUNTRIES:
        path = names.db_parameters_path(config.db_parameters_prefix, country)
        found: set[str] = set()
        for page in ssm.get_paginator("get_parameters_by_path").paginate(Path=path):
            found |= {parameter["Name"] for parameter in page["Parameters"]}
        missing += [
            name
            for name in names.db_parameter_names(config.db_parameters_prefix, country).values()
            if name not in found
        ]
    try:
        ssm.get_parameter(Name=config.api_key_parameter)
    except ssm.exceptions.ParameterNotFound:
        missing.append(config.api_key_parameter)
    return missing


def api_key_problem(config: StackConfig) -> str | None:
    """Why the HTTP function would refuse the API key parameter, answering 500 to every call (a
    short key, a client named twice, broken JSON), or None. The message quotes no key."""
    ssm = config.client("ssm")
    stored = ssm.get_parameter(Name=config.api_key_parameter, WithDecryption=True)["Parameter"]["Value"]
    try:
        parse_api_keys(stored)
    except InvalidApiKeys as error:
        return (
            f"the API key parameter {config.api_key_parameter} would be refused by the HTTP function: {error}"
        )
    return None


LOCAL_PASSWORDS = frozenset(database.password for database in LOCAL_COUNTRY_DATABASES)


def local_passwords_among(passwords: Mapping[str, str], to_aws: bool) -> list[str]:
    """The parameters (name -> decrypted value) that hold a local kit's password, which anyone
    can read in the repository: refused on AWS, and the right ones on a local engine."""
    if not to_aws:
        return []
    return sorted(name for name, value in passwords.items() if value in LOCAL_PASSWORDS)


def db_passwords(config: StackConfig) -> dict[str, str]:
    """Each country's password parameter -> its decrypted value."""
    ssm = config.client("ssm")
    wanted = [names.db_parameter_names(config.db_parameters_prefix, c)["password"] for c in names.COUNTRIES]
    found = ssm.get_parameters(Names=wanted, WithDecryption=True)["Parameters"]
    return {parameter["Name"]: parameter["Value"] for parameter in found}


RDS_CA_BUNDLE_URL = "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem"


def ca_bundle_problem(bundle: Path) -> str | None:
    """Why the processors could not verify MySQL's certificate with `bundle`, or None."""
    if not bundle.is_file():
        return (
            f"DatabaseTls is verify but {bundle} is missing: the processors would refuse every connection. "
            f"Put your database's CA bundle there (for RDS: curl -fsSo {bundle} {RDS_CA_BUNDLE_URL}), "
            "or deploy with DATABASE_TLS=off to a MySQL without TLS"
        )
    try:
        loaded = ssl.create_default_context(cafile=str(bundle)).cert_store_stats()["x509_ca"]
    except (ssl.SSLError, ValueError) as error:
        return f"{bundle} holds no usable CA certificate ({error})"
    return None if loaded else f"{bundle} holds no CA certificate"


def plaintext_database_warning(config: StackConfig) -> str | None:
    """What DATABASE_TLS=off means on AWS, where the link to MySQL crosses a network; None for a
    local engine (the machine's MySQL has no TLS) or when TLS is verified."""
    if config.database_tls != "off" or config.endpoint is not None:
        return None
    return (
        f"warning: DATABASE_TLS=off: the processors of {config.stack_name} will connect to MySQL without "
        "TLS, sending the country users' passwords and the appointments in plain text and checking no "
        "certificate, so anyone on the network path can read or alter them. Only for a MySQL without "
        f"TLS; for RDS put its CA bundle in {CA_BUNDLE} (curl -fsSo {CA_BUNDLE} {RDS_CA_BUNDLE_URL}) "
        "and deploy with DATABASE_TLS=verify, the default."
    )


def deploy(config: StackConfig, progress: Progress) -> dict[str, Any]:
    progress.say(f"Deploying stack {config.stack_name} ({config.api_flavour} API) to {config.where}")
    if config.database_tls == "verify" and (problem := ca_bundle_problem(CA_BUNDLE)):
        raise KitError(problem)
    if warning := plaintext_database_warning(config):
        print(warning, file=sys.stderr, flush=True)  # even when quiet: it is about the data
    with progress.step("ssm") as note:
        missing = missing_db_parameters(config)
        if missing:
            raise KitError(
                f"missing SSM parameters: {', '.join(missing)}; write them first, e.g. aws ssm put-parameter "
                f"--name {missing[0]} --type SecureString --value ..."
            )
        if problem := api_key_problem(config):
            raise KitError(problem)
        known = local_passwords_among(db_passwords(config), to_aws=config.endpoint is None)
        if known:
            raise KitError(
                f"a password of the local kit, which is in this repository, is in {', '.join(known)}: "
                "write a generated one there (make db-users) before deploying to AWS"
            )
        note.append(f"database parameters under {config.db_parameters_prefix} and {config.api_key_parameter}")
    with progress.step("build") as note:
        zips = packaging.build(packaging.AWS_TARGET)
        note.append(", ".join(f"{z.path.name} {z.sha256[:12]}" for z in zips))
    with progress.step("artifacts") as note:
        sent = artifacts.upload_artifacts(config, zips)
        note.append(f"{sent} uploaded, {len(zips) - sent} already in s3://{config.artifact_bucket}")
    with progress.step("stack") as note:
        note.append(provision.deploy_stack(config, provision.stack_parameters(config, zips)))
    outputs = stack_outputs(config)
    progress.say(f"Deployed in {progress.total():.1f}s.")
    return {**outputs, names.API_URL: config.api_url(outputs)}
