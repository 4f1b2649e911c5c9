"""The engine of the restart test's own: started in the background when the session starts, on
another port with its own state folder, so stopping it mid-flow stops nothing another test uses.

`python -m tests.support.own_engine` brings it up: the engine, the kit's zips in its own S3, the
stage `t-restart`; then stops it (it saves its state) and starts it again (it loads it), so what
it saved is there from the first run on. Its last line goes to the `ready` file: `ok`, or why not.
"""

from __future__ import annotations

import sys
import time
import traceback

from bootstrap.config import KitConfig, KitError
from bootstrap.dev import kit
from bootstrap.dev.kit import Stack
from bootstrap.engines import ministack
from bootstrap.stack import artifacts
from tests.support.stages import (
    OWN_ENGINE_STAGE,
    OWN_ENGINE_STATE,
    STAGES,
    kit_zips,
    own_engine,
    provision_stage,
)

READY = OWN_ENGINE_STATE / "ready"
READY_WITHIN_SECONDS = 180.0


def bring_up(kit_config: KitConfig) -> Stack:
    """The own engine started (when it is not running) and its stage provisioned; no-ops when done."""
    config = own_engine(kit_config)
    ministack.start(config)
    zips = kit_zips(kit_config)
    artifacts.upload_artifacts(config, zips)
    return provision_stage(kit_config, STAGES[OWN_ENGINE_STAGE], zips)


def wait_ready(timeout: float = READY_WITHIN_SECONDS) -> None:
    """Until the background start has written `ok`; its error otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        said = READY.read_text().strip() if READY.exists() else ""
        if said == "ok":
            return
        if said:
            raise KitError(f"the restart test's own engine did not come up: {said}")
        time.sleep(0.5)
    raise KitError(
        f"the restart test's own engine was not up within {timeout:.0f} s (its log: {READY.parent})"
    )


def main() -> int:
    READY.parent.mkdir(parents=True, exist_ok=True)
    READY.unlink(missing_ok=True)
    kit_config, _ = kit.resolve()
    try:
        bring_up(kit_config)
        ministack.stop(own_engine(kit_config))
        ministack.start(own_engine(kit_config))  # loads what it saved: the stage is there as it was
    except Exception as error:  # the test that waits for it names it
        READY.write_text(f"{type(error).__name__}: {error}\n{traceback.format_exc()}")
        return 1
    READY.write_text("ok\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
