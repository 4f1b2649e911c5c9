"""`make pin-images`: pin each image of docker-compose.yml to the digest its tag names in the
registry now, written as `name:tag@sha256:...` in docker-compose.yml, .env.example and the CI
workflow's MySQL service. Docker pulls by the digest (the tag only says what it was), so a tag
moved in the registry later changes nothing here until this is run again and the change is
committed.

It needs a machine whose Docker reaches the registry: `docker buildx imagetools inspect <tag>`
prints the digest of the tag's image index (all platforms), the one a multi-platform pull uses.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable, Iterable
from pathlib import Path

from bootstrap.config import COMPOSE_FILE, ROOT, KitError

# The files that name the images; docker-compose.yml holds the defaults that are pinned.
PINNED_FILES = (COMPOSE_FILE, ROOT / ".env.example", ROOT / ".github" / "workflows" / "ci.yml")
DIGEST = r"sha256:[0-9a-f]{64}"
IMAGE_DEFAULT = re.compile(rf"\$\{{(?P<variable>\w+_IMAGE):-(?P<tag>[^}}@]+)(?:@{DIGEST})?\}}")
INDEX_DIGEST_LINE = re.compile(rf"^Digest:\s+(?P<digest>{DIGEST})\s*$", re.MULTILINE)


def image_tags(compose_text: str) -> dict[str, str]:
    """Each `${NAME_IMAGE:-tag}` default of the compose file: variable -> tag (without a digest)."""
    return {match["variable"]: match["tag"] for match in IMAGE_DEFAULT.finditer(compose_text)}


def index_digest(inspect_output: str) -> str:
    """The top `Digest:` line of `docker buildx imagetools inspect`: the image index's digest.
    The per-platform manifests below it are indented and ignored."""
    match = INDEX_DIGEST_LINE.search(inspect_output)
    if match is None:
        raise KitError("`docker buildx imagetools inspect` printed no Digest line")
    return match["digest"]


def pin(text: str, tag: str, digest: str) -> str:
    """Every `tag` in `text`, with or without an earlier digest, becomes `tag@digest`."""
    reference = re.compile(rf"{re.escape(tag)}(?:@{DIGEST})?(?![\w.:@-])")
    return reference.sub(f"{tag}@{digest}", text)


def inspect(tag: str) -> str:
    try:
        result = subprocess.run(
            ["docker", "buildx", "imagetools", "inspect", tag],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    except FileNotFoundError:
        raise KitError("no `docker` command: pin the images on a machine with Docker") from None
    if result.returncode != 0:
        said = (result.stderr.strip().splitlines() or ["no message"])[-1]
        raise KitError(f"docker buildx imagetools inspect {tag} failed: {said}")
    return result.stdout


def pin_images(files: Iterable[Path] = PINNED_FILES, inspect: Callable[[str], str] = inspect) -> list[str]:
    """Pin every image default of the first file (the compose file) in all `files`; one line each."""
    texts = {path: path.read_text() for path in files}
    compose = next(iter(texts.values()))
    pinned = []
    for variable, tag in image_tags(compose).items():
        digest = index_digest(inspect(tag))
        texts = {path: pin(text, tag, digest) for path, text in texts.items()}
        pinned.append(f"{variable:<17} {tag}@{digest}")
    for path, text in texts.items():
        if path.read_text() != text:
            path.write_text(text)
    return pinned
