"""Print the interpreter the kit should use: a Python 3.12, the version of the AWS Lambda runtime.

Looks on PATH, then under pyenv. Falls back to the interpreter running this script and says so
on stderr, once. Standard library only: it runs before any virtualenv exists.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys

WANTED = (3, 12)


def _version(python: str) -> tuple[int, int] | None:
    try:
        out = subprocess.run(
            [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=20,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    major, minor = out.split(".")
    return int(major), int(minor)


def candidates() -> list[str]:
    found = []
    on_path = shutil.which("python{}.{}".format(*WANTED))
    if on_path:
        found.append(on_path)
    pyenv_root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    found += sorted(
        glob.glob(os.path.join(pyenv_root, "versions", "{}.{}.*".format(*WANTED), "bin", "python")),
        reverse=True,
    )
    return found


def main() -> int:
    for python in candidates():
        if _version(python) == WANTED:
            print(python)
            return 0
    print(
        "note: no Python {}.{} found (PATH or pyenv); the local engine runs on {} and the local zips "
        "are built for it. `make deploy` still builds for the AWS python3.12 runtime.".format(
            *WANTED, sys.version.split()[0]
        ),
        file=sys.stderr,
    )
    print(sys.executable)
    return 0


if __name__ == "__main__":
    sys.exit(main())
