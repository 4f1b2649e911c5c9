"""Hostile and malformed input through the public API: a clear 4xx every time, never a 5xx, and
nothing written."""

from __future__ import annotations

from typing import Any

import pytest

from bootstrap import names
from bootstrap.config import KitConfig
from tests.support.api_client import AppointmentsApi
from tests.support.random_refs import random_insured_id, random_schedule_id, random_suffix
from tests.support.tally import outputs_for

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


def stored_with(kit_config: KitConfig, api: AppointmentsApi, insured: str, slot: int) -> list[dict[str, Any]]:
    """The items of the table behind `api` (each front door is a stack of its own) that carry this
    test's insured id or slot: whatever its requests stored, and nothing another test stored."""
    pages = (
        kit_config.client("dynamodb")
        .get_paginator("scan")
        .paginate(
            TableName=outputs_for(kit_config, api.base_url)[names.TABLE_NAME],
            FilterExpression="insuredId = :insured OR scheduleId = :slot",
            ExpressionAttributeValues={":insured": {"S": insured}, ":slot": {"N": str(slot)}},
        )
    )
    return [
        item
        for page in pages
        for item in page["Items"]
        if item["insuredId"].get("S") == insured or item["scheduleId"].get("N") == str(slot)
    ]


@pytest.mark.parametrize("field", ["insuredId", "scheduleId", "countryISO"])
def test_hostile_strings_in_any_field_get_400_naming_it_and_nothing_is_stored(
    api: AppointmentsApi, kit_config: KitConfig, field: str
) -> None:
    # Every request carries this test's insured id or slot in the fields it leaves alone, so
    # anything stored from it is found by them, in the front door's own table.
    insured, slot = random_insured_id("BAD"), random_schedule_id()
    replies = []
    for value in HOSTILE:
        body: dict[str, Any] = {"insuredId": insured, "scheduleId": slot, "countryISO": "PE", field: value}
        replies.append(api.create(body))

    assert {reply.status for reply in replies} == {400}
    assert all([e["field"] for e in reply.body["errors"]] == [field] for reply in replies)
    assert api.list(insured).body == {"items": []}
    assert stored_with(kit_config, api, insured, slot) == []


@pytest.mark.parametrize("value", [v for v in HOSTILE if v and "/" not in v])
def test_hostile_insured_ids_in_the_path_get_400(api: AppointmentsApi, value: str) -> None:
    reply = api.list(random_suffix(4) + urlquote(value))

    assert reply.status == 400, reply


# Bodies with @insured@ and @slot@ standing for the test's own insured id and slot.
@pytest.mark.parametrize(
    ("data", "content_type", "status"),
    [
        (b'{"insuredId": "@insured@", "scheduleId": @slot@, "countryISO": "PE"}', "text/plain", 415),
        (b"<appointment><insuredId>@insured@</insuredId></appointment>", "application/xml", 415),
        (b"insuredId=@insured@&scheduleId=@slot@&countryISO=PE", "application/x-www-form-urlencoded", 415),
        (b"--x\r\ncontent-disposition: form-data; name=a\r\n\r\nb\r\n--x--", "multipart/form-data", 415),
        (b"{not json", "application/json", 400),
        (b"[]", "application/json", 400),
        (b"null", "application/json", 400),
        (
            b'{"insuredId": "@insured@", "scheduleId": @slot@, "countryISO": "PE", "countryISO": "XX"}',
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
    insured, slot = random_insured_id("BAD"), random_schedule_id()
    reply = api.create_raw(
        data.replace(b"@insured@", insured.encode()).replace(b"@slot@", str(slot).encode()), content_type
    )

    assert reply.status == status, reply
    assert reply.body["message"]
    assert api.list(insured).body == {"items": []}


def urlquote(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="")
