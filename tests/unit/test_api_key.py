"""The API key check: a cached key, checked once more against a fresh read when it does not match."""

from __future__ import annotations

from appointments.adapters.ssm import ApiKey


class KeyInStore:
    """Stands in for SSM behind powertools' cache: `cached` is what a read without force returns."""

    def __init__(self, key: str) -> None:
        self.stored = key
        self.cached = key
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


def test_the_cached_key_is_accepted_without_a_fresh_read() -> None:
    store = KeyInStore("old")
    key = ApiKey(store.read, clock=Clock())

    assert key.matches("old")
    assert store.forced_reads == 0


def test_a_rotated_key_works_at_once_and_the_old_one_stops_after_the_fresh_read() -> None:
    store, clock = KeyInStore("old"), Clock()
    key = ApiKey(store.read, recheck_seconds=5, clock=clock)
    store.stored = "new"  # rotated in SSM; the cache still holds "old"

    assert key.matches("new")
    assert store.forced_reads == 1
    assert not key.matches("old")


def test_wrong_keys_reread_the_store_at_most_once_per_interval() -> None:
    store, clock = KeyInStore("right"), Clock()
    key = ApiKey(store.read, recheck_seconds=5, clock=clock)

    assert [key.matches("wrong") for _ in range(50)] == [False] * 50
    assert store.forced_reads == 1
    clock.now += 5
    assert not key.matches("wrong")
    assert store.forced_reads == 2
