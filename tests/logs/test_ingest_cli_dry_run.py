"""`ledger ingest --dry-run/--out` as a user runs it: JSON Lines, no broker."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from schemas import DeadLetter, parse_event

LEDGER = str(Path(sys.executable).parent / "ledger")


def run_ingest(*args: str) -> subprocess.CompletedProcess[bytes]:
    # A wide terminal, so that no table cell wraps inside the text a test looks for.
    return subprocess.run(
        [LEDGER, "ingest", *args],
        capture_output=True,
        timeout=300,
        check=False,
        env={**os.environ, "COLUMNS": "200"},
    )


def test_ingest_dry_run_writes_valid_events_and_dead_letters(
    realdata: Path, tmp_path: Path
) -> None:
    okta = realdata / "azure-sentinel-sample-data" / "Okta_CL.json"
    zeek = realdata / "ocsf-examples" / "zeek" / "rdp.log"
    rejects = tmp_path / "rejects.jsonl"

    done = run_ingest("--dry-run", "--rejects", str(rejects), str(okta), str(zeek))

    assert done.returncode == 0, done.stderr.decode()
    events = [parse_event(line) for line in done.stdout.splitlines()]
    assert [event.type for event in events] == ["authentication.failed"]
    letters = [
        DeadLetter.model_validate_json(line)
        for line in rejects.read_bytes().splitlines()
    ]
    assert [letter.offset for letter in letters] == [1, 2, 3, 4, 5]
    assert {letter.reason for letter in letters} == {"unsupported format"}
    assert {letter.source_topic for letter in letters} == {f"file:{zeek}"}
    assert letters[0].original == zeek.read_bytes().splitlines()[0]
    assert "rejected" in done.stderr.decode()


def test_ingest_out_twice_writes_identical_events(
    realdata: Path, tmp_path: Path
) -> None:
    log = realdata / "elastic-integrations-azure" / "test-signinlogs.log"
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"

    for out in (first, second):
        done = run_ingest("--format", "entra", "--out", str(out), str(log))
        assert done.returncode == 0, done.stderr.decode()

    assert first.read_bytes() == second.read_bytes()
    assert len(first.read_bytes().splitlines()) == 2


def test_ingest_wrong_format_rejects_each_record_with_reason(
    realdata: Path, tmp_path: Path
) -> None:
    log = realdata / "elastic-integrations-azure" / "test-signinlogs.log"
    rejects = tmp_path / "rejects.jsonl"

    done = run_ingest(
        "--format", "okta", "--dry-run", "--rejects", str(rejects), str(log)
    )

    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout == b""
    reasons = {
        DeadLetter.model_validate_json(line).reason
        for line in rejects.read_bytes().splitlines()
    }
    assert reasons == {"okta: not an Okta System Log event"}
    # The counts end with why, so that a user needs no --rejects to learn it.
    printed = " ".join(done.stderr.decode().split())
    assert "rejected, by reason" in printed
    assert "test-signinlogs.log │ okta: not an Okta System Log event │ 2 │" in printed


def test_ingest_unknown_format_is_a_usage_error(realdata: Path) -> None:
    done = run_ingest(
        "--format", "syslog-ng", "--dry-run", str(realdata / "SOURCES.md")
    )

    assert done.returncode == 2
    assert b"syslog-ng" in done.stderr


def test_ingest_summary_holds_the_per_file_counts_and_their_total(
    realdata: Path, tmp_path: Path
) -> None:
    okta = realdata / "azure-sentinel-sample-data" / "Okta_CL.json"
    zeek = realdata / "ocsf-examples" / "zeek" / "rdp.log"
    summary = tmp_path / "summary.json"

    done = run_ingest(
        "--out",
        str(tmp_path / "events.jsonl"),
        "--summary",
        str(summary),
        str(okta),
        str(zeek),
    )

    assert done.returncode == 0, done.stderr.decode()
    written = json.loads(summary.read_text())
    by_path = {entry["path"]: entry for entry in written["files"]}
    assert by_path[str(okta)]["events"] == 1
    assert by_path[str(zeek)]["rejected"] == 5
    assert by_path[str(zeek)]["rejected_by_reason"] == {"unsupported format": 5}
    assert by_path[str(okta)]["rejected_by_reason"] == {}
    assert by_path[str(zeek)]["events"] == 0
    assert written["total"]["events"] == 1
    assert written["total"]["rejected"] == 5 + by_path[str(okta)]["rejected"]
