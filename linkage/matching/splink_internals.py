"""The pieces of Splink's internals HoSo uses, imported here and nowhere else.

Splink's internals may change between minor versions, so `pyproject.toml` pins Splink's minor version
while this module exists; a test fails if `splink.internals` is imported anywhere else.
"""

from __future__ import annotations

from typing import Any

from splink.internals.misc import prob_to_match_weight
from splink.internals.realtime import compare_records


def similarity_jar_location() -> str:
    """The path of the Scala similarity UDFs' jar that Splink ships for Spark."""
    # pyspark is optional (the `spark` extra): imported only when a Spark session is asked for.
    from splink.internals.spark.jar_location import similarity_jar_location as location  # noqa: PLC0415

    path: Any = location()
    return str(path)


__all__ = ["compare_records", "prob_to_match_weight", "similarity_jar_location"]
