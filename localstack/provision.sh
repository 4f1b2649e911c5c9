#!/bin/sh
# Run by the compose `provision` service once LocalStack and MySQL are healthy: the same
# bootstrap as `make up`, from inside the compose network (ENGINE_URL=http://localstack:4566),
# as the host user (HOME and the virtualenv under /tmp; the bind mount keeps the host's owner).
set -eu
cd "$(dirname "$0")/.."
venv=${KIT_VENV:-/tmp/kit-venv}
mkdir -p "$HOME"
python -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r requirements/bootstrap.txt
# The kit names the engine as it reaches it; the URLs it prints are for a browser on the host,
# which reaches the engine at PUBLIC_ENGINE_URL. The kit's exit status is kept through the pipe.
failed="$venv/up-failed"
rm -f "$failed"
{ "$venv/bin/python" -u -m bootstrap up || echo "$?" > "$failed"; } |
  sed -u "s#${ENGINE_URL}#${PUBLIC_ENGINE_URL:-$ENGINE_URL}#g"
if [ -s "$failed" ]; then
  exit "$(cat "$failed")"
fi
