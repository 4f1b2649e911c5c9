"""The kit's YAML files read as their tools read them, and checked against the published schemas
vendored in tests/schemas/ (Compose, GitHub workflows)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import yaml

SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"


def interpolate(value: Any, environ: dict[str, str]) -> Any:
    """Compose's `${NAME:-default}` substitution, through lists and mappings (`$$` is a `$`)."""
    if isinstance(value, dict):
        return {key: interpolate(item, environ) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, environ) for item in value]
    if not isinstance(value, str):
        return value
    substituted = re.sub(
        r"(?<!\$)\$\{(\w+):-([^}]*)\}", lambda m: environ.get(m.group(1)) or m.group(2), value
    )
    return substituted.replace("$$", "$")


def load_yaml(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text())
    if True in document:  # YAML 1.1 reads the workflow's `on:` key as a boolean
        document["on"] = document.pop(True)
    return dict(document)


def validate(document: dict[str, Any], schema_file: str) -> None:
    schema = json.loads((SCHEMAS / schema_file).read_text())
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    errors = sorted(validator_class(schema).iter_errors(document), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)
