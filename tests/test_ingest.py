"""Ingestion: immutable batches, quarantine with reasons, idempotence, nothing half-written."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from conftest import MappedCsv

from linkage.intake.batches import IngestError, batch_ranks, ingest, list_batches, restore_batch, set_aside
from linkage.vocab import SourceKind

HEADER = ("so_dinh_danh,ho_ten,ngay_sinh,gioi_tinh,dia_chi_thuong_tru,ma_tinh_thuong_tru,ma_xa_thuong_tru,"
          "dia_chi_hien_tai,ma_tinh_hien_tai,ma_xa_hien_tai,ma_ho,quan_he_chu_ho\n")


def registry(tmp_path: Path, rows: list[str], name: str = "pop.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_batch_holds_records_quarantine_inputs_and_manifest(tmp_path: Path) -> None:
    path = registry(tmp_path, ["001090012345,Nguyễn Văn An,05/03/1990,Nam,,01,00004,,,,HGD1,Chủ hộ",
                               "001090012346,Lê Văn Bình,31/02/1990,Nam,,,,,,,,"])
    data = tmp_path / "data"
    summary = ingest(SourceKind.POPULATION, [path], data)
    assert (summary.read, summary.accepted, summary.quarantined) == (2, 1, 1)
    batch = data / "batches" / summary.batch_id
    table = pq.read_table(batch / "records.parquet").to_pylist()
    assert [r["record_id"] for r in table] == ["001090012345"]
    assert table[0]["personal_id"] == "001090012345" and table[0]["batch_id"] == summary.batch_id
    assert json.loads(table[0]["payload"])["given_name"] == "An"
    rejected = [json.loads(line) for line in (batch / "quarantine.jsonl").read_text().splitlines()]
    assert rejected == [{"file": "pop.csv", "position": "pop.csv:3",
                         "reason": "ngay_sinh: date '31/02/1990' is not a date", "excerpt": rejected[0]["excerpt"]}]
    assert (batch / "inputs" / "pop.csv").read_bytes() == path.read_bytes()
    manifest = json.loads((batch / "manifest.json").read_text())
    assert manifest["summary"]["files"][0]["sha256"] == summary.files[0]["sha256"]
    assert [m["batch_id"] for m in list_batches(data)] == [summary.batch_id]


def test_ingesting_the_same_file_twice_creates_nothing_new(tmp_path: Path) -> None:
    path = registry(tmp_path, ["001090012345,Nguyễn Văn An,05/03/1990,Nam,,,,,,,,"])
    data = tmp_path / "data"
    first = ingest(SourceKind.POPULATION, [path], data)
    second = ingest(SourceKind.POPULATION, [path], data)
    assert second.already_ingested and second.batch_id == first.batch_id and second.accepted == 1
    assert len(list_batches(data)) == 1


def test_a_batch_being_written_is_not_listed(tmp_path: Path) -> None:
    """An ingestion writes its manifest in a `.tmp-` folder and then renames it: a listing that runs
    meanwhile (the admin page while a citizen's correction is ingested) lists only finished batches."""
    data = tmp_path / "data"
    first = ingest(SourceKind.POPULATION, [registry(tmp_path, ["001090012345,Nguyễn Văn An,05/03/1990,Nam,,,,,,,,"])],
                   data)
    under_way = data / "batches" / f".tmp-{first.batch_id}-1"
    under_way.mkdir()
    (under_way / "manifest.json").write_text((data / "batches" / first.batch_id / "manifest.json").read_text())
    assert [m["batch_id"] for m in list_batches(data)] == [first.batch_id]
    assert list(batch_ranks(data)) == [first.batch_id]


def test_the_batches_linking_reads_follow_set_aside_and_restore_without_reading_manifests_again(
        tmp_path: Path) -> None:
    """`batch_ranks` (what every link reads, each manifest once per process) says what `list_batches`
    says: the batches not set aside, oldest first, a batch set aside or restored seen at once."""
    data = tmp_path / "data"
    ids = [ingest(SourceKind.POPULATION, [registry(tmp_path, [f"00109001234{n},Nguyễn Văn An,05/03/1990,Nam,,,,,,,,"],
                                                    name=f"pop{n}.csv")], data).batch_id for n in range(3)]

    def listed() -> dict[str, str]:
        return {m["batch_id"]: f"{m['summary']['created_at']}|{m['batch_id']}" for m in list_batches(data)
                if not m["set_aside"]}

    assert batch_ranks(data) == listed() and sorted(batch_ranks(data)) == sorted(ids)
    assert list(batch_ranks(data).values()) == sorted(batch_ranks(data).values())  # oldest first
    set_aside(data, ids[1], "a test")
    assert batch_ranks(data) == listed() and ids[1] not in batch_ranks(data)
    restore_batch(data, ids[1])
    assert batch_ranks(data) == listed() and ids[1] in batch_ranks(data)

def test_duplicate_record_ids_in_one_batch_are_quarantined(tmp_path: Path) -> None:
    row = "001090012345,Nguyễn Văn An,05/03/1990,Nam,,,,,,,,"
    summary = ingest(SourceKind.POPULATION, [registry(tmp_path, [row, row])], tmp_path / "data")
    assert (summary.accepted, summary.quarantined) == (1, 1)
    assert summary.reasons == {"duplicate record id '…' in this batch": 1}


def test_unreadable_file_leaves_no_batch(tmp_path: Path) -> None:
    good = "<HOSOSUCKHOE><THONGTINCHUNG><MA_TRAM>T1</MA_TRAM><HOTEN>Lê An</HOTEN></THONGTINCHUNG></HOSOSUCKHOE>"
    path = tmp_path / "broken.xml"
    path.write_text(f"<DANHSACHHOSO>{good * 3}<HOSOSUCKHOE><THONG")  # truncated mid-file
    data = tmp_path / "data"
    with pytest.raises(IngestError, match="XML broken after element 3"):
        ingest(SourceKind.COMMUNE831, [path], data)
    assert list((data / "batches").iterdir()) == []


def test_missing_file_and_unwritable_data_dir_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="no such file"):
        ingest(SourceKind.POPULATION, [tmp_path / "nope.csv"], tmp_path / "data")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    path = registry(tmp_path, ["001090012345,Nguyễn Văn An,05/03/1990,Nam,,,,,,,,"])
    with pytest.raises(IngestError, match="is not writable"):
        ingest(SourceKind.POPULATION, [path], blocker / "data")


def test_a_bad_value_goes_to_quarantine_and_its_record_is_kept(tmp_path: Path, mapped_csv: MappedCsv) -> None:
    path, mapping = mapped_csv('[source]\nsystem = "pk"\n[columns]\nrecord_id = "id"\nfull_name = "ten"\n'
                               'birth_date = "ngay_sinh"\nprovince_code = "tinh"\ncode_list = "pre2025"\n',
                               "id,ten,ngay_sinh,tinh\n1,Lê Văn Tám,31/02/1990,7X\n2,Võ Thị Sáu,1933,79\n")
    summary = ingest(SourceKind.CSV, [path], tmp_path / "data", mapping=mapping)
    assert (summary.accepted, summary.quarantined, summary.values_dropped) == (2, 0, 2)
    batch = tmp_path / "data" / "batches" / summary.batch_id
    notes = [json.loads(line) for line in (batch / "quarantine.jsonl").read_text().splitlines()]
    assert {(n["record_id"], n["reason"].split(":")[0:2][1].strip()) for n in notes} == {
        ("pk:1", "birth_date (ngay_sinh)"), ("pk:1", "addresses.0.province_code")}
    assert any("'7X'" in n["reason"] for n in notes)
    kept = pq.read_table(batch / "records.parquet").to_pylist()
    assert [r["record_id"] for r in kept] == ["pk:1", "pk:2"]
    assert kept[0]["birth_date"] is None and kept[1]["birth_date"] is not None
