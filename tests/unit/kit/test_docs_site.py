"""The README is a front page a newcomer reads in five minutes, and the docs site holds the rest:
every page of docs/ is in the site's navigation, and every link of the README into docs/ leads
to a page (`make docs-build`, run by `make lint`, checks the site's own links and anchors)."""

from __future__ import annotations

import re
from typing import Any

import yaml

from bootstrap.config import ROOT

README = ROOT / "README.md"
DOCS = ROOT / "docs"
README_MOST_LINES = 150


def nav_pages(entries: list[Any]) -> set[str]:
    pages: set[str] = set()
    for entry in entries:
        for value in entry.values() if isinstance(entry, dict) else [entry]:
            pages |= nav_pages(value) if isinstance(value, list) else {value}
    return pages


def site_config() -> dict[str, Any]:
    # mkdocs.yml names a Python function for the mermaid fence: read it as plain YAML, tags kept as text
    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("tag:yaml.org,2002:python/", lambda loader, suffix, node: suffix)
    return dict(yaml.load((ROOT / "mkdocs.yml").read_text(), Loader=Loader))  # noqa: S506 (a SafeLoader)


def test_the_readme_is_short() -> None:
    lines = README.read_text().splitlines()
    assert len(lines) <= README_MOST_LINES, f"README.md has {len(lines)} lines; move detail to docs/"


def test_every_page_of_docs_is_in_the_site_navigation_and_every_nav_entry_is_a_page() -> None:
    pages = {path.relative_to(DOCS).as_posix() for path in DOCS.rglob("*.md")}
    listed = nav_pages(site_config()["nav"])
    assert listed == pages


def test_every_link_of_the_readme_into_docs_leads_to_a_page() -> None:
    links = re.findall(r"\]\((docs/[^)#]+)(?:#[^)]*)?\)", README.read_text())
    assert links, "the README links into the docs site"
    missing = [link for link in links if not (ROOT / link).is_file()]
    assert missing == []


def test_the_site_is_built_strictly_and_shows_the_api_documents() -> None:
    config = site_config()
    assert config["docs_dir"] == "docs"
    assert all(value == "warn" for value in config["validation"]["links"].values())
    for page, document in (
        ("contracts/openapi.md", "openapi.json"),
        ("contracts/asyncapi.md", "asyncapi.json"),
    ):
        assert f'--8<-- "{document}"' in (DOCS / page).read_text()
    builds = [line for line in (ROOT / "Makefile").read_text().splitlines() if "mkdocs build" in line]
    assert builds, "make lint and make docs-build build the site"
    # --quiet hides the warnings --strict counts: with it a broken link passes
    assert all("--strict" in line and "--quiet" not in line for line in builds), builds
