"""`make pin-images` on copies of the kit's files, with the output `docker buildx imagetools
inspect` prints (recorded from Docker's reference page for the command) in place of a registry."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from bootstrap.config import KitError
from bootstrap.engines import pin_images
from tests.support.documents import interpolate, load_yaml, validate

# `docker buildx imagetools inspect alpine`, as docs.docker.com shows it (cut after two platforms).
RECORDED = """\
Name:      docker.io/library/alpine:latest
MediaType: application/vnd.docker.distribution.manifest.list.v2+json
Digest:    sha256:21a3deaa0d32a8057914f36584b5288d2e5ecc984380bc0118285c70fa8c9300

Manifests:
  Name:      docker.io/library/alpine:latest@sha256:e7d88de73db3d3fd9b2d63aa7f447a10fd0220b7cbf39803c803f2af9ba256b3
  MediaType: application/vnd.docker.distribution.manifest.v2+json
  Platform:  linux/amd64

  Name:      docker.io/library/alpine:latest@sha256:e047bc2af17934d38c5a7fa9f46d443f1de3a7675546402592ef805cfa929f9d
  MediaType: application/vnd.docker.distribution.manifest.v2+json
  Platform:  linux/arm/v6
"""
INDEX = "sha256:21a3deaa0d32a8057914f36584b5288d2e5ecc984380bc0118285c70fa8c9300"


def digest_for(tag: str) -> str:
    """A distinct digest per tag, so a file that got another image's digest shows."""
    return f"sha256:{sum(map(ord, tag)) % 65536:064x}"


@pytest.fixture
def kit_files(tmp_path: Path) -> list[Path]:
    copies = []
    for path in pin_images.PINNED_FILES:
        copy = tmp_path / path.name
        shutil.copy(path, copy)
        copies.append(copy)
    return copies


def test_the_index_digest_is_the_top_digest_line_not_a_platforms() -> None:
    assert pin_images.index_digest(RECORDED) == INDEX


def test_output_without_a_digest_line_is_an_error() -> None:
    with pytest.raises(KitError, match="no Digest line"):
        pin_images.index_digest("ERROR: docker.io/library/nothing:1: not found\n")


def test_the_compose_file_names_three_pinnable_images() -> None:
    tags = pin_images.image_tags(pin_images.PINNED_FILES[0].read_text())

    assert set(tags) == {"LOCALSTACK_IMAGE", "MYSQL_IMAGE", "PYTHON_IMAGE"}
    assert all("@" not in tag for tag in tags.values())


def test_pinning_writes_each_image_with_its_digest_everywhere_it_is_named(kit_files: list[Path]) -> None:
    compose, env_example, workflow = kit_files
    asked: list[str] = []

    def inspect(tag: str) -> str:
        asked.append(tag)
        return RECORDED.replace(INDEX, digest_for(tag))

    printed = pin_images.pin_images(kit_files, inspect)

    tags = pin_images.image_tags(compose.read_text())
    assert sorted(asked) == sorted(tags.values())
    assert len(printed) == 3
    services = yaml.safe_load(compose.read_text())["services"]
    for name, variable in (
        ("localstack", "LOCALSTACK_IMAGE"),
        ("mysql", "MYSQL_IMAGE"),
        ("provision", "PYTHON_IMAGE"),
    ):
        tag = tags[variable]
        assert services[name]["image"] == f"${{{variable}:-{tag}@{digest_for(tag)}}}"
    mysql = f"{tags['MYSQL_IMAGE']}@{digest_for(tags['MYSQL_IMAGE'])}"
    assert f"# MYSQL_IMAGE={mysql}\n" in env_example.read_text()
    assert load_yaml(workflow)["jobs"]["test"]["services"]["mysql"]["image"] == mysql
    validate(interpolate(load_yaml(compose), {}), "compose-spec.json")
    validate(load_yaml(workflow), "github-workflows.json")


def test_pinning_again_replaces_the_old_digest_and_leaves_a_longer_tag_alone() -> None:
    old, new = "sha256:" + "a" * 64, "sha256:" + "b" * 64
    text = f"image: mysql:8.4.6@{old}\nother: mysql:8.4.60\nlast: mysql:8.4.6\n"

    assert pin_images.pin(text, "mysql:8.4.6", new) == (
        f"image: mysql:8.4.6@{new}\nother: mysql:8.4.60\nlast: mysql:8.4.6@{new}\n"
    )


def test_a_failing_inspect_changes_no_file(kit_files: list[Path]) -> None:
    before = [path.read_text() for path in kit_files]

    def inspect(tag: str) -> str:
        if tag.startswith("python"):
            raise KitError("docker buildx imagetools inspect failed: unauthorized")
        return RECORDED

    with pytest.raises(KitError, match="unauthorized"):
        pin_images.pin_images(kit_files, inspect)
    assert [path.read_text() for path in kit_files] == before
