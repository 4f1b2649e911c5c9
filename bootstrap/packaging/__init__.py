"""Builds the Lambda zips: our package plus the locked runtime dependencies, without boto3.

Zips are reproducible: the same sources and lock give byte-identical files (sorted entries,
fixed timestamps and modes), so the content hash can name the S3 object.

Each module rides with its bytecode, compiled by the build for the target's Python and marked
"unchecked hash": the Lambda code folder is read-only, so without it every cold start compiles
pydantic and powertools again (bench/cold_start.py measures the difference). Which modules a cold
start loads is found by importing the handlers, so bytecode is left out where the build cannot
import them as the target does (`why_no_bytecode`), and stray `__pycache__` folders of the
sources never ride along.

manifest (what a zip holds), target (the Python it is for), bytecode, archive (reproducible
files) and zips (the build itself); what the rest of the kit uses is handed on here.
"""

from bootstrap.packaging.archive import BuiltZip, zip_directory
from bootstrap.packaging.manifest import FUNCTIONS, FunctionZip
from bootstrap.packaging.target import AWS_TARGET, Host, Target, install_command, why_no_bytecode
from bootstrap.packaging.zips import InMemoryZips, build

__all__ = [
    "AWS_TARGET",
    "FUNCTIONS",
    "BuiltZip",
    "FunctionZip",
    "Host",
    "InMemoryZips",
    "Target",
    "build",
    "install_command",
    "why_no_bytecode",
    "zip_directory",
]
