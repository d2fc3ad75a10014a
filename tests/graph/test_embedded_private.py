"""The embedded graph server is reachable by its owner only: no TCP listener, a unix socket in
a 0700 directory, a 0700 data dir and 0600 files (issue 18, finding 2)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from app.config import Settings
from app.graph import open_store
from app.graph.embedded import EmbeddedServer
from app.graph.falkordb import FalkorStore

pytestmark = pytest.mark.falkordb_only("the embedded FalkorDB server's socket and files")


def _mode(path: Path | str) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def _listening_tcp(pid: int) -> list[str]:
    """TCP sockets in LISTEN state that the process holds (IPv4 and IPv6)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    found = []
    for table in ("tcp", "tcp6"):
        try:
            lines = Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            cols = line.split()
            if cols[3] == "0A" and cols[9] in inodes:  # 0A: LISTEN
                found.append(f"{table} {cols[1]}")
    return found


@pytest.fixture
def server(tmp_path: Path) -> Iterator[EmbeddedServer]:
    data = tmp_path / "graph"
    data.mkdir(mode=0o755)
    os.chmod(data, 0o755)  # as older versions left it
    (data / "old.aof").write_text("x")
    os.chmod(data / "old.aof", 0o644)
    (data / "old-dir").mkdir(mode=0o755)
    os.chmod(data / "old-dir", 0o755)
    (data / "old-dir" / "old.rdb").write_text("x")
    os.chmod(data / "old-dir" / "old.rdb", 0o666)
    s = EmbeddedServer(data)
    s.start()
    yield s
    s.stop()


def test_no_tcp_listener_only_a_private_socket(server: EmbeddedServer) -> None:
    info = server.info
    assert info is not None and info.port == 0
    assert _listening_tcp(info.pid) == []
    assert info.uri == f"falkordb+unix://{info.socket}" and info.socket == server.socket_path
    assert stat.S_ISSOCK(os.stat(info.socket).st_mode)
    assert _mode(Path(info.socket).parent) == 0o700
    assert _mode(info.socket) & 0o077 == 0
    assert redis.Redis(unix_socket_path=info.socket).ping()


async def test_data_dir_0700_and_files_0600(server: EmbeddedServer) -> None:
    assert server.info is not None
    store = FalkorStore.at(server.info.uri, "modes")
    try:
        await store.execute_text("CREATE (:Secret {value: 'webhook secret'})")
        rows = await store.execute_text("MATCH (s:Secret) RETURN s.value AS v")
        assert rows == [{"v": "webhook secret"}]
    finally:
        await store.drop_all()
        await store.close()
    assert _mode(server.data_dir) == 0o700
    files, dirs = [], []
    for root, ds, fs in os.walk(server.data_dir):
        dirs += [Path(root) / d for d in ds]
        files += [Path(root) / f for f in fs if not stat.S_ISSOCK(os.lstat(Path(root) / f).st_mode)]
    names = {f.name for f in files}
    assert {"server.json", "old.aof", "old.rdb"} <= names
    assert any(f.suffix == ".aof" and f.name != "old.aof" for f in files)  # the live AOF
    assert {str(f): _mode(f) for f in files if _mode(f) != 0o600} == {}
    assert {str(d): _mode(d) for d in dirs if _mode(d) != 0o700} == {}


async def test_open_store_takes_the_socket_uri(server: EmbeddedServer) -> None:
    assert server.info is not None
    store = open_store(Settings(graph_uri=server.info.uri, graph_name="via_uri"))
    try:
        assert isinstance(store, FalkorStore) and store.address == server.info.socket
        await store.execute_text("RETURN 1 AS one")
    finally:
        await store.close()


def test_a_deep_data_dir_gets_a_short_private_socket_dir(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    s = EmbeddedServer(deep)
    assert len(s.socket_path) < 108 and not s.socket_path.startswith(str(deep))
    try:
        info = s.start()
        assert redis.Redis(unix_socket_path=info.socket).ping()
        assert _mode(Path(info.socket).parent) == 0o700
        assert _listening_tcp(info.pid) == []
    finally:
        s.stop()
