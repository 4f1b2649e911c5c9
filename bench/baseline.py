"""The no-op chain: the stack's template deployed as its own stage with functions that only pass
the message on (bench/noop/). Its cost is the engine's own; ours is read as a ratio to it."""

from __future__ import annotations

from bootstrap import names, packaging
from bootstrap.config import DIST_DIR, ROOT, KitConfig
from bootstrap.stack import artifacts, provision

STAGE = "benchnoop"
SOURCE = ROOT / "bench" / "noop"


def deploy(config: KitConfig) -> str:
    """Build the one no-op zip, upload it, deploy the stack with it for every function."""
    built = packaging.zip_directory(SOURCE, DIST_DIR / "noop.zip")
    zips = [packaging.BuiltZip(name, built.path, built.sha256) for name in names.ZIPS]
    artifacts.upload_artifacts(config, zips)  # one file under each function's key
    return f"stack {provision.deploy_stack(config, provision.stack_parameters(config, zips))}"
