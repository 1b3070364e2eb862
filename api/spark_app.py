"""`hoso` as a Spark application: `spark-submit [options] <this file> link --engine spark [--json]`.

spark-submit runs a Python file as a script, which puts the file's folder first on the import path.
From `api/`, its modules would then shadow the libraries they are named after (`api/fhir.py` hides
the package `fhir.resources`), so that folder leaves the path before anything else is imported.
The master, the driver's memory and the executors are spark-submit's (see docs/operations.md).
"""

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != _HERE]

from api.cli import main  # noqa: E402  (after the path is mended)

if __name__ == "__main__":
    main()
