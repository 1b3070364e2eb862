"""`hoso evaluate` tells the truth: it refuses a truth that is not about these records, counts the
records that never reached linking, and reports calibration and the review queue's true share."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import MappedCsv

from linkage import EvaluationError, SourceKind, ingest
from linkage.evaluation import calibration, evaluate_linkage, read_truth

MAPPING = ('[source]\nsystem = "pk"\n[columns]\nrecord_id = "id"\nfull_name = "ten"\nbirth_date = "ngay_sinh"\n'
           'sex = "gt"\n[sex_codes]\nM = "male"\nF = "female"\n')
ROWS = ["1,Lê Văn Tám,1990-01-02,M", "2,Lê Văn Tám,1990-01-02,M", "3,Võ Thị Sáu,1933-05-06,F",
        "4,Võ Thị Sáu,1933-05-06,F", "5,Ngô Quyền,1990-01-01,Z"]


@pytest.fixture()
def data(tmp_path: Path, mapped_csv: MappedCsv) -> Path:
    path, mapping = mapped_csv(MAPPING, "id,ten,ngay_sinh,gt\n" + "\n".join(ROWS) + "\n6,,,\n")
    summary = ingest(SourceKind.CSV, [path], tmp_path / "data", mapping=mapping)
    assert (summary.accepted, summary.quarantined) == (5, 1)  # row 6 has no name
    return tmp_path / "data"


def truth_file(tmp_path: Path, rows: list[str], header: str = "source,record_id,person_id") -> Path:
    path = tmp_path / "truth.csv"
    path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_a_file_that_is_no_truth_file_says_what_it_lacks(tmp_path: Path) -> None:
    with pytest.raises(EvaluationError, match="not a truth file: no column person_id"):
        read_truth(truth_file(tmp_path, ["csv,pk:1"], header="source,record_id"))
    (tmp_path / "bin.csv").write_bytes(b"\xff\xfe\x00\x01")
    with pytest.raises(EvaluationError, match="not UTF-8"):
        read_truth(tmp_path / "bin.csv")


def test_a_truth_whose_ids_do_not_line_up_is_refused_with_an_example_of_each(data: Path, tmp_path: Path) -> None:
    truth = read_truth(truth_file(tmp_path, ["csv,1,A", "csv,2,A", "csv,3,B"]))  # the system prefix is missing
    with pytest.raises(EvaluationError, match=r"names only 0 of the 5 records.*'csv\|pk:1'.*'csv\|1'"):
        evaluate_linkage(data, {}, truth)


def test_records_that_never_reached_linking_count_as_persons_of_their_own(data: Path, tmp_path: Path) -> None:
    truth = read_truth(truth_file(tmp_path, ["csv,pk:1,A", "csv,pk:2,A", "csv,pk:3,B", "csv,pk:4,B", "csv,pk:5,C",
                                             "csv,pk:6,C", "fhir,pt9,D"]))
    assignments = {"csv|pk:1": "P1", "csv|pk:2": "P1", "csv|pk:3": "P2", "csv|pk:4": "P2", "csv|pk:5": "P3"}
    result = evaluate_linkage(data, assignments, truth)
    # pk:6 was quarantined: its pair with pk:5 is missed; the fhir record's source was never ingested.
    assert result["truth_records_not_linked"] == 1 and result["truth_records_of_sources_not_ingested"] == 1
    assert result["precision"] == 1.0 and result["recall"] == pytest.approx(2 / 3)
    assert result["f1_linked_records_only"] == 1.0


def test_calibration_and_the_review_queues_true_share(data: Path, tmp_path: Path) -> None:
    truth = read_truth(truth_file(tmp_path, ["csv,pk:1,A", "csv,pk:2,A", "csv,pk:3,B", "csv,pk:4,B", "csv,pk:5,C"]))
    assignments = {"csv|pk:1": "P1", "csv|pk:2": "P1", "csv|pk:3": "P2", "csv|pk:4": "P2", "csv|pk:5": "P3"}
    links = [("csv|pk:1", "P1", "MATCH", 0.99), ("csv|pk:2", "P1", "MATCH", 0.97), ("csv|pk:4", "P2", "MATCH", 0.98),
             ("csv|pk:5", "P1", "POSSIBLE_MATCH", 0.6), ("csv|pk:3", "P2", "POSSIBLE_MATCH", 0.65)]
    result = evaluate_linkage(data, assignments, truth, links)
    assert result["review_true_share"] == 0.5
    bands = {(round(b["from"], 1), b["links"], b["true_share"]) for b in result["calibration"]}
    assert bands == {(0.6, 2, 0.5), (0.9, 3, 1.0)}
    assert calibration([], assignments, truth) == []


def test_the_command_line_refuses_a_file_that_is_no_truth_in_one_line(tmp_path: Path) -> None:
    bad = truth_file(tmp_path, ["x"], header="name")
    env = dict(os.environ, HOSO_DATA_DIR=str(tmp_path / "data"), NEO4J_URI="bolt://127.0.0.1:1",
               NEO4J_PASSWORD="unused-the-file-is-refused-first")
    result = subprocess.run([sys.executable, "-m", "api.cli", "evaluate", "--truth", str(bad)],
                            capture_output=True, text=True, env=env, timeout=120, check=False)
    assert result.returncode != 0
    assert "not a truth file: no column source, record_id, person_id" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
