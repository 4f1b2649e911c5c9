# The kit's front door. `make help` lists every target.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV        := .venv
ENGINE_VENV := .engine-venv
PY          := $(VENV)/bin/python
PIP_FLAGS   := --disable-pip-version-check  # not quiet: pip names each package as it goes
# Python 3.12 (the AWS runtime) when one is found, on PATH or under pyenv; evaluated only when a
# virtualenv has to be created.
KIT_PYTHON   = $(shell python3 bootstrap/find_python.py)
LOCK_PYTHON ?= python3.11

.PHONY: help venvs up down build deploy db-users openapi asyncapi watch logs status trace redrive awslocal bench bench-up test lint unit integration e2e faults lock clean

help: ## List the targets
	@grep -hE '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements/dev.txt
	@echo "Creating $(VENV) and installing requirements/dev.txt ..."
	@rm -rf $(VENV) && "$(KIT_PYTHON)" -m venv $(VENV)
	@$(VENV)/bin/pip install $(PIP_FLAGS) -r requirements/dev.txt
	@touch $@

$(ENGINE_VENV)/.installed: requirements/engine.txt
	@echo "Creating $(ENGINE_VENV) (the local engine, kept apart: it pins botocore) ..."
	@rm -rf $(ENGINE_VENV) && "$(KIT_PYTHON)" -m venv $(ENGINE_VENV)
	@$(ENGINE_VENV)/bin/pip install $(PIP_FLAGS) -r requirements/engine.txt
	@touch $@

venvs: $(VENV)/.installed $(ENGINE_VENV)/.installed

up: venvs ## Start the local cloud (ministack, or LocalStack where Docker answers), provision everything, print URL, key, curls
	@$(PY) -m bootstrap up

down: ## Stop the local engine that `make up` started
	@if [ -x $(PY) ]; then $(PY) -m bootstrap down; else echo "nothing to stop"; fi

build: $(VENV)/.installed ## Build the Lambda zips for the AWS python3.12 runtime into dist/
	@$(PY) -m bootstrap build

deploy: $(VENV)/.installed ## Deploy to AWS: STAGE=dev [API_FLAVOUR=rest] [SUBNET_IDS=a,b SECURITY_GROUP_ID=sg] [ENDPOINT=url]
	@test -n "$(STAGE)" || { echo "error: name the stage: make deploy STAGE=dev"; exit 1; }
	@$(PY) -m bootstrap deploy --stage "$(STAGE)" --api-flavour "$(or $(API_FLAVOUR),http)" \
	  --db-parameters-prefix "$(or $(DB_PARAMETERS_PREFIX),/rimac/db)" \
	  $(if $(SUBNET_IDS),--subnet-ids "$(SUBNET_IDS)") $(if $(SECURITY_GROUP_ID),--security-group-id "$(SECURITY_GROUP_ID)") \
	  $(if $(BUCKET),--bucket "$(BUCKET)") $(if $(ENDPOINT),--endpoint "$(ENDPOINT)")

db-users: $(VENV)/.installed ## Country MySQL users on RDS, generated passwords into SSM: DB_HOST=host DB_ADMIN_USER=admin [DB_USER_HOST=10.0.%] [SSL_CA=file]
	@test -n "$(DB_HOST)" -a -n "$(DB_ADMIN_USER)" || { echo "error: name the server and its admin: make db-users DB_HOST=my-rds... DB_ADMIN_USER=admin"; exit 1; }
	@$(PY) -m bootstrap db-users --host "$(DB_HOST)" --admin-user "$(DB_ADMIN_USER)" \
	  --db-parameters-prefix "$(or $(DB_PARAMETERS_PREFIX),/rimac/db)" $(if $(DB_PORT),--port "$(DB_PORT)") \
	  $(if $(DB_USER_HOST),--user-host "$(DB_USER_HOST)") $(if $(FUNCTIONS_DB_HOST),--functions-host "$(FUNCTIONS_DB_HOST)") \
	  $(if $(SSL_CA),--ssl-ca "$(SSL_CA)")

openapi: $(VENV)/.installed ## Regenerate docs/openapi.json from the routes and pydantic models
	@PYTHONPATH=lambdas $(PY) -c "from appointments.api import openapi_document; print(openapi_document(), end='')" > docs/openapi.json
	@echo "wrote docs/openapi.json"

asyncapi: $(VENV)/.installed ## Regenerate docs/asyncapi.json from the message models and resource names
	@$(PY) -c "from bootstrap.asyncapi import asyncapi_document; print(asyncapi_document(), end='')" > docs/asyncapi.json
	@echo "wrote docs/asyncapi.json"

watch: $(VENV)/.installed ## Redeploy a function's code about a second after you save a change to it
	@$(PY) -m bootstrap watch

logs: $(VENV)/.installed ## Follow all functions' logs, one colored line per event (JSON=1 for raw)
	@$(PY) -m bootstrap logs $(if $(JSON),--json)

status: $(VENV)/.installed ## The stack's resources, queue and DLQ depths, appointments per status
	@$(PY) -m bootstrap status

trace: $(VENV)/.installed ## One appointment's journey, hop by hop: make trace ID=<appointmentId>
	@test -n "$(ID)" || { echo "error: name the appointment: make trace ID=01..."; exit 1; }
	@$(PY) -m bootstrap trace "$(ID)"

redrive: $(VENV)/.installed ## Move DLQ messages back to their queues once the cause is fixed (QUEUES="pe cl callback")
	@$(PY) -m bootstrap redrive $(QUEUES)

awslocal: $(VENV)/.installed ## Run the AWS CLI against the local engine: make awslocal ARGS="sqs list-queues"
	@PATH="$(CURDIR)/$(VENV)/bin:$$PATH" LOCALSTACK_HOST="127.0.0.1:$(or $(ENGINE_PORT),4566)" \
	  AWS_DEFAULT_REGION="$(or $(AWS_REGION),$(AWS_DEFAULT_REGION),us-east-1)" \
	  DISABLE_DEPRECATION_NOTICE=1 $(VENV)/bin/awslocal $(ARGS)

bench: up ## Benchmark: N appointments through the API, ours vs a no-op chain (COUNT=1000 CONCURRENCY=8)
	@$(PY) -m bench.flow --count "$(or $(COUNT),1000)" --concurrency "$(or $(CONCURRENCY),8)"

bench-up: venvs ## Time `make up` from a stopped engine (warm caches) and its re-run; restarts the engine
	@$(PY) -m bench.up_times

lint: $(VENV)/.installed ## ruff (lint and format), mypy, cfn-lint
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/cfn-lint bootstrap/template.yaml

unit: $(VENV)/.installed ## Unit tests: domain, services, handlers with in-memory fakes (no network)
	$(PY) -m pytest tests/unit

integration: venvs ## Adapter tests against the engine and MySQL (starts the engine if needed)
	$(PY) -m pytest tests/integration

e2e: venvs ## The full flow through the HTTP API (starts the stack if it is not running)
	$(PY) -m pytest tests/e2e

faults: venvs ## Real faults on the stack: MySQL refusing, poison messages, an engine restart
	$(PY) -m pytest tests/faults

test: venvs lint ## The whole suite: lint, unit, integration, e2e, faults (starts what it needs)
	$(PY) -m pytest

lock: ## Re-resolve requirements/*.txt from *.in, on Python 3.11 (the oldest supported) so the pins fit 3.11 and 3.12
	@rm -rf build/lock-venv && $(LOCK_PYTHON) -m venv build/lock-venv
	@build/lock-venv/bin/pip install $(PIP_FLAGS) pip-tools
	cd requirements && for f in lambda engine bootstrap dev; do \
	  ../build/lock-venv/bin/pip-compile --quiet --strip-extras --no-header --no-emit-index-url \
	    --no-emit-find-links --annotation-style=line $$f.in -o $$f.txt; done

clean: down ## Remove virtualenvs, build output and local state
	rm -rf $(VENV) $(ENGINE_VENV) build dist .local .mypy_cache .ruff_cache .pytest_cache
