"""The kit's state folder and files are readable by this user alone, from the moment they exist."""

from __future__ import annotations

import stat
from pathlib import Path

from bootstrap.config import open_private, private_dir


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_state_folder_is_made_or_narrowed_to_this_user_with_what_it_holds(tmp_path: Path) -> None:
    made, existing = tmp_path / "new", tmp_path / "old"
    existing.mkdir(mode=0o755)
    (existing / "engine-state").mkdir(mode=0o755)
    (existing / "engine-state" / "ssm.json").write_text("{}")
    (existing / "engine-state" / "ssm.json").chmod(0o644)

    private_dir(made)
    private_dir(existing)

    assert (mode(made), mode(existing)) == (0o700, 0o700)
    assert mode(existing / "engine-state") == 0o700
    assert mode(existing / "engine-state" / "ssm.json") == 0o600


def test_a_new_file_is_private_and_an_existing_one_is_narrowed_before_the_write(tmp_path: Path) -> None:
    new, old = tmp_path / "api-key", tmp_path / "engine.log"
    old.write_text("earlier\n")
    old.chmod(0o644)

    with open_private(new) as written:
        assert mode(new) == 0o600  # already, before a byte is written
        written.write("secret\n")
    with open_private(old, "a") as appended:
        assert mode(old) == 0o600
        appended.write("later\n")

    assert new.read_text() == "secret\n"
    assert old.read_text() == "earlier\nlater\n"
