"""`make up` in one function: engine, zips, MySQL, SSM and the stack, each step timed and printed."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bootstrap import names, packaging
from bootstrap.config import DOTENV, LOCAL_API_KEY, ROOT, STATE_DIR, KitConfig, with_dotenv
from bootstrap.engines import localstack, ministack
from bootstrap.engines.choice import EngineChoice, choose_engine, docker_answers
from bootstrap.progress import Progress
from bootstrap.stack import artifacts, database, parameters, provision, warm
from bootstrap.stack.queries import stack_outputs


@dataclass(frozen=True)
class Stack:
    outputs: dict[str, str]
    api_url: str  # as the kit reaches it
    public_api_url: str  # as a browser on the host reaches it: the URL printed for the user
    api_key: str = field(repr=False)  # a failing test prints its fixtures: never the key
    engine_started: bool = False

    @classmethod
    def of(
        cls, config: KitConfig, outputs: dict[str, str], api_key: str, engine_started: bool = False
    ) -> Stack:
        """The stack whose outputs these are, with the URLs as the kit and the host reach it."""
        return cls(outputs, config.api_url(outputs), config.public_api_url(outputs), api_key, engine_started)


def resolve(
    environ: Mapping[str, str] | None = None, dotenv: Path = DOTENV
) -> tuple[KitConfig, EngineChoice]:
    """Pick the engine (ENGINE, or LocalStack when Docker answers) and the settings that go with it,
    from the environment over .env, as docker compose reads them.
    Only the commands that run on a local engine ask: `build` and `deploy` never probe Docker."""
    env = with_dotenv(os.environ if environ is None else environ, dotenv)
    choice = choose_engine(env.get("ENGINE"), docker_answers)
    return KitConfig.from_env(env, engine=choice.engine), choice


def start_engine(config: KitConfig, progress: Progress) -> tuple[bool, packaging.Target]:
    """Start the configured engine unless it runs; returns (started here, what to build the zips for)."""
    with progress.step("engine") as note:
        if config.engine == "localstack":
            started = localstack.start(config, with_dotenv(os.environ))  # compose's own view
            note.append(f"LocalStack and MySQL 8.4 {'started' if started else 'already running'} (compose)")
            return started, packaging.AWS_TARGET
        status = ministack.start(config)
        state = f"started (pid {status.pid})" if status.started else "already running"
        note.append(f"ministack {state}, Lambdas on Python {status.python_version}")
    target = ministack.zip_target(config, status.python_version)
    if target is not packaging.AWS_TARGET:
        progress.say(
            f"  note: the engine runs Python {target.version}, not 3.12; the local zips are built for it"
        )
    return status.started, target


def check_mysql(config: KitConfig, progress: Progress) -> None:
    with progress.step("mysql") as note:
        note.append(f"{database.check_mysql(config)} on {config.mysql_host}:{config.mysql_port}")


def packaging_zips(target: packaging.Target, progress: Progress) -> list[packaging.BuiltZip]:
    with progress.step("build") as note:
        zips = packaging.build(target)
        note.append(", ".join(f"{z.path.name} {z.path.stat().st_size / 1e6:.1f} MB" for z in zips))
        no_bytecode = packaging.why_no_bytecode(packaging.Host.this_one(), target)
        if no_bytecode:
            note.append(f"(no bytecode: {no_bytecode}; cold starts compile what they import)")
    return zips


def up(config: KitConfig, progress: Progress, reason: str = "") -> Stack:
    because = f" ({reason})" if reason else ""
    seen_from_host = f", {config.public_endpoint} from the host" if config.public_engine_url else ""
    progress.say(f"Local cloud: {config.engine} at {config.endpoint}{seen_from_host}{because}")
    progress.say(f"Stack {config.stack_name}, {config.api_flavour} API")
    if config.engine == "ministack":  # the machine's MySQL must answer before anything starts
        check_mysql(config, progress)
    started, target = start_engine(config, progress)
    if config.engine == "localstack":  # MySQL came up with the compose project
        check_mysql(config, progress)
    zips = packaging_zips(target, progress)
    with progress.step("artifacts") as note:
        sent = artifacts.upload_artifacts(config, zips)
        note.append(f"{sent} uploaded, {len(zips) - sent} already in s3://{config.artifact_bucket}")
    with progress.step("migrate") as note:
        note.append("; ".join(str(schema) for schema in database.migrate_local(config)))
    with progress.step("mysql-init") as note:
        note.append("applied " + ", ".join(database.apply_mysql_init(config)))
    with progress.step("ssm") as note:
        note.append(
            f"{len(parameters.put_db_parameters(config))} parameters under {config.db_parameters_prefix}"
        )
    with progress.step("api-key") as note:
        api_key = parameters.put_api_key(config)
        note.append(f"SecureString {config.api_key_parameter} (kept in .local/api-key)")
    with progress.step("stack") as note:
        note.append(provision.deploy_stack(config, provision.stack_parameters(config, zips)))
    outputs = stack_outputs(config)
    with progress.step("warm") as note:
        # as many workers started per function as a first burst needs, so it skips their cold starts
        functions = {outputs[function.output]: function for function in names.FUNCTIONS}
        warm.warm(config.client("lambda"), functions)
        workers = sum(warm.workers_for_a_burst(function) for function in functions.values())
        note.append(
            f"{workers} workers started for {len(functions)} functions (as many as a first burst takes)"
        )
    progress.say(f"Ready in {progress.total():.1f}s.")
    return Stack.of(config, outputs, api_key, engine_started=started)


def down() -> list[str]:
    """Stops the engine `up` started (and LocalStack's compose, and an engine a test session left
    running); what it stopped, one line each."""
    pid, composed = ministack.stop(), localstack.stop()
    said = [f"stopped the local engine (pid {pid})"] if pid else []
    for other in ministack.other_engines():  # one a test session left running (it stops its own)
        if (stopped := ministack.stop_by_pid_file(other)) is not None:
            said.append(f"stopped the engine of {other.parent.relative_to(STATE_DIR)} (pid {stopped})")
    if composed:
        said.append(
            "stopped LocalStack and MySQL (docker compose down: containers, network and MySQL's data removed)"
        )
    if not (pid or composed):
        said.append("no local engine started by `make up` is running")
    return said


def curl_examples(api_url: str) -> list[str]:
    """Shell lines to paste: the key is read from its file into $KEY, so it never appears in the
    terminal's scrollback or in a CI log that captures `make up`."""
    key_file = LOCAL_API_KEY.relative_to(ROOT)
    auth = '-H "x-api-key: $KEY"'
    post = f"curl -s -X POST {api_url}/appointments {auth} -H 'content-type: application/json' -d"
    insureds = {country: f"{country.value}001" for country in names.COUNTRIES}
    posts = [
        f"""{post} '{{"insuredId": "{insured}", "scheduleId": 1, "countryISO": "{country.value}"}}'"""
        for country, insured in insureds.items()
    ]
    return [
        f"KEY=$(cat {key_file})",
        *posts,
        f"curl -s {api_url}/appointments/{insureds[names.COUNTRIES[0]]} {auth}",
    ]


def print_usage(stack: Stack, console_port: int | None = None) -> None:
    """The API's URL, where its key is, the docs page, the console and curls, as the user on the
    host reaches them. The key itself is not printed."""
    url = stack.public_api_url
    console = (
        f"\nConsole: http://127.0.0.1:{console_port}  (make console serves it: the flow map, journeys, dead letters, logs)"
        if console_port
        else ""
    )
    print(
        f"\nAPI:     {url}\nAPI key: in {LOCAL_API_KEY.relative_to(ROOT)}  (header x-api-key)"
        f"\nDocs:    {url}/docs  (Swagger UI; Authorize with the key, then Try it out){console}"
        "\n\nTry it, from this folder:"
    )
    for example in curl_examples(url):
        print(f"  {example}")
    sys.stdout.flush()
