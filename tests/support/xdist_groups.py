"""Each stage's tests on one worker, under pytest 9.2 (a plugin the root conftest registers)."""

from __future__ import annotations

import pytest
from _pytest.nodeid import coerce_node_id

from tests.support.one_at_a_time import in_xdist_worker


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep each stage's tests on one worker. pytest-xdist's `--dist loadgroup` marks a grouped
    test by appending `@group` to its `_nodeid`, which pytest 9.2 no longer reads (its node ids are
    structured): the groups are silently ignored (pytest-xdist issue 1386). The same suffix is set
    here on the id pytest reads, before the worker reports what it collected."""
    if not (in_xdist_worker() and config.getvalue("loadgroup")):
        return
    for item in items:
        groups = sorted({str(mark.args[0]) for mark in item.iter_markers("xdist_group") if mark.args})
        if groups and "@" not in item.nodeid:
            item._id = coerce_node_id(f"{item.nodeid}@{'_'.join(groups)}")
