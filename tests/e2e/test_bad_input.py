"""Hostile and malformed input through the public API: a clear 4xx every time, never a 5xx, and
nothing written."""

from __future__ import annotations

from typing import Any

import pytest

from bootstrap import names
from bootstrap.config import KitConfig
from bootstrap.kit import Stack
from tests.support.api_client import AppointmentsApi
from tests.support.random_refs import random_insured_id, random_suffix

HOSTILE = [
    "' OR '1'='1",
    "x'); DROP TABLE appointments;--",
    "ñandú",
    "😀",
    "\u0000",
    "\u202eLIVE",
    "<script>alert(1)</script>",
    "${jndi:ldap://127.0.0.1/a}",
    "../../etc/passwd",
    "",
    " ",
    "P" * 33,
]


def scan_values(kit_config: KitConfig, stack: Stack, values: set[str]) -> int:
    """How many stored appointments carry any of these values in any field."""
    dynamodb = kit_config.client("dynamodb")
    found = 0
    for page in dynamodb.get_paginator("scan").paginate(TableName=stack.outputs[names.TABLE_NAME]):
        for item in page["Items"]:
            found += any(attribute.get("S") in values for attribute in item.values())
    return found


@pytest.mark.parametrize("field", ["insuredId", "scheduleId", "countryISO"])
def test_hostile_strings_in_any_field_get_400_naming_it_and_nothing_is_stored(
    api: AppointmentsApi, kit_config: KitConfig, stack: Stack, field: str
) -> None:
    insured = random_insured_id("BAD")
    stored_before = scan_values(kit_config, stack, set(HOSTILE))
    replies = []
    for value in HOSTILE:
        body: dict[str, Any] = {"insuredId": insured, "scheduleId": 1, "countryISO": "PE", field: value}
        replies.append(api.create(body))

    assert {reply.status for reply in replies} == {400}
    assert all([e["field"] for e in reply.body["errors"]] == [field] for reply in replies)
    assert api.list(insured).body == {"items": []}
    assert scan_values(kit_config, stack, set(HOSTILE)) == stored_before


@pytest.mark.parametrize("value", [v for v in HOSTILE if v and "/" not in v])
def test_hostile_insured_ids_in_the_path_get_400(api: AppointmentsApi, value: str) -> None:
    reply = api.list(random_suffix(4) + urlquote(value))

    assert reply.status == 400, reply


@pytest.mark.parametrize(
    ("data", "content_type", "status"),
    [
        (b'{"insuredId": "PE001", "scheduleId": 1, "countryISO": "PE"}', "text/plain", 415),
        (b"<appointment><insuredId>PE001</insuredId></appointment>", "application/xml", 415),
        (b"insuredId=PE001&scheduleId=1&countryISO=PE", "application/x-www-form-urlencoded", 415),
        (b"--x\r\ncontent-disposition: form-data; name=a\r\n\r\nb\r\n--x--", "multipart/form-data", 415),
        (b"{not json", "application/json", 400),
        (b"[]", "application/json", 400),
        (b"null", "application/json", 400),
        (
            b'{"insuredId": "PE001", "scheduleId": 1, "countryISO": "PE", "countryISO": "XX"}',
            "application/json",
            400,
        ),
        (b"\xff\xfe\xfd", "application/json", 400),
        (b"x" * 9000, "application/json", 413),
    ],
    ids=[
        "text",
        "xml",
        "form",
        "multipart",
        "broken-json",
        "array",
        "null",
        "duplicate-key",
        "not-utf8",
        "oversized",
    ],
)
def test_wrong_content_is_refused_with_a_clear_message(
    api: AppointmentsApi, data: bytes, content_type: str, status: int
) -> None:
    reply = api.create_raw(data, content_type)

    assert reply.status == status, reply
    assert reply.body["message"]


def urlquote(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="")
