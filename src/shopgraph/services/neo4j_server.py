"""The local Neo4j Community server: fetched from Maven Central, bound to loopback, started and stopped."""

from __future__ import annotations

import fcntl
import os
import re
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from string import Template
from urllib.parse import urlsplit

from neo4j import GraphDatabase
from neo4j.exceptions import AuthError, ClientError, DriverError, Neo4jError, ServiceUnavailable
from rich.console import Console

from shopgraph.services.process import (
    ServiceError,
    ServiceStatus,
    died_detail,
    port_is_open,
    running_pid,
    start_detached,
    stop_service_process,
    tail_lines,
    wait_for_port,
)
from shopgraph.settings import REPO_ROOT, Settings

NAME = "neo4j"
HOST = "127.0.0.1"
DEPLOY_DIR = REPO_ROOT / "deploy" / "neo4j"
POM = DEPLOY_DIR / "pom.xml"
BOOT_CLASS = "org.neo4j.server.startup.Neo4jBoot"
ADMIN_CLASS = "org.neo4j.cli.AdminTool"
DEFAULT_PASSWORD = "neo4j"
MIN_JAVA = 17
STOP_TIMEOUT_S = 60
# The bootloader only reads neo4j.conf and launches the server JVM, so it gets a small, quick JVM.
BOOTLOADER_JVM = ("-Xmx64m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1")
# The bootloader would let these override the heap set in neo4j.conf.
BOOTLOADER_ENV_CLEARED = ("JAVA_OPTS", "HEAP_SIZE")
INSTALLED_MARKER = "INSTALLED"
VERSION_PATTERN = re.compile(r"^\d+\.\d+\.\d+$")
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")

console = Console(stderr=True)


@dataclass(frozen=True)
class Neo4jLayout:
    """Where the managed server's installation, configuration and state live under settings.home."""

    root: Path
    install: Path
    conf: Path
    data: Path
    logs: Path
    run: Path
    import_dir: Path
    plugins: Path
    password_file: Path

    @property
    def lib(self) -> Path:
        return self.install / "lib"

    @property
    def system_store(self) -> Path:
        return self.data / "databases" / "system"


def neo4j_layout(settings: Settings) -> Neo4jLayout:
    root = settings.home / "neo4j"
    return Neo4jLayout(
        root=root,
        install=root / _checked_version(settings.neo4j.version),
        conf=root / "conf",
        data=root / "data",
        logs=root / "logs",
        run=root / "run",
        import_dir=root / "import",
        plugins=root / "plugins",
        password_file=root / "password",
    )


def _checked_version(version: str) -> str:
    if not VERSION_PATTERN.match(version):
        raise ServiceError(
            f"neo4j.version {version!r} is not an exact release such as 5.26.31: "
            "set SHOPGRAPH_NEO4J__VERSION or neo4j.version in conf/local.yaml"
        )
    return version


def _say(message: str) -> None:
    console.print(f"neo4j: {message}", highlight=False, soft_wrap=True)


def java_executable() -> str:
    """The java binary (JAVA_HOME first, then PATH), checked to be Java 17 or newer."""
    java_home = os.environ.get("JAVA_HOME")
    candidate = Path(java_home) / "bin" / "java" if java_home else None
    java = str(candidate) if candidate and candidate.exists() else shutil.which("java")
    if java is None:
        raise ServiceError(
            f"Java {MIN_JAVA}+ not found on PATH: install openjdk-17-jre-headless (or set JAVA_HOME)"
        )
    result = subprocess.run([java, "-version"], capture_output=True, text=True, check=False)
    major = java_major_version(result.stderr + result.stdout)
    if major is None or major < MIN_JAVA:
        raise ServiceError(
            f"{java} is Java {major or 'of unknown version'}, Neo4j 5 needs Java {MIN_JAVA} or 21: "
            "install openjdk-17-jre-headless and put it first on PATH (or set JAVA_HOME)"
        )
    return java


def java_major_version(version_output: str) -> int | None:
    """The feature release from `java -version` output: 17 for "17.0.15", 8 for "1.8.0_292"."""
    match = re.search(r'version "(\d+)(?:\.(\d+))?', version_output)
    if match is None:
        return None
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def _maven_executable() -> str:
    mvn = shutil.which("mvn")
    if mvn is None:
        raise ServiceError(
            "Maven (mvn) not found on PATH: install it (apt-get install maven); "
            "the first Neo4j start resolves the server from Maven Central with it"
        )
    return mvn


def _browser_installed(layout: Neo4jLayout) -> bool:
    return any(layout.lib.glob("neo4j-browser-*.jar"))


@contextmanager
def _install_lock(root: Path) -> Iterator[None]:
    root.mkdir(parents=True, exist_ok=True)
    # Two commands starting the stack at once must not both write the same lib folder.
    with open(root / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def install_neo4j(settings: Settings) -> Path:
    """Resolve the Neo4j server and Browser jars with Maven into home/neo4j/<version>; skip if present."""
    layout = neo4j_layout(settings)
    if (layout.install / INSTALLED_MARKER).exists():
        return layout.install
    java_executable()
    mvn = _maven_executable()
    version = settings.neo4j.version
    with _install_lock(layout.root):
        if (layout.install / INSTALLED_MARKER).exists():
            return layout.install
        partial = layout.install.with_name(f"{layout.install.name}.partial")
        shutil.rmtree(partial, ignore_errors=True)
        _say(
            f"installing Neo4j Community {version} from Maven Central into {layout.install} (first time only)"
        )
        started = time.monotonic()
        command = [
            mvn, "-q", "-B", "-U", "-Dstyle.color=never", "-f", str(POM), "dependency:copy-dependencies",
            f"-Dneo4j.version={version}", f"-Dneo4j.lib.dir={partial / 'lib'}",
        ]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            shutil.rmtree(partial, ignore_errors=True)
            raise ServiceError(
                f"Maven could not resolve Neo4j {version} from Maven Central ({_last_error_line(result)}): "
                "check access to repo1.maven.org, or pick a released 5.26.x in SHOPGRAPH_NEO4J__VERSION"
            )
        jars = sorted(path.name for path in (partial / "lib").glob("*.jar"))
        (partial / INSTALLED_MARKER).write_text(
            f"org.neo4j:neo4j-bootcheck:{version}\norg.neo4j.app:neo4j-server:{version}\n"
            + "".join(f"{jar}\n" for jar in jars)
        )
        shutil.rmtree(layout.install, ignore_errors=True)
        partial.rename(layout.install)
        size_mb = sum(path.stat().st_size for path in layout.lib.glob("*.jar")) / 2**20
        _say(f"installed {len(jars)} jars ({size_mb:.0f} MB) in {time.monotonic() - started:.0f}s")
    return layout.install


def _last_error_line(result: subprocess.CompletedProcess[str]) -> str:
    output = ANSI_ESCAPE.sub("", result.stdout + result.stderr)
    missing = re.search(r"Could not find artifact (\S+)|(\S+) was not found in", output)
    if missing:
        return f"{missing.group(1) or missing.group(2)} is not on Maven Central"
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    errors = [line for line in lines if "ERROR" in line or "Exception" in line]
    return (errors or lines or [f"exit code {result.returncode}"])[0][:300]


def neo4j_password(settings: Settings) -> str:
    """The Neo4j password: from the settings, else home/neo4j/password, generated (mode 0600) if absent."""
    if settings.neo4j.password is not None:
        password = settings.neo4j.password.get_secret_value()
        _reject_default(password, "SHOPGRAPH_NEO4J__PASSWORD")
        return password
    path = settings.home / "neo4j" / "password"
    if not path.exists():
        if not settings.neo4j.managed:
            raise ServiceError(
                f"no password for Neo4j at {settings.neo4j.uri}: set SHOPGRAPH_NEO4J__PASSWORD"
            )
        _write_private(path, secrets.token_urlsafe(24))
    os.chmod(path, 0o600)
    password = path.read_text().strip()
    _reject_default(password, str(path))
    return password


def _reject_default(password: str, source: str) -> None:
    if not password or password == DEFAULT_PASSWORD:
        raise ServiceError(
            f"the Neo4j password in {source} is empty or the default 'neo4j', which Neo4j refuses: "
            "set another one (or delete the password file to have one generated)"
        )


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return  # another process generated it first; use theirs
    with os.fdopen(fd, "w") as handle:
        handle.write(text + "\n")


def neo4j_conf_text(settings: Settings, layout: Neo4jLayout) -> str:
    """neo4j.conf for the managed server, from deploy/neo4j/neo4j.conf.template and the settings."""
    template = Template((DEPLOY_DIR / "neo4j.conf.template").read_text())
    return template.substitute(
        lib_dir=layout.lib,
        data_dir=layout.data,
        logs_dir=layout.logs,
        run_dir=layout.run,
        import_dir=layout.import_dir,
        plugins_dir=layout.plugins,
        conf_dir=layout.conf,
        database=settings.neo4j.database,
        bolt_port=settings.neo4j.bolt_port,
        http_port=settings.neo4j.http_port,
        heap_size=settings.neo4j.heap_size,
        pagecache_size=settings.neo4j.pagecache_size,
    )


def _write_config(settings: Settings, layout: Neo4jLayout) -> None:
    for folder in (layout.conf, layout.data, layout.logs, layout.run, layout.import_dir, layout.plugins):
        folder.mkdir(parents=True, exist_ok=True)
    (layout.conf / "neo4j.conf").write_text(neo4j_conf_text(settings, layout))
    for name in ("server-logs.xml", "user-logs.xml"):
        shutil.copyfile(DEPLOY_DIR / name, layout.conf / name)


def neo4j_process_env(layout: Neo4jLayout) -> dict[str, str]:
    env = {"NEO4J_HOME": str(layout.install), "NEO4J_CONF": str(layout.conf)}
    env.update(dict.fromkeys(BOOTLOADER_ENV_CLEARED, ""))
    return env


def _set_initial_password(java: str, layout: Neo4jLayout, password: str) -> None:
    # An @-file keeps the password out of the process list; picocli unquotes it. The "--" ends the
    # options, so a password that starts with "-" (1 in 64 generated ones) is not taken for one.
    quoted = '"' + password.replace("\\", "\\\\").replace('"', '\\"') + '"'
    with tempfile.TemporaryDirectory(dir=layout.root) as scratch:
        args_file = Path(scratch) / "args"
        _write_private(args_file, f"dbms\nset-initial-password\n--\n{quoted}")
        result = subprocess.run(
            [java, "-cp", f"{layout.lib}/*", ADMIN_CLASS, f"@{args_file}"],
            capture_output=True,
            text=True,
            env={**os.environ, **neo4j_process_env(layout)},
            check=False,
        )
    if result.returncode != 0:
        raise ServiceError(f"neo4j-admin could not set the initial password: {_last_error_line(result)}")


def _bolt_uri(settings: Settings) -> str:
    return f"bolt://{HOST}:{settings.neo4j.bolt_port}"


def _urls(settings: Settings, layout: Neo4jLayout) -> dict[str, str]:
    urls = {"bolt": _bolt_uri(settings)}
    if _browser_installed(layout):
        urls["browser"] = f"http://{HOST}:{settings.neo4j.http_port}/browser/"
    return urls


def _query_once(uri: str, user: str, password: str, database: str) -> None:
    with GraphDatabase.driver(uri, auth=(user, password), connection_timeout=5) as driver:
        driver.verify_connectivity()
        driver.execute_query("RETURN 1", database_=database)


def _auth_failed(uri: str, user: str, settings: Settings) -> ServiceError:
    return ServiceError(
        f"Neo4j at {uri}: authentication failed for user '{user}': check SHOPGRAPH_NEO4J__PASSWORD "
        f"or {settings.home / 'neo4j' / 'password'}"
    )


def _check_query(settings: Settings, uri: str, password: str) -> None:
    """Run RETURN 1; ServiceError with one clear line when it cannot."""
    user = settings.neo4j.user
    try:
        _query_once(uri, user, password, settings.neo4j.database)
    except AuthError as exc:
        raise _auth_failed(uri, user, settings) from exc
    except ServiceUnavailable as exc:
        raise ServiceError(
            f"Neo4j at {uri} is not reachable: start it, or unset SHOPGRAPH_NEO4J__URI to let shopgraph "
            "run its own"
        ) from exc
    except (Neo4jError, DriverError) as exc:
        raise ServiceError(
            f"Neo4j at {uri} refused `RETURN 1` on database '{settings.neo4j.database}': {exc}"
        ) from exc


def _wait_until_queryable(settings: Settings, password: str, pid: int, deadline: float, log: Path) -> None:
    uri = _bolt_uri(settings)
    last_error = "no answer yet"
    while time.monotonic() < deadline:
        if running_pid(NAME, settings.run_dir) != pid:
            raise ServiceError(f"neo4j exited during start-up; see {log}:\n{tail_lines(log)}")
        try:
            _query_once(uri, settings.neo4j.user, password, settings.neo4j.database)
            return
        except AuthError as exc:
            raise _auth_failed(uri, settings.neo4j.user, settings) from exc
        except ClientError as exc:
            if "CredentialsExpired" in str(exc.code):
                raise _auth_failed(uri, settings.neo4j.user, settings) from exc
            last_error = str(exc)
        except (Neo4jError, DriverError) as exc:
            last_error = str(exc)  # the database is still starting
        time.sleep(1)
    raise ServiceError(
        f"neo4j opened {uri} but did not answer `RETURN 1` in time ({last_error}); "
        f"see {log}:\n{tail_lines(log)}"
    )


def _refuse_taken_ports(settings: Settings) -> None:
    for port, setting in (
        (settings.neo4j.bolt_port, "SHOPGRAPH_NEO4J__BOLT_PORT"),
        (settings.neo4j.http_port, "SHOPGRAPH_NEO4J__HTTP_PORT"),
    ):
        if port_is_open(HOST, port):
            raise ServiceError(
                f"port {port} is already taken by another process, so Neo4j cannot start: "
                f"stop it or set {setting}"
            )


def _refuse_unknown_password(settings: Settings, layout: Neo4jLayout) -> None:
    if settings.neo4j.password is None and layout.system_store.exists() and not layout.password_file.exists():
        raise ServiceError(
            f"{layout.data} holds a Neo4j whose password is unknown ({layout.password_file} is missing): "
            f"set SHOPGRAPH_NEO4J__PASSWORD, or delete {layout.data} to start with an empty graph"
        )


def start_neo4j(settings: Settings) -> ServiceStatus:
    """Start the managed Neo4j (installing it first) and wait until Cypher answers; for an external
    server (neo4j.managed false) only check that it answers with the configured password."""
    if not settings.neo4j.managed:
        _check_query(settings, settings.neo4j.uri, neo4j_password(settings))
        return neo4j_status(settings)
    layout = neo4j_layout(settings)
    if running_pid(NAME, settings.run_dir) is not None:
        status = neo4j_status(settings)
        status.detail = "already running"
        return status
    _refuse_taken_ports(settings)
    java = java_executable()
    install_neo4j(settings)
    _write_config(settings, layout)
    _refuse_unknown_password(settings, layout)
    password = neo4j_password(settings)
    if not layout.system_store.exists():
        _set_initial_password(java, layout, password)
    log = settings.logs_dir / "neo4j.log"
    started = time.monotonic()
    argv = [java, *BOOTLOADER_JVM, "-cp", f"{layout.lib}/*", BOOT_CLASS, "console"]
    pid = start_detached(
        NAME, argv, run_dir=settings.run_dir, log_path=log, env=neo4j_process_env(layout), cwd=layout.root
    )
    try:
        timeout_s = settings.neo4j.start_timeout_s
        wait_for_port(HOST, settings.neo4j.bolt_port, timeout_s=timeout_s, name=NAME, pid=pid, log_path=log)
        _wait_until_queryable(settings, password, pid, started + timeout_s, log)
    except BaseException:
        stop_service_process(NAME, settings.run_dir, timeout_s=STOP_TIMEOUT_S)
        raise
    status = neo4j_status(settings)
    status.detail = f"started in {time.monotonic() - started:.0f}s"
    return status


def stop_neo4j(settings: Settings) -> bool:
    """Stop the Neo4j this project started (SIGTERM: Neo4j checkpoints and shuts down cleanly)."""
    if not settings.neo4j.managed:
        return False
    return stop_service_process(NAME, settings.run_dir, timeout_s=STOP_TIMEOUT_S)


def neo4j_status(settings: Settings) -> ServiceStatus:
    """Whether Neo4j runs, with its Bolt and Browser URLs and log file."""
    if not settings.neo4j.managed:
        target = urlsplit(settings.neo4j.uri)
        reachable = port_is_open(target.hostname or HOST, target.port or 7687)
        detail = "external, not managed" + ("" if reachable else "; not reachable")
        return ServiceStatus(NAME, reachable, None, {"bolt": settings.neo4j.uri}, None, False, detail)
    layout = neo4j_layout(settings)
    detail = died_detail(NAME, settings.run_dir)
    pid = running_pid(NAME, settings.run_dir)
    if pid is not None and not port_is_open(HOST, settings.neo4j.bolt_port):
        detail = "process alive but not answering yet"
    log = settings.logs_dir / "neo4j.log"
    return ServiceStatus(NAME, pid is not None, pid, _urls(settings, layout), log, True, detail)
