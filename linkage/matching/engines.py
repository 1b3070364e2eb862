"""Execution engines for Splink: DuckDB on one machine (default) and Spark for a cluster."""

from __future__ import annotations

import os
import resource
import tempfile
import uuid
from enum import StrEnum
from pathlib import Path
from typing import Any

import duckdb
import psutil

from linkage.errors import LinkageError
from linkage.matching.splink_internals import similarity_jar_location


class Engine(StrEnum):
    """Where Splink runs: DuckDB on this machine, or Spark (a local or a cluster master)."""

    DUCKDB = "duckdb"
    SPARK = "spark"


# The default of the setting `HOSO_DUCKDB_MEMORY_LIMIT`: what a batch linking connection may hold in
# memory before DuckDB spills to disk. Unbounded, DuckDB takes up to 80% of the machine: scoring 2.2
# million records then peaked at 13.3 GB. The process also holds the records (about 4 GB at that
# size), so the default keeps linking under 8 GB.
DUCKDB_MEMORY_LIMIT = "2500MB"


def duckdb_connection(memory_limit: str = DUCKDB_MEMORY_LIMIT) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection for batch training and scoring: bounded memory, spilling to a
    temporary directory beyond it."""
    # A directory of its own (DuckDB creates it when it first spills and removes it on close), so that
    # concurrent linking processes never share spill files.
    spill = Path(tempfile.gettempdir()) / f"hoso-duckdb-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    return duckdb.connect(config={"memory_limit": memory_limit, "temp_directory": str(spill)})


def under_spark_submit() -> bool:
    """Whether this process was started by `spark-submit` (which hands Python its JVM through the
    gateway port): the master, the driver's memory and the partitions are then spark-submit's."""
    return "PYSPARK_GATEWAY_PORT" in os.environ


def spark_session(master: str | None = None, checkpoint_dir: str | None = None,
                  app_name: str = "hoso-linkage") -> Any:
    """A Spark session with Splink's string-similarity UDF jar, for `--engine spark`.

    `master` is a Spark master URL: `local[2]` on one machine, `spark://host:7077` or `yarn` on a
    cluster. None: the master `spark-submit` was given when it started this process (its `--conf`s
    then stand too), else `local[2]` with HoSo's defaults for one machine.
    """
    try:  # pyspark is optional (the `spark` extra): imported only when a Spark session is asked for
        from pyspark.sql import SparkSession  # noqa: PLC0415
    except ImportError as exc:
        raise LinkageError("Spark needs pyspark: pip install 'hoso[spark]'") from exc

    jar = similarity_jar_location()
    builder = (SparkSession.builder.appName(app_name)
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false"))  # HoSo says each step itself
    if master is None and not under_spark_submit():
        master = "local[2]"
    work = checkpoint_dir or tempfile.mkdtemp(prefix="hoso-spark-")
    if master is not None:
        builder = (builder.master(master)
                   .config("spark.jars", jar)
                   .config("spark.sql.warehouse.dir", str(Path(work) / "warehouse"))  # not the working folder
                   .config("spark.sql.shuffle.partitions", "8")
                   .config("spark.default.parallelism", "8")
                   .config("spark.driver.memory", "2g"))
    session = builder.getOrCreate()
    if master is None and Path(jar).name not in session.sparkContext.getConf().get("spark.jars", ""):
        # A jar named only in the application's conf reaches the executors, not the driver that
        # registers its functions: spark-submit must be given it.
        session.stop()
        raise LinkageError(f"spark-submit needs Splink's string-similarity jar: add --jars {jar}")
    session.sparkContext.setCheckpointDir(work)
    session.sparkContext.setLogLevel("ERROR")
    return session


def peak_memory_gb() -> dict[str, float]:
    """The peak resident memory, in GB, of this process (`hoso`: the driver's Python) and of the Spark
    driver's JVM, if any: the one it started (in local mode, the driver and the executors), or the one
    `spark-submit` started it from."""
    peaks = {"hoso": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024}  # KB on Linux
    here = psutil.Process()
    for process in [*here.children(recursive=True), *([here.parent()] if under_spark_submit() else [])]:
        try:
            if process is not None and "org.apache.spark.deploy.SparkSubmit" in process.cmdline():
                status = Path(f"/proc/{process.pid}/status").read_text()
                high = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
                peaks["spark_jvm"] = int(high.split()[1]) / 1024 / 1024
        except (psutil.Error, OSError, StopIteration):  # gone meanwhile, or no /proc: not measured
            continue
    return {name: round(gb, 2) for name, gb in peaks.items()}
