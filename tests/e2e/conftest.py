"""The e2e tests run against two front doors: the stack `make up` provisions (an HTTP API on the
Docker-free engine) and a second stage deployed by `python -m bootstrap deploy` with the REST API
flavour, the same command that deploys to AWS, pointed at the local engine."""

from __future__ import annotations

import json
import os

import pytest

from bootstrap import names
from bootstrap.config import KitConfig
from bootstrap.dev.kit import Stack
from bootstrap.engines import ministack
from tests.support.api_client import AppointmentsApi
from tests.support.one_at_a_time import one_at_a_time
from tests.support.prerequisites import missing
from tests.support.session_cloud import PROVISIONED, REST_DEPLOYED, deploy_rest_stage, finish_rest_stage


@pytest.fixture(scope="session")
def deployed_rest_api(kit_config: KitConfig, stack: Stack) -> str:
    if kit_config.engine == "ministack" and (version := ministack.engine_python_version()) != "3.12":
        missing(
            f"the engine on Python 3.12 (deploy builds the AWS python3.12 zips; this engine runs {version})",
            "install a Python 3.12 on PATH or under pyenv (`pyenv install 3.12`), remove .engine-venv, run `make up`",
        )
    if os.environ.get(PROVISIONED) == "1" and REST_DEPLOYED.exists():
        printed = REST_DEPLOYED.read_text()  # deployed once, before the workers started
    else:
        with one_at_a_time("stack"):  # pytest-xdist workers build and deploy in turn
            printed = finish_rest_stage(deploy_rest_stage(kit_config))
    outputs = json.loads(printed[printed.index("{") :])
    assert outputs[names.API_FLAVOUR] == "rest"
    return str(outputs[names.API_URL])


@pytest.fixture(scope="session", params=["made-up-stack", "deployed-rest-stack"])
def api(request: pytest.FixtureRequest, stack: Stack) -> AppointmentsApi:
    if request.param == "made-up-stack":
        return AppointmentsApi(stack.api_url, stack.api_key)
    return AppointmentsApi(request.getfixturevalue("deployed_rest_api"), stack.api_key)
