#!/bin/sh
# Run by the compose `provision` service once LocalStack and MySQL are healthy: the same
# bootstrap as `make up`, from inside the compose network (ENGINE_URL=http://localstack:4566).
set -eu
cd "$(dirname "$0")/.."
python -m venv /tmp/kit-venv
/tmp/kit-venv/bin/pip install --quiet --disable-pip-version-check -r requirements/bootstrap.txt
exec /tmp/kit-venv/bin/python -m bootstrap up
