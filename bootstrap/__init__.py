"""The kit's bootstrap: builds the Lambda zips, runs the local engine and provisions the stack.

The kit reads the names it shares with the functions (the countries, the SSM parameter leaves)
from their package, so `lambdas/` is put on the import path here, once, for every module below
and for bench/.
"""

import sys
from pathlib import Path

_LAMBDA_SOURCE = str(Path(__file__).resolve().parent.parent / "lambdas")
if _LAMBDA_SOURCE not in sys.path:
    sys.path.append(_LAMBDA_SOURCE)
