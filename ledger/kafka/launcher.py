"""A real single-node Apache Kafka broker (KRaft) for machines without Docker.

The broker's jars are resolved from Maven Central with Maven (`pom.xml` beside this
module) into the cache directory, once per Kafka version. The broker runs as one
combined broker+controller node on 127.0.0.1, detached from the process that started
it, with its files under `<data_dir>/kafka`:

    state.json          address and pid of the running broker (kafka_state_file)
    server.properties   the node's configuration, rewritten on every start
    log4j2.yaml         the broker's logging configuration, copied on every start
    storage/            log.dirs (formatted once, kept between starts)
    logs/server.log     the broker's own log (log4j2.yaml)
    console.log         the JVM's stdout and stderr
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

from ledger.errors import BrokerError, ToolMissingError
from ledger.kafka.admin import broker_answers
from ledger.settings import LedgerSettings

logger = logging.getLogger(__name__)

JAVA_HINT = (
    "install a Java 17+ runtime (Debian/Ubuntu: apt-get install "
    "openjdk-17-jre-headless; macOS: brew install openjdk@17)"
)
MAVEN_HINT = (
    "install Apache Maven, which resolves the Kafka broker's jars "
    "(Debian/Ubuntu: apt-get install maven; macOS: brew install maven)"
)
MIN_JAVA = 17
PREFERRED_PORT = 9092
PREFERRED_CONTROLLER_PORT = 9093
NODE_ID = 1
BROKER_MAIN_CLASS = "kafka.Kafka"
STORAGE_TOOL_CLASS = "kafka.tools.StorageTool"
RESOLVED_MARKER = "RESOLVED.json"

# The heap and GC of Kafka's own scripts, with a smaller heap: test traffic is light
# once the log cleaner's dedupe buffer is small (see server.properties below).
JVM_OPTIONS = (
    "-Xms256m",
    "-Xmx512m",
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-XX:+ExitOnOutOfMemoryError",
    "-Djava.awt.headless=true",
)


@dataclass(frozen=True)
class BrokerStatus:
    """What `ledger kafka status` reports about the locally launched broker."""

    running: bool
    bootstrap: str | None = None
    pid: int | None = None
    answering: bool = False
    kafka_version: str | None = None
    started_at: str | None = None


def pom_kafka_version() -> str:
    """The Kafka version that the packaged pom.xml pins."""
    root = ET.fromstring(_pom_text())
    namespace = {"m": "http://maven.apache.org/POM/4.0.0"}
    version = root.findtext("m:properties/m:kafka.version", namespaces=namespace)
    if not version:
        raise BrokerError("ledger/kafka/pom.xml has no <kafka.version> property")
    return version.strip()


class LocalBroker:
    """Starts, reports and stops the single-node broker of one data directory."""

    def __init__(
        self,
        settings: LedgerSettings,
        *,
        port: int | None = None,
        controller_port: int | None = None,
    ) -> None:
        """Ports: None prefers 9092/9093 and falls back to free ones; 0 takes any."""
        self.home = settings.data_dir.resolve() / "kafka"
        self.state_file = settings.kafka_state_file.resolve()
        self.kafka_version = pom_kafka_version()
        self.cache_dir = settings.cache_dir.expanduser().resolve()
        self._port = port
        self._controller_port = controller_port
        # Only set when this process started the JVM, so that down() can reap it.
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def properties_file(self) -> Path:
        return self.home / "server.properties"

    @property
    def log_file(self) -> Path:
        return self.home / "logs" / "server.log"

    @property
    def console_file(self) -> Path:
        return self.home / "console.log"

    @property
    def libs_dir(self) -> Path:
        return self.cache_dir / f"kafka-{self.kafka_version}" / "libs"

    # -- lifecycle -------------------------------------------------------------

    def up(self, timeout: float = 120.0) -> BrokerStatus:
        """Start the broker unless a live one is recorded; wait until it answers."""
        current = self._recorded_status(probe=False)
        if current.running:
            logger.info(
                "Kafka broker already running at %s (pid %s)",
                current.bootstrap,
                current.pid,
            )
            return self._recorded_status(probe=True)
        if self.state_file.exists():
            logger.warning(
                "Kafka broker recorded in %s is gone; starting a new one",
                self.state_file,
            )
            self.state_file.unlink(missing_ok=True)
        # A second JVM on the same storage would join the first one's metadata quorum
        # before it fails on the log-dir lock, and leave the first unable to stop.
        unrecorded = self._unrecorded_pids()
        if unrecorded:
            return self._adopt(unrecorded[0])

        java = self.check_tools()
        libs = self.resolve_jars()
        port = _pick_port(self._port, PREFERRED_PORT, "broker")
        controller_port = _pick_port(
            self._controller_port, PREFERRED_CONTROLLER_PORT, "controller", avoid=port
        )
        self._write_properties(port, controller_port)
        self._format_storage(java, libs)

        started = time.monotonic()
        process = self._start_jvm(java, libs)
        bootstrap = f"127.0.0.1:{port}"
        try:
            self._wait_until_ready(process, bootstrap, timeout)
        except BaseException:
            # Ctrl-C or a timeout must not leave an unrecorded broker behind.
            self._kill(process)
            raise
        self._record(bootstrap, process.pid)
        logger.info(
            "Kafka %s broker started at %s (pid %d) in %.1f s; logs in %s",
            self.kafka_version,
            bootstrap,
            process.pid,
            time.monotonic() - started,
            self.log_file.parent,
        )
        return self._recorded_status(probe=True)

    def down(self, timeout: float = 60.0) -> bool:
        """Stop this data dir's broker; returns whether one was running."""
        state = self._read_state()
        recorded = int(str(state["pid"])) if state else None
        if recorded is not None and not self._is_our_broker(recorded):
            logger.warning(
                "Kafka broker pid %d recorded in %s is gone; removing the record",
                recorded,
                self.state_file,
            )
            recorded = None
        # Also stop a broker whose record was lost, so that no JVM is left behind.
        pids = [recorded] if recorded is not None else self._unrecorded_pids()
        if not pids:
            logger.info("No Kafka broker runs on %s", self.home)
            self.state_file.unlink(missing_ok=True)
            return False
        for pid in pids:
            self._stop(pid, timeout)
        self.state_file.unlink(missing_ok=True)
        return True

    def _stop(self, pid: int, timeout: float) -> None:
        # SIGTERM runs the broker's shutdown hook: broker first, then controller.
        logger.info("Stopping Kafka broker pid %d on %s", pid, self.home)
        _signal(pid, signal.SIGTERM)
        if not self._wait_gone(pid, timeout):
            logger.warning(
                "Kafka broker pid %d did not stop within %.0f s; killing it",
                pid,
                timeout,
            )
            _signal(pid, signal.SIGKILL)
            if not self._wait_gone(pid, 10.0):
                raise BrokerError(
                    f"Kafka broker pid {pid} survived SIGKILL; the record in "
                    f"{self.state_file} is kept"
                )
        logger.info("Kafka broker pid %d stopped", pid)

    def status(self) -> BrokerStatus:
        """Whether the recorded broker runs and answers a metadata request."""
        return self._recorded_status(probe=True)

    def check_tools(self) -> str:
        """The java to run; ToolMissingError unless `up()` finds what it needs.

        Maven is required even when the jars are cached: it is a stated
        prerequisite, and a machine without it should fail on its first run, not
        later when the cache is wiped or the pom changes.
        """
        java = find_java()
        if shutil.which("mvn") is None:
            raise ToolMissingError("mvn", MAVEN_HINT)
        return java

    # -- jars ------------------------------------------------------------------

    def jars_cached(self) -> bool:
        """Whether a complete jar set for this pom is in the cache."""
        marker = self.libs_dir / RESOLVED_MARKER
        try:
            resolved = json.loads(marker.read_text())
        except (OSError, ValueError):
            return False
        if resolved.get("pom_sha256") != _pom_digest():
            logger.warning(
                "Kafka jars in %s came from another pom.xml; they will be resolved "
                "again",
                self.libs_dir,
            )
            return False
        return True

    def resolve_jars(self) -> Path:
        """The broker's jar directory, resolved with Maven unless already cached."""
        if self.jars_cached():
            return self.libs_dir

        mvn = shutil.which("mvn")
        if mvn is None:
            raise ToolMissingError("mvn", MAVEN_HINT)
        version_dir = self.libs_dir.parent
        version_dir.mkdir(parents=True, exist_ok=True)
        _remove_abandoned(version_dir, "partial-*")
        logger.info(
            "Resolving Kafka %s jars with Maven into %s; the first run downloads "
            "about 45 MB from Maven Central",
            self.kafka_version,
            self.libs_dir,
        )

        # Resolve into a private folder and move it into place only when complete,
        # so an interrupted download is redone and concurrent runs don't collide.
        partial = Path(tempfile.mkdtemp(prefix="partial-", dir=version_dir))
        try:
            pom = partial / "pom.xml"
            pom.write_text(_pom_text())
            jars = partial / "libs"
            self._run_maven(mvn, pom, jars)
            (jars / RESOLVED_MARKER).write_text(
                json.dumps(
                    {
                        "kafka_version": self.kafka_version,
                        "pom_sha256": _pom_digest(),
                        "resolved_at": datetime.now(UTC).isoformat(),
                    }
                )
            )
            self._move_into_place(jars)
        finally:
            shutil.rmtree(partial, ignore_errors=True)
        return self.libs_dir

    def _run_maven(self, mvn: str, pom: Path, output: Path) -> None:
        command = [
            mvn,
            "-q",
            "-B",
            "-Dstyle.color=never",
            "-f",
            str(pom),
            "dependency:copy-dependencies",
            f"-DoutputDirectory={output}",
            "-DincludeScope=runtime",
        ]
        started = time.monotonic()
        result = subprocess.run(
            command,
            cwd=pom.parent,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0 or not any(output.glob("kafka_2.13-*.jar")):
            tail = _tail_text(result.stdout + result.stderr, 25)
            raise BrokerError(
                f"Maven could not resolve the Kafka {self.kafka_version} jars "
                f"(exit code {result.returncode}); nothing was cached:\n{tail}"
            )
        logger.info(
            "Resolved %d jars in %.1f s",
            len(list(output.glob("*.jar"))),
            time.monotonic() - started,
        )

    def _move_into_place(self, jars: Path) -> None:
        stale = None
        if self.libs_dir.exists():
            stale = self.libs_dir.with_name(f"stale-{uuid.uuid4().hex[:8]}")
            self.libs_dir.rename(stale)
        try:
            jars.rename(self.libs_dir)
        except OSError:
            # Another process finished first; its complete copy is as good as ours.
            if not (self.libs_dir / RESOLVED_MARKER).exists():
                raise
        if stale is not None:
            shutil.rmtree(stale, ignore_errors=True)

    # -- start -----------------------------------------------------------------

    def _write_properties(self, port: int, controller_port: int) -> None:
        storage = self.home / "storage"
        lines = {
            # One combined node with a static quorum (plain `format`, no --standalone).
            "process.roles": "broker,controller",
            "node.id": str(NODE_ID),
            "controller.quorum.voters": f"{NODE_ID}@127.0.0.1:{controller_port}",
            "listeners": (
                f"PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}"
            ),
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": (
                "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"
            ),
            "log.dirs": str(storage),
            "num.partitions": "1",
            # A single node cannot hold more than one replica of the internal topics.
            "offsets.topic.replication.factor": "1",
            # One node gains nothing from 50 group-coordinator partitions, and
            # creating them holds up the first consumer group for about a second.
            "offsets.topic.num.partitions": "1",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            # Consumers in tests should not wait 3 s for other members to join.
            "group.initial.rebalance.delay.ms": "0",
            # The 128 MiB default is allocated on the heap: a quarter of -Xmx512m.
            "log.cleaner.dedupe.buffer.size": str(2 * 1024 * 1024),
        }
        self.properties_file.parent.mkdir(parents=True, exist_ok=True)
        text = "".join(f"{key}={value}\n" for key, value in lines.items())
        self.properties_file.write_text(
            "# Written by `ledger kafka up` on every start; edits are overwritten.\n"
            + text
        )

    def _format_storage(self, java: str, libs: Path) -> None:
        # -g accepts an already formatted storage only when the cluster id matches,
        # so a restart passes the id that the first start wrote.
        cluster_id = self._formatted_cluster_id() or new_cluster_id()
        command = [
            java,
            "-cp",
            _classpath(libs),
            STORAGE_TOOL_CLASS,
            "format",
            "-t",
            cluster_id,
            "-c",
            str(self.properties_file),
            "-g",
        ]
        result = subprocess.run(
            command,
            cwd=self.home,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            tail = _tail_text(result.stdout + result.stderr, 20)
            raise BrokerError(
                f"formatting the Kafka storage in {self.home / 'storage'} failed "
                f"(exit code {result.returncode}):\n{tail}"
            )

    def _formatted_cluster_id(self) -> str | None:
        meta = self.home / "storage" / "meta.properties"
        with contextlib.suppress(OSError):
            for line in meta.read_text().splitlines():
                key, _, value = line.partition("=")
                if key.strip() == "cluster.id":
                    return value.strip()
        return None

    def _start_jvm(self, java: str, libs: Path) -> subprocess.Popen[bytes]:
        logs = self.log_file.parent
        logs.mkdir(parents=True, exist_ok=True)
        # A copy beside the properties keeps the running broker independent of the
        # installed package, which may be zipped or upgraded.
        log_config = self.home / "log4j2.yaml"
        log_config.write_text(
            (resources.files("ledger.kafka") / "log4j2.yaml").read_text()
        )
        command = [
            java,
            *JVM_OPTIONS,
            f"-Dlog4j2.configurationFile={log_config}",
            f"-Dkafka.logs.dir={logs}",
            "-cp",
            _classpath(libs),
            BROKER_MAIN_CLASS,
            str(self.properties_file),
        ]
        logger.debug("Starting %s", " ".join(command))
        with self.console_file.open("ab") as console:
            # A new session keeps the broker alive after the CLI exits and away from
            # the terminal's Ctrl-C.
            self._process = subprocess.Popen(
                command,
                cwd=self.home,
                stdin=subprocess.DEVNULL,
                stdout=console,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self._process

    def _wait_until_ready(
        self, process: subprocess.Popen[bytes], bootstrap: str, timeout: float
    ) -> None:
        deadline = time.monotonic() + timeout
        host, port = bootstrap.rsplit(":", 1)
        cluster_id = self._formatted_cluster_id()
        while time.monotonic() < deadline:
            code = process.poll()
            if code is not None:
                raise BrokerError(
                    f"Kafka broker exited with code {code} while starting; "
                    f"{self._log_tail()}"
                )
            # The listener opens only once the broker accepts requests; probing the
            # socket first keeps aiokafka from logging a connection error per try.
            if _port_open(host, int(port)) and asyncio.run(
                broker_answers(bootstrap, timeout=5.0, cluster_id=cluster_id)
            ):
                return
            time.sleep(0.25)
        raise BrokerError(
            f"Kafka broker did not answer at {bootstrap} within {timeout:.0f} s and "
            f"is being stopped; {self._log_tail()}"
        )

    def _kill(self, process: subprocess.Popen[bytes]) -> None:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)

    # -- state -----------------------------------------------------------------

    def _record(self, bootstrap: str, pid: int) -> None:
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        state = {
            "bootstrap": bootstrap,
            "pid": pid,
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "kafka_version": self.kafka_version,
            "properties": str(self.properties_file),
        }
        partial = self.state_file.with_suffix(".partial")
        partial.write_text(json.dumps(state, indent=2) + "\n")
        partial.replace(self.state_file)

    def _read_state(self) -> dict[str, object] | None:
        try:
            state = json.loads(self.state_file.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as error:
            raise BrokerError(
                f"cannot read the broker record {self.state_file}: {error}; "
                "remove it if no broker runs"
            ) from error
        if not isinstance(state, dict) or "pid" not in state:
            raise BrokerError(
                f"the broker record {self.state_file} has no pid; remove it if no "
                "broker runs"
            )
        return state

    def _recorded_status(self, *, probe: bool) -> BrokerStatus:
        state = self._read_state()
        if state is None:
            return BrokerStatus(running=False)
        pid = int(str(state["pid"]))
        bootstrap = str(state.get("bootstrap"))
        running = self._is_our_broker(pid)
        answering = running and probe and asyncio.run(broker_answers(bootstrap))
        return BrokerStatus(
            running=running,
            bootstrap=bootstrap,
            pid=pid,
            answering=answering,
            kafka_version=_optional_str(state.get("kafka_version")),
            started_at=_optional_str(state.get("started_at")),
        )

    def _adopt(self, pid: int) -> BrokerStatus:
        """Record again a broker of this data dir that runs without a record."""
        bootstrap = self._advertised_bootstrap()
        logger.warning(
            "Kafka broker pid %d runs on %s without a record; recording it again at %s",
            pid,
            self.home,
            bootstrap,
        )
        self._record(bootstrap, pid)
        return self._recorded_status(probe=True)

    def _advertised_bootstrap(self) -> str:
        for line in self.properties_file.read_text().splitlines():
            key, _, value = line.partition("=")
            if key.strip() == "advertised.listeners":
                return value.strip().removeprefix("PLAINTEXT://")
        raise BrokerError(f"{self.properties_file} names no advertised.listeners")

    def _unrecorded_pids(self) -> list[int]:
        """Live brokers started with this data dir's server.properties."""
        return [pid for pid in _kafka_pids() if self._is_our_broker(pid)]

    def _is_our_broker(self, pid: int) -> bool:
        # Pids are recycled: only a JVM running kafka.Kafka on this data dir's
        # properties counts as our broker.
        if self._process is not None and self._process.pid == pid:
            self._process.poll()  # reap it if it already exited
        command = process_command_line(pid)
        return (
            command is not None
            and BROKER_MAIN_CLASS in command
            and str(self.properties_file) in command
        )

    def _wait_gone(self, pid: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self._is_our_broker(pid):
                return True
            time.sleep(0.1)
        return not self._is_our_broker(pid)

    def _log_tail(self) -> str:
        """The broker's last warnings and errors, without stack frames."""
        try:
            text = self.console_file.read_text(errors="replace")
        except OSError:
            text = ""
        # Stack frames are indented; the message lines above them are not.
        messages = [
            line for line in text.splitlines() if line and not line[0].isspace()
        ]
        tail = "\n".join(messages[-8:])
        full = f"full log in {self.log_file}"
        return f"it said:\n{tail}\n{full}" if tail else f"it said nothing; {full}"


def _kafka_pids() -> list[int]:
    """Pids of live processes whose command line runs kafka.Kafka."""
    proc = Path("/proc")
    if proc.exists():
        pids = [int(entry.name) for entry in proc.iterdir() if entry.name.isdigit()]
    else:
        listing = subprocess.run(
            ["ps", "-ax", "-o", "pid="], capture_output=True, text=True, check=False
        )
        pids = [int(field) for field in listing.stdout.split()]
    return [
        pid for pid in pids if BROKER_MAIN_CLASS in (process_command_line(pid) or "")
    ]


def find_java() -> str:
    """The path of a Java 17+ runtime on PATH, or ToolMissingError."""
    java = shutil.which("java")
    if java is None:
        raise ToolMissingError("java", JAVA_HINT)
    result = subprocess.run(
        [java, "-version"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    # `java -version` prints to stderr: openjdk version "17.0.15" / "1.8.0_412".
    match = re.search(r'version "(\d+)(?:\.(\d+))?', result.stderr + result.stdout)
    if match is None:
        raise ToolMissingError(
            f"java {MIN_JAVA}+", f"{java} did not report its version; {JAVA_HINT}"
        )
    major = int(match.group(1))
    if major == 1 and match.group(2):
        major = int(match.group(2))
    if major < MIN_JAVA:
        raise ToolMissingError(
            f"java {MIN_JAVA}+", f"{java} is Java {major}; {JAVA_HINT}"
        )
    return java


def new_cluster_id() -> str:
    """A random cluster id in Kafka's Uuid form: 22 characters of URL-safe base64."""
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        # Kafka's own generator avoids a leading '-', which command lines misread.
        if not text.startswith("-"):
            return text


def process_command_line(pid: int) -> str | None:
    """The command line of a live process, or None if it is gone (or a zombie)."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return None
    except OSError:
        raw = b""
    if raw:
        return raw.replace(b"\0", b" ").decode(errors="replace")
    if Path("/proc/self").exists():
        return None  # an empty cmdline on Linux is a zombie or a kernel thread
    # Without /proc (macOS), ask ps.
    result = subprocess.run(
        ["ps", "-p", str(pid), "-o", "command="],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip() or None


def _pick_port(requested: int | None, preferred: int, role: str, avoid: int = 0) -> int:
    if requested:
        if not _port_free(requested):
            raise BrokerError(
                f"the {role} port {requested} on 127.0.0.1 is in use; choose another"
            )
        return requested
    if requested is None and preferred != avoid and _port_free(preferred):
        return preferred
    while True:
        port = _free_port()
        if port != avoid:
            return port


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _signal(pid: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)


def _classpath(libs: Path) -> str:
    # The JVM expands `dir/*` to every jar in dir.
    return str(libs / "*")


def _pom_text() -> str:
    return (resources.files("ledger.kafka") / "pom.xml").read_text()


def _remove_abandoned(folder: Path, pattern: str, age: float = 3600.0) -> None:
    """Remove what a killed resolution left behind; younger ones may still be busy."""
    for path in folder.glob(pattern):
        with contextlib.suppress(OSError):
            if time.time() - path.stat().st_mtime > age:
                shutil.rmtree(path, ignore_errors=True)


def _pom_digest() -> str:
    return hashlib.sha256(_pom_text().encode()).hexdigest()


def _tail_text(text: str, lines: int) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def _optional_str(value: object) -> str | None:
    return None if value is None else str(value)
