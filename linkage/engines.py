"""Execution engines for Splink: DuckDB on one machine (default) and Spark for a cluster."""

from __future__ import annotations

import tempfile
from typing import Any


def spark_session(master: str = "local[2]", checkpoint_dir: str | None = None, app_name: str = "hoso-linkage") -> Any:
    """A Spark session with Splink's string-similarity UDF jar, for `--engine spark`.

    `master` is a Spark master URL: `local[2]` on one machine, `spark://host:7077` or `yarn` on a
    cluster.
    """
    from pyspark.sql import SparkSession
    from splink.internals.spark.jar_location import similarity_jar_location

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
