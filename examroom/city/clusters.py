"""Local PostgreSQL clusters made, started and stopped with the machine's own initdb and pg_ctl.

A cluster is a folder: ``data/`` (what initdb made), ``postgres.log``, the server's Unix socket
and ``cluster.json`` (its port and how it is run), so a cluster made once can be opened and
started again (``Cluster.open``). Every cluster has ``wal_level = logical``: a course publishes
its records from it, a city subscribes with it.

PostgreSQL refuses to run as root. Run as root (a container, the project machine), the server
runs as the ``postgres`` system account, which then owns the cluster's folder; the folder must be
one that account can reach.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import shutil
import socket
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path

from examroom.city.errors import CityError
from examroom.messages import N_

# Where distributions put the server's programs when they are not on PATH (newest first wins).
SEARCH_GLOBS = ("/usr/lib/postgresql/*/bin", "/usr/pgsql-*/bin", "/usr/local/pgsql/bin",
                "/opt/homebrew/opt/postgresql*/bin")
PROGRAMS = ("initdb", "pg_ctl", "postgres")
SERVER_ACCOUNT = "postgres"  # the system account the server runs as when we are root
DATABASE = "examroom"
# A Unix socket path is limited to 107 bytes (sun_path); ".s.PGSQL.65535" takes 15 of them.
_SOCKET_ROOM = 107 - len("/.s.PGSQL.65535")

# Settings every cluster gets. The worker counts leave room for nine courses and their
# initial table copies at the city; the timeouts let a cut link be noticed within seconds
# rather than the default minute, so a city shows a course as out of contact promptly.
BASE_SETTINGS = {
    "wal_level": "logical",
    "max_wal_senders": "20",
    "max_replication_slots": "20",
    "max_logical_replication_workers": "24",
    "max_sync_workers_per_subscription": "2",
    "max_worker_processes": "32",
    "shared_buffers": "32MB",
    "wal_sender_timeout": "10s",
    "wal_receiver_timeout": "10s",
    "wal_retrieve_retry_interval": "1s",
    "timezone": "UTC",
    "log_timezone": "UTC",
    "logging_collector": "off",
}
# Settings of a cluster whose contents may be lost with the machine (tests, the demo): no fsync.
THROWAWAY_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


def find_binaries(path: str | None = None, places: tuple[str, ...] | None = None) -> Path:
    """The folder holding initdb, pg_ctl and postgres: PATH first, then the distributions' places.

    ``path`` is searched instead of $PATH when given; ``places`` are the folders' patterns
    (default: ``SEARCH_GLOBS``, read when called).

    Raises CityError (with how to install them) when the machine has none.
    """
    found = shutil.which("initdb", path=path)
    places = SEARCH_GLOBS if places is None else places
    candidates = [Path(found).resolve().parent] if found else []
    for pattern in places:
        candidates += sorted(Path("/").glob(pattern.lstrip("/")), key=_version_key, reverse=True)
    for folder in candidates:
        if all((folder / program).is_file() and os.access(folder / program, os.X_OK) for program in PROGRAMS):
            return folder
    raise CityError(N_("找不到 PostgreSQL 服务器程序（initdb、pg_ctl、postgres）。城市中心和 --city 演示需要它们："
                       "Debian/Ubuntu 上运行 apt-get install postgresql，其他系统见 "
                       "https://www.postgresql.org/download/ ；已安装的，请把它的 bin 文件夹加入 PATH。"))


def _version_key(folder: Path) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", str(folder))) or (0,)


def server_version(binaries: Path) -> int:
    """The major version of the server programs in ``binaries`` (15 for 15.20)."""
    out = subprocess.run([str(binaries / "pg_ctl"), "--version"], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"(\d+)", out.split(")")[-1]).group(1))


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on now (the kernel's pick)."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


@dataclass
class Cluster:
    """One PostgreSQL cluster in ``folder``; ``start()`` / ``stop()``; ``url()`` to reach it."""

    folder: Path
    port: int
    binaries: Path
    listen: tuple[str, ...] = ("127.0.0.1",)
    socket_dir: str = ""  # "" when the folder's path is too long for a socket
    os_user: str | None = None  # the account the server runs as (root cannot)
    netns: str | None = None  # the network namespace the server runs in (tests of a cut link)
    settings: dict[str, str] = field(default_factory=dict)

    # -- making -------------------------------------------------------------------------
    @classmethod
    def make(cls, folder: Path, *, port: int | None = None, listen: tuple[str, ...] = ("127.0.0.1",),
             settings: dict[str, str] | None = None, allow_networks: tuple[str, ...] = (),
             durable: bool = True, netns: str | None = None, binaries: Path | None = None,
             template: Cluster | None = None) -> Cluster:
        """initdb a new cluster into ``folder`` (which must not hold one) with logical WAL.

        ``allow_networks``: CIDR networks (besides this machine) that may connect without a
        password, such as the city's address on a course's link. ``durable=False``: no fsync
        (tests, the demo). ``netns``: the server runs inside that network namespace.
        ``template``: a throwaway cluster made here before with the same programs and no
        ``allow_networks``, not running; its data folder is copied instead of running initdb
        (initdb takes half a second of CPU, the copy a twentieth: the tests make dozens of
        clusters). Its databases come along; its settings do not.
        """
        folder = Path(folder).resolve()
        if (folder / "data").exists():
            raise CityError(N_("文件夹 %(folder)s 里已经有一个 PostgreSQL 数据库集群。"), folder=str(folder))
        binaries = binaries or (template.binaries if template is not None else find_binaries())
        if template is not None and (durable or template.binaries != binaries or template.running()):
            raise ValueError("a template serves only throwaway clusters of its own programs, and must be stopped")
        folder.mkdir(parents=True, exist_ok=True)
        os_user = _server_account()
        cluster = cls(folder=folder, port=port or free_port(), binaries=binaries, listen=tuple(listen),
                      socket_dir=str(folder) if len(str(folder)) <= _SOCKET_ROOM else "", os_user=os_user,
                      netns=netns)
        if os_user:
            account = pwd.getpwnam(os_user)
            os.chown(folder, account.pw_uid, account.pw_gid)
            if cluster._run(["test", "-w", str(folder)], check=False).returncode != 0:
                raise CityError(N_("PostgreSQL 以系统账户 %(user)s 运行，但该账户进不了文件夹 %(folder)s："
                                   "请把数据文件夹放在它能进入的位置（例如 /var/lib/examroom 或 /tmp 之下）。"),
                                user=os_user, folder=str(folder))
        if template is not None:
            # As the server's account, which owns both folders (cp -a keeps the data folder's 0700).
            cluster._run(["cp", "-a", str(template.folder / "data"), str(folder / "data")])
        else:
            cluster._initdb(durable)
        cluster.settings = {**BASE_SETTINGS, **({} if durable else THROWAWAY_SETTINGS), **(settings or {})}
        cluster._write_settings()
        if allow_networks:
            with open(folder / "data" / "pg_hba.conf", "a") as hba:
                hba.write("\n# examroom city: the networks of the courses' and the city's links\n")
                for network in allow_networks:
                    hba.write(f"host all all {network} trust\n")
        cluster._save()
        return cluster

    def _initdb(self, durable: bool) -> None:
        initdb = [str(self.binaries / "initdb"), "-D", str(self.folder / "data"), "-A", "trust", "-U", "postgres",
                  "-E", "UTF8", "--no-locale"]
        if not durable:
            initdb.append("--no-sync")
        done = self._run(initdb, check=False)
        if done.returncode != 0:
            raise CityError(N_("initdb 没能在 %(folder)s 建立数据库集群：%(detail)s"),
                            folder=str(self.folder), detail=_last_lines(done.stderr or done.stdout))

    @classmethod
    def open(cls, folder: Path) -> Cluster:
        """The cluster made earlier in ``folder`` (from its cluster.json)."""
        folder = Path(folder).resolve()
        try:
            saved = json.loads((folder / "cluster.json").read_text())
        except FileNotFoundError:
            raise CityError(N_("文件夹 %(folder)s 里没有 examroom 建立的数据库集群。"), folder=str(folder)) from None
        saved.update(folder=folder, binaries=Path(saved["binaries"]), listen=tuple(saved["listen"]))
        return cls(**saved)

    def _save(self) -> None:
        saved = asdict(self)
        saved.update(folder=str(self.folder), binaries=str(self.binaries), listen=list(self.listen))
        saved.pop("folder")
        path = self.folder / "cluster.json"
        path.write_text(json.dumps(saved, indent=1, sort_keys=True) + "\n")

    def _write_settings(self) -> None:
        lines = {**self.settings, "port": str(self.port), "listen_addresses": ",".join(self.listen),
                 "unix_socket_directories": self.socket_dir}
        # postgresql.auto.conf is read last and is what ALTER SYSTEM writes: the values here win
        # over initdb's postgresql.conf, and a later ALTER SYSTEM (a test's) still wins over them.
        text = "".join(f"{name} = '{value}'\n" for name, value in lines.items())
        (self.folder / "data" / "postgresql.auto.conf").write_text(
            "# Written by examroom.city.clusters; ALTER SYSTEM adds below.\n" + text)

    def configure(self, **settings: str) -> None:
        """Change settings (takes effect at the next start)."""
        self.settings.update(settings)
        self._write_settings()
        self._save()

    # -- running --------------------------------------------------------------------------
    def start(self, timeout: int = 60) -> Cluster:
        if self.running():
            return self
        done = self._run([str(self.binaries / "pg_ctl"), "-D", str(self.folder / "data"),
                          "-l", str(self.folder / "postgres.log"), "-w", "-t", str(timeout), "start"], check=False)
        if done.returncode != 0:
            raise CityError(N_("数据库集群 %(folder)s 没能启动（端口 %(port)s）：%(detail)s"),
                            folder=str(self.folder), port=self.port, detail=self.log_tail())
        return self

    def stop(self, timeout: int = 60) -> None:
        """Stop the server (fast: open sessions are ended); nothing happens if it is not running."""
        if not (self.folder / "data" / "postmaster.pid").exists():
            return
        self._run([str(self.binaries / "pg_ctl"), "-D", str(self.folder / "data"), "-w", "-t", str(timeout),
                   "-m", "fast", "stop"], check=False)

    def running(self) -> bool:
        if not (self.folder / "data" / "postmaster.pid").exists():
            return False
        return self._run([str(self.binaries / "pg_ctl"), "-D", str(self.folder / "data"), "status"],
                         check=False).returncode == 0

    def __enter__(self) -> Cluster:
        return self.start()

    def __exit__(self, *_exc) -> None:
        self.stop()

    def log_tail(self, lines: int = 5) -> str:
        try:
            return _last_lines((self.folder / "postgres.log").read_text(errors="replace"), lines)
        except FileNotFoundError:
            return ""

    # -- reaching it ------------------------------------------------------------------------
    def url(self, database: str = DATABASE, *, host: str | None = None) -> str:
        """A SQLAlchemy URL of ``database``: over TCP at ``host`` (the first listen address), or
        over the Unix socket with ``host="socket"`` (reaches a server in another network namespace).
        """
        if host == "socket":
            if not self.socket_dir:
                raise CityError(N_("数据库集群 %(folder)s 的路径太长，无法使用本地套接字。"), folder=str(self.folder))
            return f"postgresql+psycopg://postgres@/{database}?host={self.socket_dir}&port={self.port}"
        return f"postgresql+psycopg://postgres@{host or self.listen[0]}:{self.port}/{database}"

    def conninfo(self, database: str = DATABASE, *, host: str | None = None, port: int | None = None) -> str:
        """A libpq connection string (what CREATE SUBSCRIPTION takes); ``port`` for a relay in between."""
        # keepalives: a link cut silently (no FIN, no RST) is found in seconds, not hours.
        return (f"host={host or self.listen[0]} port={port or self.port} user=postgres dbname={database} "
                "connect_timeout=5 keepalives=1 keepalives_idle=5 keepalives_interval=2 keepalives_count=3 "
                "application_name=examroom_city")

    def create_database(self, name: str = DATABASE) -> str:
        """Create ``name`` if it is not there; returns its URL."""
        import psycopg  # only the city needs the driver at hand; a course on SQLite never loads it

        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
            raise ValueError(f"database name {name!r}: lower-case letters, digits and _ only")
        with psycopg.connect(self.libpq("postgres"), autocommit=True) as connection:
            if connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
                connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def libpq(self, database: str = DATABASE) -> str:
        """A connection string for this process: the socket where there is one, else TCP."""
        host = self.socket_dir or self.listen[0]
        return f"host={host} port={self.port} user=postgres dbname={database}"

    # -- helpers --------------------------------------------------------------------------
    def _run(self, command: list[str], check: bool = True) -> subprocess.CompletedProcess:
        prefix: list[str] = []
        if self.netns:
            prefix += ["ip", "netns", "exec", self.netns]
        if self.os_user:
            prefix += ["runuser", "-u", self.os_user, "--"]
        return subprocess.run(prefix + command, capture_output=True, text=True, check=check,
                              stdin=subprocess.DEVNULL, env={**os.environ, "LC_ALL": "C"})


def _server_account() -> str | None:
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SERVER_ACCOUNT)
    except KeyError:
        raise CityError(N_("以 root 运行时，PostgreSQL 需要系统账户 %(user)s 来运行服务器，但本机没有这个账户："
                           "请安装 PostgreSQL 服务器软件包（它会建立该账户），或以普通用户运行。"),
                        user=SERVER_ACCOUNT) from None
    return SERVER_ACCOUNT


def _last_lines(text: str, lines: int = 5) -> str:
    return " | ".join(line.strip() for line in text.strip().splitlines()[-lines:])
