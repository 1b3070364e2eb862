"""The synthetic population: all six formats, a truth file, determinism, and counts ingest agrees with."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from linkage.intake import SOURCES, synthetic_files, synthetic_inputs
from linkage.synth import SynthConfig, generate

HOSO = str(Path(sys.executable).with_name("hoso"))
SYNTHETIC = [kind for kind, source in SOURCES.items() if source.synthetic]


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([HOSO, *args], capture_output=True, text=True, check=False, timeout=600,
                          env=env or dict(os.environ))


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth") / "d"
    result = run("synth", "--persons", "3000", "--seed", "1", "--out", str(out))
    assert result.returncode == 0, result.stderr
    return out


def digest(folder: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            h.update(path.relative_to(folder).as_posix().encode())
            h.update(path.read_bytes())
    return h.hexdigest()


def test_all_six_formats_and_truth_are_written(population: Path) -> None:
    for kind in SYNTHETIC:
        assert synthetic_files(population, kind), kind
    with open(population / "truth.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert set(rows[0]) == {"source", "record_id", "person_id"}
    assert {r["source"] for r in rows} == set(SYNTHETIC) == {"population", "commune831", "hospital130",
                                                             "immunization", "fhir", "csv"}
    expected = json.loads((population / "expected.json").read_text())
    assert expected["persons"] >= 3000
    for kind, counts in expected["sources"].items():
        assert sum(1 for r in rows if r["source"] == kind) == counts["records"]


def test_same_seed_same_files(population: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    assert run("synth", "--persons", "3000", "--seed", "1", "--out", str(again)).returncode == 0
    assert digest(again) == digest(population)
    other = tmp_path / "other"
    assert run("synth", "--persons", "3000", "--seed", "2", "--out", str(other)).returncode == 0
    assert digest(other) != digest(population)


def test_names_carry_realistic_family_name_shares(population: Path) -> None:
    with open(population / "population" / "registry.csv", encoding="utf-8-sig") as fh:
        names = [row["ho_ten"] for row in csv.DictReader(fh)]
    nguyen = sum(1 for n in names if n.startswith("Nguyễn ")) / len(names)
    assert 0.30 < nguyen < 0.46


def test_ingest_of_each_source_gives_the_expected_counts(population: Path, tmp_path: Path) -> None:
    expected = json.loads((population / "expected.json").read_text())["sources"]
    env = dict(os.environ, HOSO_DATA_DIR=str(tmp_path / "data"))
    for kind, paths, mapping in synthetic_inputs(population):
        files = [str(p) for p in paths]
        extra = ["--mapping", str(mapping)] if mapping else []
        result = run("ingest", kind, *files, *extra, "--json", env=env)
        assert result.returncode == 0, result.stderr
        counts = json.loads(result.stdout)
        assert counts["accepted"] == expected[kind]["records"], kind
        assert counts["quarantined"] == expected[kind]["quarantined"], kind
        assert counts["values_dropped"] == expected[kind]["values_dropped"], kind
        assert counts["read"] == counts["accepted"] + counts["quarantined"]


def _registry(out: Path) -> list[dict[str, str]]:
    with open(out / "population" / "registry.csv", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_the_dense_profile_repeats_given_names_as_the_country_does_and_has_twins(tmp_path: Path) -> None:
    def given_shares(profile: str) -> tuple[float, list[dict[str, str]]]:
        generate(SynthConfig(persons=12000, seed=2, profile=profile), tmp_path / profile)
        rows = _registry(tmp_path / profile)
        return sum(r["ho_ten"].split()[-1] in ("Anh", "Linh") for r in rows) / len(rows), rows

    dense, rows = given_shares("dense")
    uniform, _ = given_shares("realistic")
    assert dense > 1.5 * uniform  # Anh and Linh are 5.6% of names in the published table, 2.5% uniformly
    children: dict[tuple[str, str], list[str]] = {}
    for r in rows:
        if r["quan_he_chu_ho"] == "Con":
            children.setdefault((r["ma_ho"], r["ngay_sinh"]), []).append(r["ho_ten"])
    twins = [names for names in children.values() if len(names) > 1]  # one household, one birthday
    assert twins
    assert all(len(set(names)) == len(names) for names in twins)  # never one name for both
