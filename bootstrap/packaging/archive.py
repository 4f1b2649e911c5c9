"""Reproducible archives: sorted entries, fixed timestamps and modes, so the same sources give the same bytes and the content hash can name the S3 object."""

from __future__ import annotations

import hashlib
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

from bootstrap.packaging.manifest import zip_entries

FIXED_DATE = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class BuiltZip:
    name: str
    path: Path
    sha256: str

    @property
    def s3_key(self) -> str:
        return f"functions/{self.name}-{self.sha256[:16]}.zip"


def write_archive(
    file: Path | BinaryIO, sources: list[tuple[str, Path]], level: int, mode: Literal["w", "a"] = "w"
) -> None:
    """Writes `sources` sorted, each with the same date and mode; `mode` "a" appends them to the
    archive already in `file`."""
    with zipfile.ZipFile(file, mode, compression=zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
        for arcname, path in sorted(sources):
            info = zipfile.ZipInfo(arcname, date_time=FIXED_DATE)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())


def write_zip(destination: Path, sources: list[tuple[str, Path]]) -> str:
    destination.parent.mkdir(parents=True, exist_ok=True)
    write_archive(destination, sources, level=9)
    return hashlib.sha256(destination.read_bytes()).hexdigest()


def zip_directory(source: Path, destination: Path) -> BuiltZip:
    """A zip of `source` alone (no dependencies), named after the destination's stem."""
    return BuiltZip(destination.stem, destination, write_zip(destination, list(zip_entries(source, ()))))
