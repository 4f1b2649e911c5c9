"""The API keys: the parameter read as one key per client application (or one plain key), the
cached keys, and a fresh read when a key matches none of them."""

from __future__ import annotations

import json

import pytest
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

from appointments.adapters.ssm import (
    DEFAULT_CLIENT,
    MIN_KEY_LENGTH,
    ApiKey,
    InvalidApiKeys,
    parse_api_keys,
    ssm_api_key,
)
from appointments.ports import KeysUnavailable

PORTAL_KEY = "portal-key-0123456789abcdef"
BILLING_KEY = "billing-key-0123456789abcdef"
OLD_KEY, NEW_KEY = "old-key-0123456789abcdef", "new-key-0123456789abcdef"


class KeyInStore:
    """Stands in for SSM behind powertools' cache: `cached` is what a read without force returns."""

    def __init__(self, value: str) -> None:
        self.stored = value
        self.cached = value
        self.forced_reads = 0

    def read(self, force: bool) -> str:
        if force:
            self.forced_reads += 1
            self.cached = self.stored
        return self.cached


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def named(**keys: str) -> str:
    return json.dumps(keys)


def test_a_plain_value_is_the_one_key_of_the_default_client() -> None:
    assert parse_api_keys("N6n-JFC8sxTmEmOukOSDpb3lQky07FcB\n") == {
        DEFAULT_CLIENT: "N6n-JFC8sxTmEmOukOSDpb3lQky07FcB"
    }


def test_a_plain_key_of_16_characters_is_long_enough() -> None:
    assert parse_api_keys(PORTAL_KEY[:16]) == {DEFAULT_CLIENT: PORTAL_KEY[:16]}


def test_the_key_the_kit_makes_is_long_enough() -> None:
    from bootstrap.stack.parameters import new_api_key

    key = new_api_key()

    assert len(key) >= MIN_KEY_LENGTH
    assert parse_api_keys(key) == {DEFAULT_CLIENT: key}


def test_a_json_object_names_one_key_per_client() -> None:
    assert parse_api_keys(named(portal=PORTAL_KEY, billing=BILLING_KEY)) == {
        "portal": PORTAL_KEY,
        "billing": BILLING_KEY,
    }


@pytest.mark.parametrize(
    ("stored", "says"),
    [
        ("", "empty"),
        ('{"portal": "' + PORTAL_KEY, "not valid JSON"),
        ("{}", "JSON object"),
        ('{"portal": ["' + PORTAL_KEY + '"]}', "string of 16"),
        ('{"portal": "shortkey"}', "string of 16"),
        ('{"por tal": "' + PORTAL_KEY + '"}', "client name"),
        ('{"": "' + PORTAL_KEY + '"}', "client name"),
        (named(portal=PORTAL_KEY, billing=PORTAL_KEY), "share a key"),
        ("x", "16 characters or more"),
        (PORTAL_KEY[:15], "16 characters or more"),
        ('{"portal": "' + PORTAL_KEY + '", "portal": "' + BILLING_KEY + '"}', "'portal' is named twice"),
    ],
    ids=[
        "empty",
        "broken-json",
        "no-clients",
        "not-a-string",
        "short",
        "space",
        "no-name",
        "shared",
        "one-character-plain-key",
        "plain-key-one-short",
        "a-client-named-twice",
    ],
)
def test_a_parameter_that_cannot_be_read_as_keys_is_refused_without_quoting_a_key(
    stored: str, says: str
) -> None:
    with pytest.raises(InvalidApiKeys, match=says) as refused:
        parse_api_keys(stored)

    assert PORTAL_KEY[:15] not in str(refused.value)
    assert BILLING_KEY not in str(refused.value)
    assert "shortkey" not in str(refused.value)


def test_each_clients_key_is_accepted_and_names_its_client() -> None:
    key = ApiKey(KeyInStore(named(portal=PORTAL_KEY, billing=BILLING_KEY)).read, clock=Clock())

    assert key.client(PORTAL_KEY) == "portal"
    assert key.client(BILLING_KEY) == "billing"
    assert key.client("portal") is None
    assert key.client(PORTAL_KEY[:-1]) is None


def test_the_cached_key_is_accepted_without_a_fresh_read() -> None:
    store = KeyInStore(OLD_KEY)
    key = ApiKey(store.read, clock=Clock())

    assert key.client(OLD_KEY) == DEFAULT_CLIENT
    assert store.forced_reads == 0


def test_a_rotated_key_works_at_once_and_the_old_one_stops_after_the_fresh_read() -> None:
    store, clock = KeyInStore(OLD_KEY), Clock()
    key = ApiKey(store.read, recheck_seconds=5, clock=clock)
    store.stored = NEW_KEY  # rotated in SSM; the cache still holds the old one

    assert key.client(NEW_KEY) == DEFAULT_CLIENT
    assert store.forced_reads == 1
    assert key.client(OLD_KEY) is None


def test_rotation_through_a_second_client_accepts_old_and_new_until_the_old_is_removed() -> None:
    """The documented procedure: add the new key beside the old, move the callers, remove the old."""
    old, new = OLD_KEY, NEW_KEY
    store, clock = KeyInStore(old), Clock()
    key = ApiKey(store.read, recheck_seconds=5, clock=clock)

    store.stored = named(portal=old, **{"portal-2026-12": new})
    assert key.client(new) == "portal-2026-12"  # not in the cache: read again at once
    assert key.client(old) == "portal"

    store.stored = named(**{"portal-2026-12": new})
    clock.now += 5
    assert key.client("anything-else") is None  # a key that matches nothing reads the store again
    assert key.client(old) is None
    assert key.client(new) == "portal-2026-12"


def test_wrong_keys_reread_the_store_at_most_once_per_interval() -> None:
    store, clock = KeyInStore(PORTAL_KEY), Clock()
    key = ApiKey(store.read, recheck_seconds=5, clock=clock)

    assert [key.client("wrong") for _ in range(50)] == [None] * 50
    assert store.forced_reads == 1
    clock.now += 5
    assert key.client("wrong") is None
    assert store.forced_reads == 2


def test_a_store_that_does_not_answer_in_time_is_reported_unavailable_never_as_a_wrong_key() -> None:
    class TimingOut:
        def get(self, name: str, **_: object) -> str:
            raise GetParameterError("Read timeout on endpoint URL")

    keys = ssm_api_key("/rimac/api/key", provider=TimingOut())  # type: ignore[arg-type]

    with pytest.raises(KeysUnavailable, match="/rimac/api/key could not be read: GetParameterError"):
        keys.client("any-key-of-sixteen-characters")
