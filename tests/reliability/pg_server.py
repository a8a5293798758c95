"""A throwaway PostgreSQL server for the reliability tests: initdb into a temporary folder, pg_ctl start/stop.

PostgreSQL refuses to run as root, so when the tests run as root the cluster belongs to the ``postgres``
system user (which Debian's ``postgresql`` package creates) and every server command runs as that user.
The server listens on 127.0.0.1 on a free port, with its unix socket inside the temporary folder, and
trusts local connections: it lives only as long as the test session.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

SETUP_HINT = "install them with `make setup` (Debian package `postgresql`)"


class PostgresUnavailable(RuntimeError):
    """The PostgreSQL server binaries are not installed, or the server could not start."""


def find_bin_dir() -> Path:
    """Return the folder holding ``initdb`` and ``pg_ctl`` (newest Debian version first, then ``PATH``)."""
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0,
    )
    for folder in reversed(candidates):
        if (Path(folder) / "initdb").is_file() and (Path(folder) / "pg_ctl").is_file():
            return Path(folder)
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if initdb and pg_ctl:
        return Path(os.path.realpath(pg_ctl)).parent
    raise PostgresUnavailable(f"PostgreSQL server binaries (initdb, pg_ctl) not found; {SETUP_HINT}")


def free_port() -> int:
    """Return a TCP port that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PostgresServer:
    """One PostgreSQL cluster in its own folder; :meth:`start` / :meth:`stop` may be called repeatedly."""

    def __init__(self, *, port: int | None = None, os_user: str = "postgres") -> None:
        """Create the folder (owned by ``os_user`` when running as root) and choose a port; nothing runs yet."""
        self.bin_dir = find_bin_dir()
        self.port = port or free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="pasokh-pg-"))
        self.data = self.folder / "data"
        self.log = self.folder / "server.log"
        self._user: str | None = None
        if os.geteuid() == 0:
            try:
                entry = pwd.getpwnam(os_user)
            except KeyError:
                raise PostgresUnavailable(f"system user {os_user!r} not found; {SETUP_HINT}") from None
            os.chown(self.folder, entry.pw_uid, entry.pw_gid)
            self._user = os_user
        self.folder.chmod(0o755)

    @property
    def running(self) -> bool:
        """Whether the server answers ``pg_ctl status``."""
        return self._run("pg_ctl", "status", "-D", str(self.data), check=False).returncode == 0

    def _run(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [str(self.bin_dir / tool), *args],
            user=self._user,
            cwd=self.folder,
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "LC_ALL": "C.UTF-8"},
        )
        if check and result.returncode != 0:
            log = self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""
            raise PostgresUnavailable(f"{tool} {' '.join(args)} failed:\n{result.stdout}{result.stderr}\n{log}")
        return result

    def init(self) -> PostgresServer:
        """Create the cluster (UTF-8, trust authentication for local connections only)."""
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-E", "UTF8", "--auth=trust", "--no-instructions")
        return self

    def start(self) -> PostgresServer:
        """Start the server and wait until it accepts connections."""
        # fsync off: the tests crash Pasokh processes and restart PostgreSQL cleanly, never the machine.
        options = (
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c full_page_writes=off -c max_connections=200"
        )
        self._run("pg_ctl", "start", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "-o", options)
        return self

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``fast`` disconnects clients and shuts down cleanly; ``immediate`` is a crash)."""
        self._run("pg_ctl", "stop", "-D", str(self.data), "-m", mode, "-w", "-t", "60", check=False)

    def url(self, database: str = "postgres") -> str:
        """SQLAlchemy URL of ``database`` (psycopg 3 driver)."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Create an empty database and return its URL."""
        import psycopg  # noqa: PLC0415 - only the reliability tests need the driver

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def wait_until_accepting(self, timeout: float = 30.0) -> None:
        """Wait until a connection succeeds (after :meth:`start` returned, recovery may still be running)."""
        import psycopg  # noqa: PLC0415

        deadline = time.monotonic() + timeout
        while True:
            try:
                with psycopg.connect(
                    f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", connect_timeout=2
                ):
                    return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def destroy(self) -> None:
        """Stop the server and delete its folder."""
        self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)
