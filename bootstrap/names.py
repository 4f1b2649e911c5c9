"""One definition of each name the kit, the tests and the benchmark share with the template.

The countries are the domain's `Country` enum; every per-country name below is made from it, so a
new country is the enum, its row in SCHEMAS and MYSQL_USERS, its resources in template.yaml and
its local user in mysql-init/local/ (the migrations make its schema). tests/unit/kit/test_names.py
checks the template against this module.
"""

from __future__ import annotations

from dataclasses import dataclass

from appointments.domain import Country

COUNTRIES: tuple[Country, ...] = tuple(Country)


def country_in_turn(n: int) -> Country:
    """The countries taken in turn: the n-th of a run of requests spread over all of them."""
    return COUNTRIES[n % len(COUNTRIES)]


def country_code(country: str) -> str:
    """`pe` for PE (either case): the form of resource names, schemas and SSM paths."""
    return Country(country.upper()).value.lower()


def _logical(country: str) -> str:
    """`Pe` for PE: the form of the template's logical ids and output keys."""
    return country_code(country).capitalize()


def stack_name(stage: str) -> str:
    """The stack's name, also the prefix of every resource it names (`<stack>-http`, `<stack>-pe`)."""
    return f"rimac-appointments-{stage}"


def short_name(stage: str, resource_name: str) -> str:
    """What follows the stack's name in a resource's name (`http`, `processor-pe`): how `make logs`
    names a function."""
    return resource_name.removeprefix(f"{stack_name(stage)}-")


# ---------------------------------------------------------------- stack outputs (template.yaml)
API_FLAVOUR = "ApiFlavour"
API_ID = "ApiId"
API_STAGE = "ApiStage"
API_URL = "ApiUrl"
TABLE_NAME = "TableName"
SWEEP_TABLE_NAME = "SweepTableName"  # where the reconciler's sweep of each country reached
TOPIC_ARN = "TopicArn"
EVENT_BUS_NAME = "EventBusName"
CALLBACK_QUEUE_URL = "CallbackQueueUrl"
CALLBACK_DEAD_LETTER_QUEUE_URL = "CallbackDeadLetterQueueUrl"
HTTP_FUNCTION_NAME = "HttpFunctionName"
CALLBACK_FUNCTION_NAME = "CallbackFunctionName"
RECONCILER_FUNCTION_NAME = "ReconcilerFunctionName"
RECONCILER_SCHEDULE_NAME = "ReconcilerScheduleName"


def log_group(function_name: str) -> str:
    """The CloudWatch Logs group a Lambda function writes to (AWS's name for it, the engine's too)."""
    return f"{LOG_GROUP_PREFIX}{function_name}"


LOG_GROUP_PREFIX = "/aws/lambda/"


def queue_output(country: str) -> str:
    return f"{_logical(country)}QueueUrl"


def dead_letter_queue_output(country: str) -> str:
    return f"{_logical(country)}DeadLetterQueueUrl"


def processor_function_output(country: str) -> str:
    return f"{_logical(country)}ProcessorFunctionName"


@dataclass(frozen=True)
class QueuePair:
    """A work queue and its dead-letter queue, by their stack outputs."""

    name: str  # as `make redrive` and `make status` call it: pe, cl, callback
    queue_output: str
    dead_letter_output: str

    def queue_name(self, stage: str) -> str:
        return f"{stack_name(stage)}-{self.name}"

    def dead_letter_queue_name(self, stage: str) -> str:
        return f"{self.queue_name(stage)}-dlq"


CALLBACK_QUEUE = "callback"
QUEUES: dict[str, QueuePair] = {
    pair.name: pair
    for pair in (
        *(QueuePair(country_code(c), queue_output(c), dead_letter_queue_output(c)) for c in COUNTRIES),
        QueuePair(CALLBACK_QUEUE, CALLBACK_QUEUE_URL, CALLBACK_DEAD_LETTER_QUEUE_URL),
    )
}
DEAD_LETTER_QUEUE_OUTPUTS = tuple(pair.dead_letter_output for pair in QUEUES.values())


# ---------------------------------------------------------------- functions and their zips
HTTP_ZIP = "http"
PROCESSOR_ZIP = "processor"
CALLBACK_ZIP = "callback"
ZIPS = (HTTP_ZIP, PROCESSOR_ZIP, CALLBACK_ZIP)


def code_key_parameter(zip_name: str) -> str:
    """The template parameter that takes the zip's S3 key (`HttpCodeKey`)."""
    return f"{zip_name.capitalize()}CodeKey"


@dataclass(frozen=True)
class Function:
    """A deployed function: the output naming it, the zip its code ships in, its handler."""

    output: str
    zip: str
    handler: str

    @property
    def handler_module(self) -> str:
        return self.handler.rsplit(".", 1)[0]


FUNCTIONS: tuple[Function, ...] = (
    Function(HTTP_FUNCTION_NAME, HTTP_ZIP, "appointments.entrypoints.http.lambda_handler"),
    *(
        Function(
            processor_function_output(c), PROCESSOR_ZIP, "appointments.entrypoints.processor.lambda_handler"
        )
        for c in COUNTRIES
    ),
    Function(CALLBACK_FUNCTION_NAME, CALLBACK_ZIP, "appointments.entrypoints.callback.lambda_handler"),
    # the reconciler rides in the HTTP zip: it needs the same adapters and nothing more
    Function(RECONCILER_FUNCTION_NAME, HTTP_ZIP, "appointments.entrypoints.reconciler.lambda_handler"),
)


def functions_in(zip_name: str) -> tuple[Function, ...]:
    return tuple(function for function in FUNCTIONS if function.zip == zip_name)


def handler_modules(zip_name: str) -> tuple[str, ...]:
    """The handler modules a zip serves, each once, in the order of FUNCTIONS."""
    return tuple(dict.fromkeys(function.handler_module for function in functions_in(zip_name)))


OUTPUT_KEYS = frozenset(
    {API_FLAVOUR, API_ID, API_STAGE, API_URL, TABLE_NAME, SWEEP_TABLE_NAME, TOPIC_ARN, EVENT_BUS_NAME}
    | {pair.queue_output for pair in QUEUES.values()}
    | {pair.dead_letter_output for pair in QUEUES.values()}
    | {function.output for function in FUNCTIONS}
)


# ---------------------------------------------------------------- MySQL and SSM
DEFAULT_DB_PARAMETERS_PREFIX = "/rimac/db"
DEFAULT_API_KEY_PARAMETER = "/rimac/api/key"


# Each country's schema and processor user, as mysql-init/ creates them. A fixed table, not names
# made from a country code: these go into SQL text (a schema cannot be a query parameter), and a
# value read from storage (`make trace` reads countryISO from the table) only ever selects a row.
SCHEMAS: dict[Country, str] = {Country.PE: "mysql_pe", Country.CL: "mysql_cl"}
MYSQL_USERS: dict[Country, str] = {Country.PE: "rimac_pe", Country.CL: "rimac_cl"}


def schema(country: str) -> str:
    """The country's MySQL schema (the migrations, mysql-init/migrations/, make it); ValueError for an unknown country."""
    return SCHEMAS[Country(country.upper())]


def mysql_user(country: str) -> str:
    """The country processor's MySQL user (mysql-init/local/ or `make db-users` creates it, with
    rights on its schema only)."""
    return MYSQL_USERS[Country(country.upper())]


def db_parameters_path(prefix: str, country: str) -> str:
    """The SSM path a country processor reads its connection from (`DB_PARAMETERS_PATH`)."""
    return f"{prefix}/{country_code(country)}"


def db_parameter_names(prefix: str, country: str) -> dict[str, str]:
    """Each leaf the processor reads (host, port, user, password, name) -> its full SSM name."""
    # imported here: the adapter brings powertools and boto3, which most kit commands never load
    from appointments.adapters.ssm import DB_PARAMETER_NAMES

    path = db_parameters_path(prefix, country)
    return {leaf: f"{path}/{leaf}" for leaf in DB_PARAMETER_NAMES}
