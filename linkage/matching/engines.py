"""Execution engines for Splink: DuckDB on one machine (default) and Spark for a cluster."""

from __future__ import annotations

import os
import tempfile
import uuid
from enum import StrEnum
from pathlib import Path
from typing import Any

import duckdb

from linkage.errors import LinkageError
from linkage.matching.splink_internals import similarity_jar_location


# What a batch linking connection may hold in memory before DuckDB spills to disk. Unbounded, DuckDB
# takes up to 80% of the machine: scoring 2.2 million records then peaked at 13.3 GB. The process
# also holds the records (about 4 GB at that size), so the default keeps linking under 8 GB.
class Engine(StrEnum):
    """Where Splink runs: DuckDB on this machine, or Spark (a local or a cluster master)."""

    DUCKDB = "duckdb"
    SPARK = "spark"


# The default of the setting `HOSO_DUCKDB_MEMORY_LIMIT`.
DUCKDB_MEMORY_LIMIT = "2500MB"


def duckdb_connection(memory_limit: str = DUCKDB_MEMORY_LIMIT) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection for batch training and scoring: bounded memory, spilling to a
    temporary directory beyond it."""
    # A directory of its own (DuckDB creates it when it first spills and removes it on close), so that
    # concurrent linking processes never share spill files.
    spill = Path(tempfile.gettempdir()) / f"hoso-duckdb-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    return duckdb.connect(config={"memory_limit": memory_limit, "temp_directory": str(spill)})


def spark_session(master: str = "local[2]", checkpoint_dir: str | None = None, app_name: str = "hoso-linkage") -> Any:
    """A Spark session with Splink's string-similarity UDF jar, for `--engine spark`.

    `master` is a Spark master URL: `local[2]` on one machine, `spark://host:7077` or `yarn` on a
    cluster.
    """
    try:  # pyspark is optional (the `spark` extra): imported only when a Spark session is asked for
        from pyspark.sql import SparkSession  # noqa: PLC0415
    except ImportError as exc:
        raise LinkageError("Spark needs pyspark: pip install 'hoso[spark]'") from exc

    session = (
        SparkSession.builder.master(master)
        .appName(app_name)
        .config("spark.jars", similarity_jar_location())
        .config("spark.sql.shuffle.partitions", "8")
        .config("spark.default.parallelism", "8")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.memory", "2g")
        .getOrCreate()
    )
    session.sparkContext.setCheckpointDir(checkpoint_dir or tempfile.mkdtemp(prefix="hoso-spark-"))
    session.sparkContext.setLogLevel("ERROR")
    return session
