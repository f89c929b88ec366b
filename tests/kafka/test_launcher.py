"""The local broker launcher: missing tools, and the `ledger kafka` lifecycle."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ledger.errors import BrokerError, ToolMissingError
from ledger.kafka import launcher
from ledger.kafka.admin import admin_client, broker_answers
from ledger.kafka.launcher import LocalBroker, new_cluster_id, process_command_line
from ledger.settings import LedgerSettings


def ledger_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run the `ledger` command as a user would, in a separate process."""
    script = Path(sys.executable).parent / "ledger"
    command = (
        [str(script)]
        if script.exists()
        else [sys.executable, "-c", "from ledger.cli import main; main()"]
    )
    return subprocess.run(
        [*command, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def bin_dir_with(tmp_path: Path, *tools: str) -> str:
    """A PATH holding only `tools`, linked to the real programs."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in tools:
        real = shutil.which(tool)
        assert real is not None, f"the test machine has no {tool}"
        (bin_dir / tool).symlink_to(Path(real).resolve())
    return str(bin_dir)


def processes_mentioning(text: str) -> list[int]:
    """Pids of live processes whose command line contains `text`."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            command = process_command_line(int(entry.name))
            if command and text in command:
                pids.append(int(entry.name))
    return pids


def test_launcher_without_mvn_and_empty_cache_names_maven(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", bin_dir_with(tmp_path, "java"))
    settings = LedgerSettings(data_dir=tmp_path / "ledger", cache_dir=tmp_path / "c")

    with pytest.raises(ToolMissingError) as raised:
        LocalBroker(settings, port=0, controller_port=0).up()

    assert raised.value.tool == "mvn"
    assert "install Apache Maven" in str(raised.value)
    assert "apt-get install maven" in str(raised.value)
    assert not settings.kafka_state_file.exists()


def test_launcher_without_java_names_java(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", bin_dir_with(tmp_path))
    settings = LedgerSettings(data_dir=tmp_path / "ledger", cache_dir=tmp_path / "c")

    with pytest.raises(ToolMissingError) as raised:
        LocalBroker(settings).up()

    assert raised.value.tool == "java"
    assert "install a Java 17+ runtime" in str(raised.value)


def test_launcher_java_too_old_is_rejected_with_its_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    old_java = bin_dir / "java"
    old_java.write_text(
        "#!/bin/sh\necho 'openjdk version \"11.0.22\" 2024-01-16' >&2\n"
    )
    old_java.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    settings = LedgerSettings(data_dir=tmp_path / "ledger", cache_dir=tmp_path / "c")

    with pytest.raises(ToolMissingError, match="is Java 11; install a Java 17"):
        LocalBroker(settings).check_tools()


def test_launcher_cached_jars_without_mvn_still_names_maven(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broker = LocalBroker(LedgerSettings(data_dir=tmp_path / "ledger"))
    broker.resolve_jars()  # with Maven, unless an earlier run cached them
    monkeypatch.setenv("PATH", bin_dir_with(tmp_path, "java"))

    assert broker.jars_cached()
    with pytest.raises(ToolMissingError, match="install Apache Maven"):
        broker.check_tools()


def test_launcher_jars_without_marker_are_resolved_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What an interrupted download leaves: jars, but no marker of completion.
    settings = LedgerSettings(data_dir=tmp_path / "ledger", cache_dir=tmp_path / "c")
    broker = LocalBroker(settings)
    broker.libs_dir.mkdir(parents=True)
    (broker.libs_dir / f"kafka_2.13-{broker.kafka_version}.jar").write_bytes(b"")
    monkeypatch.setenv("PATH", bin_dir_with(tmp_path, "java"))

    assert not broker.jars_cached()
    with pytest.raises(ToolMissingError, match="install Apache Maven"):
        broker.check_tools()


def test_launcher_broker_dying_at_start_raises_with_its_last_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = LedgerSettings(data_dir=tmp_path / "ledger")
    monkeypatch.setattr(launcher, "JVM_OPTIONS", ("-XX:+NoSuchOption",))

    with pytest.raises(
        BrokerError, match="exited with code 1 while starting"
    ) as raised:
        LocalBroker(settings, port=0, controller_port=0).up(timeout=60)

    assert "Unrecognized VM option 'NoSuchOption'" in str(raised.value)
    assert not settings.kafka_state_file.exists()


def test_new_cluster_id_has_kafka_uuid_shape() -> None:
    ids = {new_cluster_id() for _ in range(200)}

    assert len(ids) == 200
    assert all(len(i) == 22 and not i.startswith("-") for i in ids)


def test_cli_up_without_java_prints_one_line_error(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": str(tmp_path), "LEDGER_DATA_DIR": str(tmp_path)}

    result = ledger_cli("kafka", "up", env=env)

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: 'java' was not found on PATH")


@pytest.mark.broker
def test_cli_up_status_down_leaves_no_broker_behind(tmp_path: Path) -> None:
    env = {**os.environ, "LEDGER_DATA_DIR": str(tmp_path / "ledger"), "COLUMNS": "200"}
    env.pop("LEDGER_KAFKA_BOOTSTRAP", None)
    settings = LedgerSettings(data_dir=tmp_path / "ledger")
    properties = str((tmp_path / "ledger" / "kafka" / "server.properties").resolve())

    up = ledger_cli("kafka", "up", "--port", "0", "--controller-port", "0", env=env)
    try:
        assert up.returncode == 0, up.stderr
        state = json.loads(settings.kafka_state_file.read_text())
        pid, bootstrap = state["pid"], state["bootstrap"]

        status = ledger_cli("kafka", "status", env=env)
        assert status.returncode == 0, status.stderr
        assert f"running at {bootstrap} (pid {pid}" in status.stdout
        assert "answering" in status.stdout
        address = ledger_cli("kafka", "status", "--bootstrap", env=env)
        assert address.stdout == f"{bootstrap}\n"
        assert asyncio.run(broker_answers(bootstrap))

        # A second `up` reports the running broker instead of starting another.
        again = ledger_cli("kafka", "up", env=env)
        assert again.returncode == 0, again.stderr
        assert json.loads(settings.kafka_state_file.read_text())["pid"] == pid
        assert processes_mentioning(properties) == [pid]

        # With its record lost, `up` records the running broker again: a second
        # JVM on the same storage would disturb the first one's quorum.
        settings.kafka_state_file.unlink()
        adopted = ledger_cli("kafka", "up", env=env)
        assert adopted.returncode == 0, adopted.stderr
        assert "without a record; recording it again" in adopted.stderr
        assert (
            json.loads(settings.kafka_state_file.read_text())["bootstrap"] == bootstrap
        )
        assert processes_mentioning(properties) == [pid]

        # `down` stops this data dir's broker even when its record is lost.
        settings.kafka_state_file.unlink()
        down = ledger_cli("kafka", "down", env=env)
        assert down.returncode == 0, down.stderr
        assert "Kafka broker stopped." in down.stdout
    finally:
        LocalBroker(settings).down(timeout=10)

    assert "kafka.Kafka" not in (process_command_line(pid) or "")
    assert processes_mentioning(properties) == []
    assert not settings.kafka_state_file.exists()
    gone = ledger_cli("kafka", "status", "--bootstrap", env=env)
    assert (gone.returncode, gone.stdout) == (1, "")


@pytest.mark.broker
def test_broker_answers_other_cluster_id_is_not_taken_as_ready(
    kafka_bootstrap: str,
) -> None:
    # What a launcher sees when another broker took its port first.
    async def cluster_id() -> str:
        async with admin_client(kafka_bootstrap) as admin:
            return (await admin.describe_cluster())["cluster_id"]

    actual = asyncio.run(cluster_id())

    assert asyncio.run(broker_answers(kafka_bootstrap, cluster_id=actual))
    assert not asyncio.run(broker_answers(kafka_bootstrap, cluster_id="other"))
