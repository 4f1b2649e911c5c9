# The kit's front door. `make help` lists every target.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV        := .venv
ENGINE_VENV := .engine-venv
SCAN_VENV   := .scan-venv
PY          := $(VENV)/bin/python
# Python 3.12 (the AWS runtime) when one is found, on PATH or under pyenv; evaluated only when a
# virtualenv has to be created. uv uses it and never downloads one of its own.
KIT_PYTHON   = $(shell python3 bootstrap/find_python.py)
export UV_PYTHON_DOWNLOADS := never
# Python keeps what it compiles (pytest its rewritten test modules and plugins too) even where
# the environment says not to: without that cache each pytest process and each kit command compiles
# them again, seconds of CPU every time. The engine still runs the functions without writing any
# (bootstrap/engines/ministack.py), as Lambda's read-only code folder does.
unexport PYTHONDONTWRITEBYTECODE
export NO_MKDOCS_2_WARNING := 1
# uv creates every environment: the one on PATH when it is the version requirements/uv.txt pins,
# else that version bootstrapped into build/uv-venv by pip, its hashes required.
UV_PIN  := $(shell sed -n 's/^uv==\([0-9.]*\).*/\1/p' requirements/uv.txt)
UV      := $(or $(shell uv --version 2>/dev/null | grep -qE '^uv $(subst .,\.,$(UV_PIN))( |$$)' && command -v uv),build/uv-venv/bin/uv)
# Every lock is resolved for Python 3.11 and newer on any platform, each pin with its hashes.
LOCK_FLAGS  := --quiet --universal --python-version 3.11 --generate-hashes --no-header --annotation-style=line

# What a user gives the kit, on make's command line (make deploy STAGE=dev) or in the environment,
# reaches the recipes and the kit's Python through the environment only, never as recipe text:
# taken literally ($(value): no make function in it runs, not even when make exports it), exported,
# and named in a recipe as "$$NAME", so quotes, $(...), backticks or ; in it stay characters; Python
# then checks its shape. A variable given neither way stays unset.
USER_VARIABLES := ID QUEUES ARGS JSON COUNT CONCURRENCY SEED TEST_WORKERS DOCS_PORT APPOINTMENTS CONSOLE_PORT \
  STAGE API_FLAVOUR DB_PARAMETERS_PREFIX SUBNET_IDS SECURITY_GROUP_ID BUCKET ENDPOINT DATABASE_TLS \
  REST_API_LOGS_ROLE DB_HOST DB_PORT DB_ADMIN_USER DB_ADMIN_PASSWORD DB_USER_HOST FUNCTIONS_DB_HOST SSL_CA \
  ENGINE ENGINE_PORT ENGINE_URL PUBLIC_ENGINE_URL PERSIST AWS_REGION AWS_DEFAULT_REGION API_KEY_PARAMETER \
  MYSQL_HOST MYSQL_PORT MYSQL_USER MYSQL_PASSWORD LAMBDA_MYSQL_HOST LAMBDA_MYSQL_PORT \
  QUEUE_VISIBILITY_TIMEOUT MAX_RECEIVE_COUNT DOCKER_SOCK DOCKER_HOST HOST_UID HOST_GID \
  COMPOSE_MYSQL_PORT MYSQL_ROOT_PASSWORD LOCALSTACK_AUTH_TOKEN LOCALSTACK_IMAGE MYSQL_IMAGE
TEST_WORKERS ?= 4
$(foreach name,$(USER_VARIABLES),$(if $(filter undefined,$(origin $(name))),,\
  $(eval override $(name) := $$(value $(name)))$(eval export $(name))))

.PHONY: help venvs up down build pin-images deploy db-users migrate openapi asyncapi docs docs-build watch logs status trace redrive console screenshots awslocal bench cost bench-console bench-up bench-backlog test test-durations lint lint-code lint-template unit integration e2e faults lock clean

help: ## List the targets
	@grep -hE '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

build/uv-venv/bin/uv: requirements/uv.txt
	@echo "Bootstrapping uv $(UV_PIN) into build/uv-venv (no uv $(UV_PIN) on PATH) ..."
	@rm -rf build/uv-venv && "$(KIT_PYTHON)" -m venv build/uv-venv
	@build/uv-venv/bin/pip install --quiet --disable-pip-version-check --require-hashes -r requirements/uv.txt
	@touch $@

# Not quiet: uv names each package it installs. The locks carry hashes, and uv requires them.
$(VENV)/.installed: requirements/dev.txt | $(UV)
	@echo "Creating $(VENV) and installing requirements/dev.txt ..."
	@rm -rf $(VENV) && $(UV) venv --quiet --python "$(KIT_PYTHON)" $(VENV)
	@$(UV) pip sync --python $(VENV)/bin/python --require-hashes --compile-bytecode requirements/dev.txt
	@touch $@

$(ENGINE_VENV)/.installed: requirements/engine.txt | $(UV)
	@echo "Creating $(ENGINE_VENV) (the local engine, kept apart: it pins botocore) ..."
	@rm -rf $(ENGINE_VENV) && $(UV) venv --quiet --python "$(KIT_PYTHON)" $(ENGINE_VENV)
	@$(UV) pip sync --python $(ENGINE_VENV)/bin/python --require-hashes --compile-bytecode requirements/engine.txt
	@touch $@

# Only `make lint` needs the scanner, so `make up` never installs it.
$(SCAN_VENV)/.installed: requirements/scan.txt | $(UV)
	@echo "Creating $(SCAN_VENV) (checkov, the template's security scanner, kept apart: it pins boto3) ..."
	@rm -rf $(SCAN_VENV) && $(UV) venv --quiet --python "$(KIT_PYTHON)" $(SCAN_VENV)
	@$(UV) pip sync --python $(SCAN_VENV)/bin/python --require-hashes --compile-bytecode requirements/scan.txt
	@touch $@

venvs: $(VENV)/.installed $(ENGINE_VENV)/.installed

up: venvs ## Start the local cloud (ministack, or LocalStack where Docker answers), provision everything, print URL, key, curls
	@$(PY) -m bootstrap up

down: ## Stop the local engine that `make up` started
	@if [ -x $(PY) ]; then $(PY) -m bootstrap down; else echo "nothing to stop"; fi

build: $(VENV)/.installed ## Build the Lambda zips for the AWS python3.12 runtime into dist/
	@$(PY) -m bootstrap build

pin-images: $(VENV)/.installed ## Pin docker-compose.yml's images (and CI's MySQL) to their registry digests; needs Docker
	@$(PY) -m bootstrap pin-images

deploy: $(VENV)/.installed ## Deploy to AWS: STAGE=dev [API_FLAVOUR=rest [REST_API_LOGS_ROLE=existing]] [SUBNET_IDS=a,b SECURITY_GROUP_ID=sg] [DATABASE_TLS=off] [ENDPOINT=url]
	@test -n "$$STAGE" || { echo "error: name the stage: make deploy STAGE=dev"; exit 1; }
	@$(PY) -m bootstrap deploy --stage "$$STAGE" --api-flavour "$${API_FLAVOUR:-http}" \
	  --db-parameters-prefix "$${DB_PARAMETERS_PREFIX:-/rimac/db}" \
	  $${SUBNET_IDS:+--subnet-ids "$$SUBNET_IDS"} $${SECURITY_GROUP_ID:+--security-group-id "$$SECURITY_GROUP_ID"} \
	  $${BUCKET:+--bucket "$$BUCKET"} $${ENDPOINT:+--endpoint "$$ENDPOINT"} \
	  $${DATABASE_TLS:+--database-tls "$$DATABASE_TLS"} \
	  $${REST_API_LOGS_ROLE:+--rest-api-logs-role "$$REST_API_LOGS_ROLE"}

db-users: $(VENV)/.installed ## Country MySQL users on RDS, generated passwords into SSM: DB_HOST=host DB_ADMIN_USER=admin [DB_USER_HOST=10.0.%] [SSL_CA=file]
	@test -n "$$DB_HOST" && test -n "$$DB_ADMIN_USER" || { echo "error: name the server and its admin: make db-users DB_HOST=my-rds... DB_ADMIN_USER=admin"; exit 1; }
	@$(PY) -m bootstrap db-users --host "$$DB_HOST" --admin-user "$$DB_ADMIN_USER" \
	  --db-parameters-prefix "$${DB_PARAMETERS_PREFIX:-/rimac/db}" $${DB_PORT:+--port "$$DB_PORT"} \
	  $${DB_USER_HOST:+--user-host "$$DB_USER_HOST"} $${FUNCTIONS_DB_HOST:+--functions-host "$$FUNCTIONS_DB_HOST"} \
	  $${SSL_CA:+--ssl-ca "$$SSL_CA"}

migrate: $(VENV)/.installed ## Schema migrations on RDS, to the schemas SSM names: DB_HOST=host DB_ADMIN_USER=admin [SSL_CA=file]
	@test -n "$$DB_HOST" && test -n "$$DB_ADMIN_USER" || { echo "error: name the server and its admin: make migrate DB_HOST=my-rds... DB_ADMIN_USER=admin"; exit 1; }
	@$(PY) -m bootstrap migrate --host "$$DB_HOST" --admin-user "$$DB_ADMIN_USER" \
	  --db-parameters-prefix "$${DB_PARAMETERS_PREFIX:-/rimac/db}" $${DB_PORT:+--port "$$DB_PORT"} \
	  $${SSL_CA:+--ssl-ca "$$SSL_CA"}

openapi: $(VENV)/.installed ## Regenerate docs/openapi.json from the routes and pydantic models
	@$(PY) -m bootstrap openapi > docs/openapi.json
	@echo "wrote docs/openapi.json"

asyncapi: $(VENV)/.installed ## Regenerate docs/asyncapi.json from the message models and resource names
	@$(PY) -m bootstrap asyncapi > docs/asyncapi.json
	@echo "wrote docs/asyncapi.json"

docs: $(VENV)/.installed ## Serve the docs site on 127.0.0.1:DOCS_PORT (8000), rebuilt on each save
	$(VENV)/bin/mkdocs serve --strict --dev-addr "127.0.0.1:$${DOCS_PORT:-8000}"

docs-build: $(VENV)/.installed ## Build the docs site into build/site; --strict: a broken link, page or anchor fails
	$(VENV)/bin/mkdocs build --strict

watch: $(VENV)/.installed ## Redeploy a function's code about a second after you save a change to it
	@$(PY) -m bootstrap watch

logs: $(VENV)/.installed ## Follow all functions' logs, one colored line per event (JSON=1 for raw)
	@$(PY) -m bootstrap logs $${JSON:+--json}

status: $(VENV)/.installed ## The stack's resources, queue and DLQ depths, appointments per status
	@$(PY) -m bootstrap status

trace: $(VENV)/.installed ## One appointment's journey, hop by hop: make trace ID=<appointmentId>
	@test -n "$$ID" || { echo "error: name the appointment: make trace ID=01..."; exit 1; }
	@$(PY) -m bootstrap trace "$$ID"

redrive: $(VENV)/.installed ## Move DLQ messages back to their queues once the cause is fixed (QUEUES="pe cl callback")
	@read -ra queues <<< "$$QUEUES"; $(PY) -m bootstrap redrive "$${queues[@]}"

console: $(VENV)/.installed ## The console in the browser on 127.0.0.1, port CONSOLE_PORT (4580): flow map, appointments, journeys, dead letters (redrive), logs
	@$(PY) -m bootstrap console

# The console's browser tests take the pictures (the dead letter one on a stage of their own).
screenshots: venvs ## The console's pages as PNGs in docs/images/, taken by its browser tests (starts what they need)
	$(PY) -m pytest -p no:cacheprovider tests/e2e/test_console.py tests/faults/test_console_dead_letters.py -k "map or journey or dlq"
	@mkdir -p docs/images && cp .local/artifacts/console-*.png docs/images/ && ls docs/images/console-*.png

# ARGS is split into words as a shell would (quotes group), by Python, and run by no shell.
awslocal: $(VENV)/.installed ## Run the AWS CLI against the local engine: make awslocal ARGS="sqs list-queues"
	@PATH="$(CURDIR)/$(VENV)/bin:$$PATH" LOCALSTACK_HOST="127.0.0.1:$${ENGINE_PORT:-4566}" \
	  AWS_DEFAULT_REGION="$${AWS_REGION:-$${AWS_DEFAULT_REGION:-us-east-1}}" \
	  DISABLE_DEPRECATION_NOTICE=1 $(PY) -m bootstrap.engines.awslocal $(VENV)/bin/awslocal

bench: up ## Benchmark: N appointments through the API, ours vs the plain design and a no-op chain, requests and cost counted (COUNT=1000 CONCURRENCY=8)
	@$(PY) -m bench.flow --count "$${COUNT:-1000}" --concurrency "$${CONCURRENCY:-8}"

cost: $(VENV)/.installed ## The monthly AWS bill per chain and service, from the last `make bench` (APPOINTMENTS=1000000)
	@$(PY) -m bench.cost --appointments "$${APPOINTMENTS:-1000000}"

bench-console: up ## The console's overview: answer time with 10,000 appointments and 1,000 dead letters (stage bench-console)
	@$(PY) -m bench.console

bench-backlog: up ## The reconciler draining a backlog the topic refused: COUNT=10000 [SEED=direct] (posted through the API by default)
	@$(PY) -m bench.backlog --count "$${COUNT:-10000}" --seed "$${SEED:-api}"

bench-up: venvs ## Time `make up` (stopped engine, re-run), then the loop on fresh clones: make up with no cache, make e2e, make test, .ci/run
	@$(PY) -m bench.up_times
	@$(PY) -m bench.loop_times

# checkov evaluates the template's Conditions with the parameters' defaults: it also scans a copy
# whose ApiFlavour defaults to rest, so the REST API's resources are scanned too.
# Two halves, which `make -j2 lint` (as `make test` runs it) runs side by side.
lint: lint-code lint-template ## ruff (lint and format), mypy, the docs' build, cfn-lint, checkov (the template's security scan)

lint-code: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/mkdocs build --strict

lint-template: $(VENV)/.installed $(SCAN_VENV)/.installed
	$(VENV)/bin/cfn-lint bootstrap/stack/template.yaml
	@mkdir -p build/scan && sed '/^  ApiFlavour:/,/^  [A-Za-z]*:$$/ s/^    Default: http$$/    Default: rest/' \
	  bootstrap/stack/template.yaml > build/scan/template-rest.yaml
	@! cmp -s bootstrap/stack/template.yaml build/scan/template-rest.yaml || { echo "lint: ApiFlavour's default is no longer http; fix the Makefile's rest copy"; exit 1; }
	$(SCAN_VENV)/bin/checkov --quiet --compact --framework cloudformation --skip-download \
	  --file bootstrap/stack/template.yaml --file build/scan/template-rest.yaml

unit: $(VENV)/.installed ## Unit tests: domain, services, handlers with in-memory fakes (no network)
	$(PY) -m pytest tests/unit

integration: venvs ## Adapter tests against the engine and MySQL (starts the engine if needed)
	$(PY) -m pytest $(PARALLEL) tests/integration

e2e: venvs ## The full flow through the HTTP API (starts the stack if it is not running)
	@$(call timed,parallel,$(PY) -m pytest $(PARALLEL) $(SLOWEST) tests/e2e) \
	  $(PHASE_TIMES); exit "$$parallel"

faults: venvs ## Real faults on the stack: MySQL refusing, poison messages, an engine restart
	$(PY) -m pytest tests/faults

# Every test on TEST_WORKERS processes (they use fresh ids; most of their time is waiting for the
# flow). A test that breaks something does it on a stage of its own (tests/support/stages.py),
# the tests of one stage one after another on one worker (an xdist_group). Then the audit: the
# scan of every log line the run left for a secret.
PARALLEL = -n "$$TEST_WORKERS" --dist loadgroup  # TEST_WORKERS is 4 unless given (above)

# `make e2e` and `make test` end with each session's five slowest tests and the wall time of each
# phase, so a regression shows at once. $(call timed,NAME,COMMAND) runs COMMAND, keeps its exit
# status in $$NAME and its line for $(PHASE_TIMES), which prints them all.
SLOWEST = --durations=5
# $(call phase_line,NAME,SECONDS[,NOTE]) is one such line, its exit status (in $$NAME) when not 0.
timed = started=$$SECONDS; $(2); $(1)=$$?; phases+=$(call phase_line,$(1),$$((SECONDS - started)));
phase_line = "$$(printf '  %-9s %5d s%s' $(1) $(2) '$(3)')$$( (( $(1) )) && echo ", exit $$$(1)")"$$'\n'
BESIDE := , beside the session
PHASE_TIMES = printf '\nWall time per phase:\n%s' "$$phases"

# Lint runs beside the parallel session, its output kept aside and printed after it: while the
# session brings up its stages it mostly waits for the engine, which takes one core. A failed lint
# fails `make test` all the same.
test: venvs ## The whole suite: lint, unit, integration, e2e, faults (starts what it needs)
	@lint_log="$$(mktemp)"; trap 'rm -f "$$lint_log" "$$lint_log.done"' EXIT; \
	  ( started=$$SECONDS; $(MAKE) --no-print-directory -j2 --output-sync=target lint > "$$lint_log" 2>&1; \
	    echo "$$? $$((SECONDS - started))" > "$$lint_log.done" ) & \
	  $(call timed,parallel,$(PY) -m pytest $(PARALLEL) $(SLOWEST) -m "not after_every_flow") \
	  wait; cat "$$lint_log"; read -r lint lint_seconds < "$$lint_log.done"; \
	  phases=$(call phase_line,lint,"$$lint_seconds",$(BESIDE))"$$phases"; \
	  $(call timed,audit,$(PY) -m pytest -m after_every_flow $(AUDIT)) \
	  $(PHASE_TIMES); exit $$(( lint || parallel || audit ))

AUDIT = tests/faults/test_no_secrets_in_logs.py

test-durations: $(VENV)/.installed ## Keep the last `make test`'s times in the repository, for a fresh clone's first session to hand out the longest work first
	@$(PY) -m tests.support.longest_first

lock: | $(UV) ## Re-resolve requirements/*.txt from *.in with hashes, for Python 3.11 and newer (the oldest supported)
	cd requirements && for f in uv lambda engine bootstrap dev scan; do \
	  $(abspath $(UV)) pip compile $(LOCK_FLAGS) $$f.in -o $$f.txt; done

clean: down ## Remove virtualenvs, build output and local state
	rm -rf $(VENV) $(ENGINE_VENV) $(SCAN_VENV) build dist .local .mypy_cache .ruff_cache .pytest_cache
