"""localstack/provision.sh, the compose `provision` service's command, run with a stand-in
`python` (no container, no network): the kit runs with the service's environment, including the
engine's URL as the host reaches it (which the printed URLs name:
tests/unit/kit/test_kit_settings.py), and its exit status is the service's."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from bootstrap.config import ROOT

SCRIPT = ROOT / "localstack" / "provision.sh"
# `python -m venv DIR` makes a DIR whose pip does nothing and whose python prints its arguments
# and the engine's two URLs it was given, then exits with $KIT_EXIT.
FAKE_PYTHON = """#!/bin/sh
venv="$3"
mkdir -p "$venv/bin"
printf '#!/bin/sh\\nexit 0\\n' > "$venv/bin/pip"
cat > "$venv/bin/python" <<'KIT'
#!/bin/sh
echo "kit $* at $ENGINE_URL, $PUBLIC_ENGINE_URL from the host"
exit "${KIT_EXIT:-0}"
KIT
chmod +x "$venv/bin/pip" "$venv/bin/python"
"""


def provision(tmp_path: Path, kit_exit: int) -> subprocess.CompletedProcess[str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "python").write_text(FAKE_PYTHON)
    (bin_dir / "python").chmod(0o755)
    env = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(tmp_path / "home"),
        "KIT_VENV": str(tmp_path / "venv"),
        "ENGINE_URL": "http://localstack:4566",
        "PUBLIC_ENGINE_URL": "http://127.0.0.1:4567",
        "KIT_EXIT": str(kit_exit),
    }
    shell = shutil.which("sh") or "/bin/sh"  # the image's /bin/sh is dash, as Debian's here
    return subprocess.run([shell, str(SCRIPT)], env=env, capture_output=True, text=True, timeout=30)


def test_the_kit_provisions_with_both_urls_of_the_engine(tmp_path: Path) -> None:
    done = provision(tmp_path, kit_exit=0)

    assert done.returncode == 0, done.stderr
    assert (
        done.stdout == "kit -m bootstrap up at http://localstack:4566, http://127.0.0.1:4567 from the host\n"
    )
    assert (tmp_path / "home").is_dir()  # HOME exists for a user without a passwd entry


@pytest.mark.parametrize("kit_exit", [1, 55])
def test_a_failed_provisioning_fails_the_service_with_the_kits_status(tmp_path: Path, kit_exit: int) -> None:
    done = provision(tmp_path, kit_exit=kit_exit)

    assert done.returncode == kit_exit
    assert "http://127.0.0.1:4567" in done.stdout  # what it printed got through
