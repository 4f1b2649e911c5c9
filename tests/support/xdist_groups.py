"""Node ids pytest 9.2 no longer builds as its plugins expect (a plugin the root conftest
registers): each stage's tests on one worker, and each API operation's schemathesis test a test
of its own."""

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
    for item in items:
        # schemathesis names each operation's test `test[POST /appointments]` by its `_nodeid`,
        # which pytest 9.2 does not read either: the operations' tests shared one id, and
        # pytest-xdist ran only one of them.
        label = getattr(item, "operation_label", None)
        if label and f"[{label}]" not in item.nodeid:
            item._id = coerce_node_id(f"{item.nodeid}[{label}]")
    if not (in_xdist_worker() and config.getvalue("loadgroup")):
        return
    for item in items:
        groups = sorted({str(mark.args[0]) for mark in item.iter_markers("xdist_group") if mark.args})
        if groups and "@" not in item.nodeid:
            item._id = coerce_node_id(f"{item.nodeid}@{'_'.join(groups)}")
