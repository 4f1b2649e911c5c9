#!/bin/sh
# Run by the compose `provision` service once LocalStack and MySQL are healthy: the same
# bootstrap as `make up`, from inside the compose network (ENGINE_URL=http://localstack:4566;
# the URLs it prints name PUBLIC_ENGINE_URL, where the host reaches LocalStack), as the host
# user (HOME and the virtualenv under /tmp; the bind mount keeps the host's owner).
set -eu
cd "$(dirname "$0")/.."
venv=${KIT_VENV:-/tmp/kit-venv}
mkdir -p "$HOME"
python -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check --require-hashes -r requirements/bootstrap.txt
exec "$venv/bin/python" -m bootstrap up
