"""The `hoso` command line, run as a real process against the suite's Neo4j."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from neo4j import Driver

from api.settings import Settings
from graph import Neo4jTarget, default_registry
from linkage import ingest
from linkage.intake.registry import synthetic_inputs
from linkage.synth import SynthConfig, generate
from linkage.vocab import SourceKind

HOSO = str(Path(sys.executable).with_name("hoso"))


def hoso(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [HOSO, *args], capture_output=True, text=True, env=env or dict(os.environ), timeout=300, check=False
    )


def test_status_prints_the_bolt_uri(graph: Driver) -> None:
    out = hoso("neo4j", "status", "--json")
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout)
    assert info["answering"] is True
    assert info["uri"].startswith("bolt://127.0.0.1:")
    human = hoso("neo4j", "status")
    assert f"Neo4j at {info['uri']}: answering" in human.stdout


def test_migrate_reports_an_up_to_date_schema(graph: Driver) -> None:
    out = hoso("migrate")
    assert out.returncode == 0, out.stderr
    assert "schema up to date" in out.stdout


def test_reset_refuses_without_yes(graph: Driver) -> None:
    out = hoso("reset")
    assert out.returncode == 1
    assert "run `hoso reset --yes` to confirm" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_reset_empties_graph_and_data_directory(graph: Driver, settings: Settings) -> None:
    graph.execute_query("CREATE (:Scratch {n: 1}), (:Scratch {n: 2})")
    leftover = settings.data_path / "batches" / "b1.parquet"
    leftover.parent.mkdir(parents=True, exist_ok=True)
    leftover.write_bytes(b"x")
    out = hoso("reset", "--yes")
    assert out.returncode == 0, out.stderr
    assert default_registry().read(graph, "system/count_nodes")[0]["nodes"] == 0
    assert not leftover.parent.exists()
    assert settings.neo4j_home.exists()
    assert hoso("migrate").returncode == 0


def test_without_a_server_a_command_starts_hosos_own_and_says_so(tmp_path: Path) -> None:
    env = dict(os.environ, HOSO_DATA_DIR=str(tmp_path / "empty"), HOSO_NEO4J_HEAP="256m",
               HOSO_NEO4J_PAGECACHE="64m")
    env.pop("NEO4J_URI", None)
    status = hoso("neo4j", "status", env=env)
    assert status.returncode == 1 and "never started" in status.stdout
    try:
        out = hoso("migrate", env=env)
        assert out.returncode == 0, out.stderr
        assert "Neo4j is not running: starting HoSo's own" in out.stderr and "is up at bolt://" in out.stderr
        assert "migration" in out.stdout
        assert hoso("neo4j", "status", env=env).returncode == 0
        again = hoso("migrate", env=env)  # running now: nothing to say about it
        assert again.returncode == 0 and "starting" not in again.stderr
        # Started by `hoso neo4j start`, the server is warmed up (on an empty graph, its plans only) unless
        # told not to; one already running is left as it is.
        assert "warmed up" not in hoso("neo4j", "start", env=env).stdout
        hoso("neo4j", "stop", env=env)
        cold = hoso("neo4j", "start", "--no-warm-up", env=env)
        assert cold.returncode == 0 and "is up at" in cold.stdout and "warmed up" not in cold.stdout
        warm = hoso("neo4j", "warm-up", env=env)
        assert warm.returncode == 0 and "warmed up on 0 records" in warm.stdout, warm.stderr
        hoso("neo4j", "stop", env=env)
        started = hoso("neo4j", "start", env=env)
        assert started.returncode == 0 and "warmed up on 0 records" in started.stdout, started.stderr
        hoso("neo4j", "stop", env=env)  # `hoso serve` starts it too, and warms it before its first request
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        server = subprocess.Popen([HOSO, "serve", "--port", str(port), "--workers", "1", "--log-level", "warning"],
                                  env={**env, "HOSO_JOBS_WORKER": "false", "HOSO_WEBHOOKS_WORKER": "false"},
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 180
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as answer:
                        assert answer.status == 200
                        break
                except (OSError, urllib.error.URLError):
                    assert server.poll() is None and time.monotonic() < deadline, "hoso serve did not start"
                    time.sleep(0.5)
        finally:
            server.terminate()
            _, said = server.communicate(timeout=30)
        assert "starting HoSo's own" in said and "warmed up on 0 records" in said, said
    finally:
        hoso("neo4j", "stop", env=env)


@pytest.mark.parametrize(("args", "says"), [
    (("nosuch",), "No such command 'nosuch'"),
    (("synth", "--persons", "0"), "Invalid value for '--persons'"),
    (("link", "--engine", "abacus"), "Invalid value for '--engine'"),
    (("user", "add"), "Missing argument 'username'"),
    (("ingest", "population", "."), "is a folder: name the files in it"),
])
def test_a_typing_mistake_is_one_line_and_a_non_zero_exit(args: tuple[str, ...], says: str) -> None:
    out = hoso(*args)
    assert out.returncode != 0 and "Traceback" not in out.stderr + out.stdout
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hoso: error: ") and says in lines[0], out.stderr


def test_bad_settings_are_one_line(tmp_path: Path) -> None:
    env = dict(os.environ, HOSO_MATCH_THRESHOLD_LOWER="0.9", HOSO_MATCH_THRESHOLD_UPPER="0.5")
    out = hoso("migrate", env=env)
    assert out.returncode == 2
    assert "HOSO_MATCH_THRESHOLD_LOWER must be below HOSO_MATCH_THRESHOLD_UPPER" in out.stderr


def test_serve_runs_workers_that_keep_an_idle_connection_open(graph: Driver) -> None:
    """`hoso serve` as a process with two workers; a client that pauses longer than uvicorn's default
    keep-alive (5 s) between two requests still finds its connection open (a load generator or a
    hospital system reusing it would otherwise get a read error)."""

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "HOSO_JOBS_WORKER": "false", "HOSO_API_KEEP_ALIVE_SECONDS": "30"}
    server = subprocess.Popen([HOSO, "serve", "--port", str(port), "--workers", "2", "--log-level", "warning"],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    request = f"GET /health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                client = socket.create_connection(("127.0.0.1", port), timeout=10)
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "hoso serve did not start"
                time.sleep(0.2)
        with client:
            answers = []
            for pause in (0, 6.5):
                time.sleep(pause)
                client.sendall(request)
                answer = b""
                while not answer.endswith(b'{"status":"ok"}'):  # headers and body may come in two reads
                    chunk = client.recv(65536)
                    assert chunk, f"the connection was closed after {answer!r}"
                    answer += chunk
                answers.append(answer)
        assert all(a.startswith(b"HTTP/1.1 200") for a in answers), answers
    finally:
        server.terminate()
        server.wait(30)


def test_the_benchmarks_run_outside_a_checkout(tmp_path: Path) -> None:
    """`hoso bench` runs `python -m bench`: the benchmarks are installed with HoSo, not only in a checkout."""
    out = subprocess.run([sys.executable, "-m", "bench", "--help"], capture_output=True, text=True, cwd=tmp_path,
                         env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"}, timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    assert "--persons" in out.stdout


def test_the_access_log_names_routes_never_ids_or_searches(graph: Driver) -> None:
    """The ids and names a request carries in its path or query string never reach the server's log."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "HOSO_JOBS_WORKER": "false"}
    server = subprocess.Popen([HOSO, "serve", "--port", str(port), "--workers", "1", "--log-level", "info"],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    secrets_in_requests = ("HS2WYNSFH8JJB", "079192913246", "Nguy%E1%BB%85n", "Nguyễn")
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5)
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "hoso serve did not start"
                time.sleep(0.2)
        for path in ("/persons/HS2WYNSFH8JJB", "/persons?personal_id=079192913246&name=Nguy%E1%BB%85n",
                     "/persons/HS2WYNSFH8JJB/history", "/no-such-page/079192913246"):
            try:  # a client's own X-Forwarded-For is no proxy's: the log keeps the real address
                urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}{path}",
                                                              headers={"X-Forwarded-For": "203.0.113.9"}), timeout=5)
            except urllib.error.HTTPError as answer:
                assert answer.code in (401, 404)
    finally:
        server.terminate()
        logged, _ = server.communicate(timeout=30)
    assert '"GET /persons/{person_id} HTTP/1.1" 401' in logged, logged
    assert '"GET /persons HTTP/1.1" 401' in logged and '"GET (no route) HTTP/1.1" 404' in logged
    for secret in secrets_in_requests:
        assert secret not in logged, secret
    assert "203.0.113.9" not in logged and "127.0.0.1:" in logged


def test_what_hoso_writes_is_readable_by_its_user_only(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    registry = tmp_path / "registry.csv"
    registry.write_text("so_dinh_danh,ho_ten,ngay_sinh,gioi_tinh\n079192000321,Đỗ Văn Hùng,1990-01-02,Nam\n",
                        encoding="utf-8")
    out = hoso("ingest", "population", str(registry), env={**os.environ, "HOSO_DATA_DIR": str(data)})
    assert out.returncode == 0, out.stderr
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    written = [p for p in data.rglob("*")]
    assert written and all(stat.S_IMODE(p.stat().st_mode) == (0o700 if p.is_dir() else 0o600) for p in written), [
        (str(p.relative_to(data)), oct(p.stat().st_mode)) for p in written]


def test_link_says_each_step_then_what_it_did(graph: Driver, neo4j_target_: Neo4jTarget, tmp_path: Path) -> None:
    generate(SynthConfig(persons=300, seed=5), tmp_path / "synth")
    data = tmp_path / "data"
    env = dict(os.environ, HOSO_DATA_DIR=str(data), NEO4J_URI=neo4j_target_.uri, NEO4J_PASSWORD=neo4j_target_.password)
    inputs = list(synthetic_inputs(tmp_path / "synth", [SourceKind.POPULATION, SourceKind.COMMUNE831,
                                                         SourceKind.HOSPITAL130]))
    for kind, files, _ in inputs[:2]:
        ingest(kind, files, data)
    out = hoso("link", env=env)
    assert out.returncode == 0, out.stderr
    lines = out.stderr.splitlines()
    steps = [line for line in lines if line.startswith("[") and " s] " in line]
    # Nothing else but what HoSo itself warns about (a model trained on few records): no driver noise.
    assert steps and all(line in steps or line.startswith("WARNING linkage.") for line in lines), out.stderr
    said = " ".join(steps)
    assert "training a model" in said and "scoring" in said and "golden records" in said
    assert out.stdout.startswith("link: ") and "persons" in out.stdout and "review items" in out.stdout
    kind, files, _ = inputs[2]
    ingest(kind, files, data)
    again = hoso("link", "--json", env=env)
    assert again.returncode == 0, again.stderr
    summary = json.loads(again.stdout)
    seconds = summary["seconds"]
    assert summary["records_new"] > 0 and summary["facts"]
    assert seconds["total"] >= seconds["link"] + seconds["load_facts"] + seconds["golden"]


def test_the_readme_tour_runs_word_for_word(graph: Driver, neo4j_target_: Neo4jTarget, tmp_path: Path) -> None:
    """The README's tour, each line as written (on 300 persons instead of 10,000), in a fresh data folder."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    tour = readme.split("## A tour", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    commands = [line.split("#", 1)[0].strip() for line in tour.strip().splitlines()]
    assert commands and all(c.startswith("hoso ") for c in commands)
    env = dict(os.environ, HOSO_DATA_DIR=str(tmp_path / "data"), NEO4J_URI=neo4j_target_.uri,
               NEO4J_PASSWORD=neo4j_target_.password)
    out = None
    for command in commands:
        args = command.replace("--persons 10000", "--persons 300").split()[1:]
        out = subprocess.run(["bash", "-c", " ".join([HOSO, *args])], cwd=tmp_path, capture_output=True, text=True,
                             env=env, timeout=600, check=False)
        assert out.returncode == 0, (command, out.stderr[-2000:])
        assert "Traceback" not in out.stderr, command
    assert out is not None
    scores = json.loads(out.stdout)
    assert scores["f1"] > 0.95 and scores["precision"] > 0.95, scores
    assert (tmp_path / "weights.html").exists()
