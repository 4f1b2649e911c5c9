"""The CloudFormation template as data, its short-form tags (!Ref, !GetAtt, !Sub, ...) read into
their long forms ({"Ref": ...}, {"Fn::GetAtt": [...]}), as CloudFormation reads them. A plain YAML
load, for the tests that read the template's wiring; `make lint` (cfn-lint) checks the template."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bootstrap.config import TEMPLATE


class _TemplateLoader(yaml.SafeLoader):
    pass


def _ref(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
    return {"Ref": loader.construct_scalar(node)}  # type: ignore[arg-type]


def _condition(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
    return {"Condition": loader.construct_scalar(node)}  # type: ignore[arg-type]


def _get_att(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        resource, attribute = str(loader.construct_scalar(node)).split(".", 1)
        return {"Fn::GetAtt": [resource, attribute]}
    return {"Fn::GetAtt": loader.construct_sequence(node, deep=True)}  # type: ignore[arg-type]


def _function(name: str) -> Any:
    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
        if isinstance(node, yaml.ScalarNode):
            return {f"Fn::{name}": loader.construct_scalar(node)}
        if isinstance(node, yaml.SequenceNode):
            return {f"Fn::{name}": loader.construct_sequence(node, deep=True)}
        return {f"Fn::{name}": loader.construct_mapping(node, deep=True)}  # type: ignore[arg-type]

    return construct


_TemplateLoader.add_constructor("!Ref", _ref)
_TemplateLoader.add_constructor("!Condition", _condition)
_TemplateLoader.add_constructor("!GetAtt", _get_att)
for _name in (
    "Sub",
    "If",
    "Equals",
    "Not",
    "And",
    "Or",
    "Join",
    "Select",
    "Split",
    "FindInMap",
    "Base64",
    "Cidr",
):
    _TemplateLoader.add_constructor(f"!{_name}", _function(_name))
_TemplateLoader.add_constructor("!GetAZs", _function("GetAZs"))
_TemplateLoader.add_constructor("!ImportValue", _function("ImportValue"))


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    loaded = yaml.load(path.read_text(), Loader=_TemplateLoader)  # noqa: S506 (a SafeLoader with CFN tags)
    assert isinstance(loaded, dict), f"{path} is not a mapping"
    return loaded
