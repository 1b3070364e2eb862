"""A Neo4j Community server that HoSo fetches from Maven Central and runs itself.

The server's jars come from the POM of `org.neo4j.assembly:neo4j-community-standalone`, copied by
Maven into a cache folder once; the server runs from `org.neo4j.server.CommunityEntryPoint` on
Java 17 with a `neo4j.conf` written here, Bolt on 127.0.0.1 only and HTTP off. The password is
generated at first start and kept in a file readable by its owner only.

    server = ManagedNeo4j(home=Path(".data/neo4j"), cache_dir=Path("~/.cache/hoso"))
    state = server.start()      # fetches on first use, then starts in seconds
    state.uri, state.password
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil
from neo4j.exceptions import DriverError, Neo4jError

from graph.connection import Neo4jTarget, open_driver, verify
from graph.errors import Neo4jNotRunning, Neo4jServerError

log = logging.getLogger(__name__)

ENTRY_POINT = "org.neo4j.server.CommunityEntryPoint"
# A store at most this share of the memory available is read into the system's file cache after a start
# (`ManagedNeo4j.read_ahead`).
READ_AHEAD_SHARE = 0.6
ADMIN_TOOL = "org.neo4j.cli.AdminTool"
ASSEMBLY = ("org.neo4j.assembly", "neo4j-community-standalone")
# Optional modules of the assembly that Maven Central does not carry; the server runs without them.
EXCLUDED_ARTIFACTS = ("neo4j-push-to-cloud", "neo4j-genai-plugin")
JAVA_OPENS = (
    "java.base/java.lang",
    "java.base/java.lang.invoke",
    "java.base/java.nio",
    "java.base/sun.nio.ch",
    "java.base/java.io",
    "java.base/java.net",
    "java.base/java.util",
    "java.base/java.util.concurrent",
)

_POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>hoso</groupId><artifactId>neo4j-fetch</artifactId><version>1</version>
  <dependencies>
    <dependency>
      <groupId>{group}</groupId>
      <artifactId>{artifact}</artifactId>
      <version>{version}</version>
      <type>pom</type>
      <exclusions>{exclusions}</exclusions>
    </dependency>
  </dependencies>
</project>
"""


@dataclass(frozen=True)
class ServerState:
    """What a running managed server is: where it listens and how to sign in."""

    uri: str
    bolt_port: int
    pid: int
    version: str
    user: str
    password: str


@dataclass(frozen=True)
class ServerStatus:
    """The answer of `hoso neo4j status`."""

    uri: str | None
    pid: int | None
    process_alive: bool
    answering: bool
    version: str | None


def find_free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on `host` that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """True when `port` can be bound on `host` the way Neo4j binds it (SO_REUSEADDR: a port whose old
    connections linger in TIME_WAIT after a stop is free again, so a restarted server keeps its port
    and clients holding the old address reconnect)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def pid_alive(pid: int) -> bool:
    """True when `pid` is a live Neo4j server process (a reused pid running something else is not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True
    return ENTRY_POINT.encode() in cmdline


class ManagedNeo4j:
    """Fetch, configure, start and stop one Neo4j Community server under `home`."""

    def __init__(
        self,
        home: Path,
        cache_dir: Path,
        version: str = "5.26.30",
        heap: str = "1g",
        pagecache: str = "512m",
        bolt_port: int | None = None,
    ) -> None:
        self.home = home.expanduser().resolve()
        self.cache_dir = cache_dir.expanduser().resolve()
        self.version = version
        self.heap = heap
        self.pagecache = pagecache
        self.fixed_port = bolt_port

    # -- paths ---------------------------------------------------------------------------------
    @property
    def lib_dir(self) -> Path:
        return self.cache_dir / f"neo4j-community-{self.version}" / "lib"

    @property
    def conf_dir(self) -> Path:
        return self.home / "conf"

    @property
    def state_file(self) -> Path:
        return self.home / "server.json"

    @property
    def password_file(self) -> Path:
        return self.home / "password"

    @property
    def console_log(self) -> Path:
        return self.home / "logs" / "console.log"

    # -- fetching ------------------------------------------------------------------------------
    def ensure_distribution(self) -> Path:
        """The folder of the server's jars, fetched from Maven Central the first time."""
        marker = self.lib_dir / ".complete"
        if marker.exists():
            return self.lib_dir
        java = shutil.which("java")
        if java is None:
            raise Neo4jServerError("no Java found on PATH: install Java 17 (OpenJDK) to run Neo4j")
        if shutil.which("mvn") is None:
            raise Neo4jServerError("no Maven found on PATH: install Maven to fetch Neo4j from Maven Central")
        self.lib_dir.parent.mkdir(parents=True, exist_ok=True)
        exclusions = "".join(
            f"<exclusion><groupId>org.neo4j</groupId><artifactId>{a}</artifactId></exclusion>"
            for a in EXCLUDED_ARTIFACTS
        )
        log.info("fetching Neo4j %s from Maven Central into %s", self.version, self.lib_dir)
        with tempfile.TemporaryDirectory(dir=self.lib_dir.parent) as tmp:
            pom = Path(tmp) / "pom.xml"
            pom.write_text(
                _POM.format(group=ASSEMBLY[0], artifact=ASSEMBLY[1], version=self.version, exclusions=exclusions)
            )
            out = Path(tmp) / "lib"
            proc = subprocess.run(
                ["mvn", "-q", "-B", "-f", str(pom), "dependency:copy-dependencies", f"-DoutputDirectory={out}"],
                capture_output=True,
                text=True,
                check=False,
            )
            if proc.returncode != 0 or not any(out.glob("neo4j-server-*.jar")):
                errors = [ln for ln in proc.stdout.splitlines() if "[ERROR]" in ln] or [proc.stderr.strip()]
                reason = errors[0].replace("[ERROR]", "").strip()[:300] if errors else "no jars"
                raise Neo4jServerError(f"could not fetch Neo4j {self.version} with Maven: {reason}")
            (out / ".complete").write_text(self.version)
            if self.lib_dir.exists():
                shutil.rmtree(self.lib_dir)
            out.rename(self.lib_dir)
        return self.lib_dir

    # -- state ---------------------------------------------------------------------------------
    def read_state(self) -> ServerState | None:
        """The recorded state of the server, or None when it was never started here."""
        try:
            raw = json.loads(self.state_file.read_text())
            password = self.password_file.read_text().strip()
        except (OSError, ValueError):
            return None
        return ServerState(password=password, **raw)

    def _write_state(self, state: ServerState) -> None:
        raw = asdict(state)
        raw.pop("password")
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(raw))
        tmp.replace(self.state_file)

    def _password(self) -> tuple[str, bool]:
        """The server's password, generated and stored with mode 600 at first start."""
        if self.password_file.exists():
            return self.password_file.read_text().strip(), False
        # Hex, not url-safe base64: neo4j-admin reads a password that starts with '-' as an option
        # (one start in 64 failed with "Missing required parameter: '<password>'").
        password = secrets.token_hex(24)
        fd = os.open(self.password_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(password)
        return password, True

    def _check_writable(self) -> None:
        try:
            self.home.mkdir(parents=True, exist_ok=True)
            probe = self.home / ".write-probe"
            probe.write_text("ok")
            probe.unlink()
        except OSError as exc:
            raise Neo4jServerError(f"data directory {self.home} is not writable: {exc.strerror}") from exc

    def _choose_port(self, previous: int | None) -> int:
        if self.fixed_port is not None:
            if not port_is_free(self.fixed_port):
                raise Neo4jServerError(f"port {self.fixed_port} on 127.0.0.1 is taken: choose another one")
            return self.fixed_port
        if previous is not None and port_is_free(previous):
            return previous
        return find_free_port()

    def _write_conf(self, port: int) -> None:
        self.conf_dir.mkdir(parents=True, exist_ok=True)
        for sub in ("data", "logs", "run", "import", "plugins"):
            (self.home / sub).mkdir(exist_ok=True)
        conf = {
            "server.default_listen_address": "127.0.0.1",
            "server.default_advertised_address": "127.0.0.1",
            "server.bolt.enabled": "true",
            "server.bolt.listen_address": f"127.0.0.1:{port}",
            "server.bolt.advertised_address": f"127.0.0.1:{port}",
            "server.http.enabled": "false",
            "server.https.enabled": "false",
            "server.directories.data": str(self.home / "data"),
            "server.directories.logs": str(self.home / "logs"),
            "server.directories.run": str(self.home / "run"),
            "server.directories.import": str(self.home / "import"),
            "server.directories.plugins": str(self.home / "plugins"),
            "server.memory.heap.initial_size": self.heap,
            "server.memory.heap.max_size": self.heap,
            "server.memory.pagecache.size": self.pagecache,
            "dbms.security.auth_enabled": "true",
            "dbms.usage_report.enabled": "false",
            "db.tx_log.rotation.retention_policy": "1 files",
            # One plan per query, whatever the length of its list parameters. By default Cypher plans a
            # query anew for each order of magnitude of a list's length (1, 2-10, 11-100, 101-1,000, ...),
            # 0.1-0.4 s each: after a start, a batch paid that for every query whose rows fell in a size
            # the warm-up had not run (two possible matches, 1,016 visits). HoSo's writes are `UNWIND
            # $rows` with index lookups per row, the same plan for one row as for 5,000.
            "internal.cypher.use_parameter_size": "false",
        }
        text = "# Written by HoSo at each start; edit the settings, not this file.\n"
        text += "".join(f"{k}={v}\n" for k, v in conf.items())
        (self.conf_dir / "neo4j.conf").write_text(text)

    def _java_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["NEO4J_HOME"] = str(self.home)
        env["NEO4J_CONF"] = str(self.conf_dir)
        return env

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self, timeout: float = 180.0) -> ServerState:
        """Start the server (or find it running) and wait until it answers `RETURN 1`."""
        current = self.read_state()
        if current is not None and pid_alive(current.pid):
            wait_until_ready(current.uri, current.user, current.password, timeout=timeout)
            return current
        self._check_writable()
        lib = self.ensure_distribution()
        port = self._choose_port(current.bolt_port if current else None)
        self._write_conf(port)
        password, first = self._password()
        classpath = f"{lib}/*"
        if first:
            proc = subprocess.run(
                ["java", "-cp", classpath, ADMIN_TOOL, "dbms", "set-initial-password", password],
                env=self._java_env(),
                capture_output=True,
                text=True,
                check=False,
            )
            if proc.returncode != 0:
                self.password_file.unlink(missing_ok=True)
                raise Neo4jServerError(f"could not set the Neo4j password: {proc.stderr.strip()[:300]}")
        opens = [f"--add-opens={m}=ALL-UNNAMED" for m in JAVA_OPENS]
        cmd = [
            "java",
            f"-Xms{self.heap}",
            f"-Xmx{self.heap}",
            "-XX:+UseG1GC",
            "-XX:+ExitOnOutOfMemoryError",
            "-Dfile.encoding=UTF-8",
            *opens,
            "--add-exports=java.base/sun.nio.ch=ALL-UNNAMED",
            "-cp",
            classpath,
            ENTRY_POINT,
            f"--home-dir={self.home}",
            f"--config-dir={self.conf_dir}",
        ]
        self.console_log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.console_log, "ab") as out:
            proc_handle = subprocess.Popen(
                cmd,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self._java_env(),
                cwd=self.home,
                start_new_session=True,
            )
        state = ServerState(
            uri=f"bolt://127.0.0.1:{port}",
            bolt_port=port,
            pid=proc_handle.pid,
            version=self.version,
            user="neo4j",
            password=password,
        )
        self._write_state(state)
        try:
            wait_until_ready(state.uri, state.user, password, timeout=timeout, process=proc_handle)
        except Neo4jServerError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc_handle.pid, signal.SIGKILL)
            raise Neo4jServerError(self._failure_reason(port)) from None
        return state

    def _failure_reason(self, port: int) -> str:
        text = ""
        for log_file in (self.console_log, self.home / "logs" / "neo4j.log"):
            with contextlib.suppress(OSError):
                text += log_file.read_text(errors="replace")[-20000:]
        if "Address already in use" in text:
            return f"Neo4j could not bind port {port} on 127.0.0.1: the port is taken"
        lines = [ln for ln in text.splitlines() if "ERROR" in ln or "Exception" in ln]
        last = lines[-1].strip()[:300] if lines else "no reason in its logs"
        return f"Neo4j did not start: {last} (see {self.console_log})"

    def stop(self, timeout: float = 60.0) -> bool:
        """Shut the server down cleanly; True when one was running."""
        state = self.read_state()
        if state is None or not pid_alive(state.pid):
            return False
        os.kill(state.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not pid_alive(state.pid):
                return True
            time.sleep(0.2)
        log.warning("Neo4j did not stop within %.0f s; killing it", timeout)
        with contextlib.suppress(ProcessLookupError):
            os.kill(state.pid, signal.SIGKILL)
        return True

    def admin(self, *args: str, timeout: float = 3600) -> str:
        """Run `neo4j-admin` (the AdminTool of the fetched distribution) on this server's home."""
        lib = self.ensure_distribution()
        if not (self.conf_dir / "neo4j.conf").exists():
            self._write_conf(self._choose_port(None))
        proc = subprocess.run(["java", "-cp", f"{lib}/*", ADMIN_TOOL, *args], env=self._java_env(),
                              capture_output=True, text=True, check=False, timeout=timeout)
        if proc.returncode != 0:
            raise Neo4jServerError(f"neo4j-admin {' '.join(args[:2])} failed: "
                                   f"{(proc.stderr or proc.stdout).strip()[-500:]}")
        return proc.stdout

    def dump(self, database: str, to_dir: Path) -> Path:
        """`neo4j-admin database dump` of a stopped server into `to_dir/<database>.dump`."""
        if self.status().process_alive:
            raise Neo4jServerError("stop the server before dumping (Community cannot dump a running database)")
        to_dir.mkdir(parents=True, exist_ok=True)
        self.admin("database", "dump", database, f"--to-path={to_dir}", "--overwrite-destination=true")
        return to_dir / f"{database}.dump"

    def load(self, database: str, from_dir: Path) -> None:
        """`neo4j-admin database load` of `from_dir/<database>.dump` into a stopped server, replacing it."""
        if self.status().process_alive:
            raise Neo4jServerError("stop the server before loading a dump")
        self.admin("database", "load", database, f"--from-path={from_dir}", "--overwrite-destination=true")

    def read_ahead(self, database: str = "neo4j", share: float = READ_AHEAD_SHARE) -> tuple[int, float] | None:
        """Read the database's files once, in order, so that the operating system keeps them in its file
        cache; returns the bytes read and the seconds it took, or None when the files are more than
        `share` of the memory available (the cache could not keep them: a nation's store never fits).

        After a restart Neo4j's own page cache is empty and fills from the files as queries touch them,
        page by page; with the system's cache cold too (a machine restarted), each of those pages is a
        random read from disk. Measured at a million persons (9.4 GB of store, the system's cache
        dropped): the first batch of 1,000 records after the start and HoSo's warm-up took 14.1-16.7 s,
        against 9.7 s with the files cached. Read in order they take about 13 s (Community Neo4j has no
        page cache warm-up of its own; Enterprise's reads its pages back from a profile)."""
        store = self.home / "data" / "databases" / database
        files = [path for path in sorted(store.rglob("*")) if path.is_file()] if store.is_dir() else []
        total = sum(path.stat().st_size for path in files)
        if not files or total > share * psutil.virtual_memory().available:
            return None
        began = time.perf_counter()
        buffer = memoryview(bytearray(8 << 20))
        for path in files:
            with contextlib.suppress(FileNotFoundError), open(path, "rb", buffering=0) as fh:
                os.posix_fadvise(fh.fileno(), 0, 0, os.POSIX_FADV_SEQUENTIAL)
                while fh.readinto(buffer):
                    pass
        return total, time.perf_counter() - began

    def status(self) -> ServerStatus:
        """Whether the server's process lives and whether it answers a query."""
        state = self.read_state()
        if state is None:
            return ServerStatus(uri=None, pid=None, process_alive=False, answering=False, version=None)
        alive = pid_alive(state.pid)
        answering = alive and ping(state.uri, state.user, state.password)
        return ServerStatus(
            uri=state.uri, pid=state.pid, process_alive=alive, answering=answering, version=state.version
        )


def ping(uri: str, user: str, password: str, timeout: float = 5.0) -> bool:
    """True when the server at `uri` answers `RETURN 1`."""
    try:
        with open_driver(uri, user, password, connection_timeout=timeout) as driver:
            verify(driver)
    except (DriverError, Neo4jError, Neo4jNotRunning, OSError):
        return False  # not (yet) answering; anything else is a bug and surfaces
    return True


def wait_until_ready(
    uri: str,
    user: str,
    password: str,
    timeout: float = 180.0,
    process: subprocess.Popen[bytes] | None = None,
) -> None:
    """Block until the server at `uri` answers `RETURN 1`, or raise after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise Neo4jServerError(f"Neo4j exited with code {process.returncode} while starting")
        if ping(uri, user, password, timeout=2.0):
            return
        time.sleep(0.5)
    raise Neo4jServerError(f"Neo4j at {uri} did not answer within {timeout:.0f} s")


def managed_target(neo4j_home: Path, database: str = "neo4j") -> Neo4jTarget:
    """The target of the server HoSo manages under `neo4j_home`, if it was started."""
    state = ManagedNeo4j(home=neo4j_home, cache_dir=neo4j_home).read_state()
    if state is None or not pid_alive(state.pid):
        raise Neo4jNotRunning(
            "Neo4j is not running: start it with `hoso neo4j start`, or set NEO4J_URI and NEO4J_PASSWORD"
        )
    return Neo4jTarget(uri=state.uri, user=state.user, password=state.password, database=database)
