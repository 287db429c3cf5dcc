"""``gridmgmt serve --workers 2``: two real gunicorn processes sharing sessions and rate limits.

The server runs as a subprocess on the web fixture's data (written to a
fresh instance directory); its access log names the worker process of
every request (``<pid>``), so the tests can tell that both processes
answered. Every request opens a new connection, so the kernel hands them
to either worker.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from gridmgmt.domain.accounts import create_user
from tests.environment import REPO
from tests.factories import G1, LABELS, boundaries, buildings, roads, small_grids
from tests.webapp.sessions import PASSWORD

pytestmark = pytest.mark.skipif(sys.platform.startswith("win"), reason="gunicorn needs POSIX")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _instance(workdir: Path) -> None:
    from gridmgmt.store.repository import Store

    store = Store(f"sqlite:///{workdir / 'gridmgmt.db'}")
    store.write_layers(
        {"boundaries": boundaries(), "buildings": buildings(8), "roads": roads()}, source="t"
    )
    grids = small_grids()
    store.write_grid_version("340705001001", grids.iloc[:2], LABELS)
    store.write_grid_version("340705001002", grids.iloc[2:], {})
    create_user(store, "supervisor", PASSWORD, "supervisor")
    create_user(store, "worker", PASSWORD, "worker", grid_codes=[G1])
    store.dispose()


class Served:
    """A ``gridmgmt serve --workers 2`` subprocess and its log."""

    def __init__(self, workdir: Path, extra_env: dict[str, str]):
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / "serve.log"
        env = {**os.environ, "PYTHONPATH": str(REPO), **extra_env}
        env.pop("GRIDMGMT_SECRET_KEY", None)  # the command draws one secret for all workers
        env.pop("GRIDMGMT_DATABASE_URL", None)
        self.log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from gridmgmt.cli import main; main()"]
            + ["--workdir", str(workdir), "serve"]
            + ["--workers", "2", "--threads", "4", "--port", str(self.port), "--access-log"],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            self.wait_until_up()
        except BaseException:
            self.stop()
            raise

    def wait_until_up(self) -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if requests.get(self.base + "/healthz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert self.process.poll() is None, self.text()
            time.sleep(0.3)
        else:
            raise AssertionError("server did not start:\n" + self.text())

    def text(self) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")

    def worker_pids(self, path: str) -> list[int]:
        """Process ids that answered ``path`` (from the access log)."""
        time.sleep(0.5)  # the log is written after the response
        return [
            int(m.group(1))
            for m in re.finditer(r"<(\d+)> \S+ \"GET (\S+) HTTP[^\"]*\" (\d+)", self.text())
            if m.group(2) == path
        ]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:  # pragma: no cover
            self.process.kill()
        self.log.close()


@pytest.fixture
def served(tmp_path, request):
    _instance(tmp_path)
    server = Served(tmp_path, getattr(request, "param", {}))
    yield server
    server.stop()


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def _login(base: str) -> requests.Session:
    session = requests.Session()
    html = session.get(base + "/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    answer = session.post(
        base + "/login",
        data={"username": "supervisor", "password": PASSWORD, "csrf_token": token},
        allow_redirects=False,
    )
    assert answer.status_code == 302, answer.text
    return session


def test_two_worker_processes_share_sessions(served):
    workers = _children(served.process.pid)
    assert len(workers) == 2, served.text()
    cookies = _login(served.base).cookies

    def ask(_i):
        # a new connection per request: either worker may take it
        answer = requests.get(
            served.base + "/api/v1/incidents",
            cookies=cookies,
            headers={"Connection": "close"},
            allow_redirects=False,
            timeout=30,
        )
        return answer.status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(ask, range(80)))
    assert statuses == [200] * 80  # authenticated on whichever process answered
    pids = served.worker_pids("/api/v1/incidents")
    assert len(pids) == 80
    assert set(pids) == set(workers), f"answered by {set(pids)}, workers {workers}"


@pytest.mark.parametrize("served", [{"GRIDMGMT_RATE_LIMIT": "20 per minute"}], indirect=True)
def test_the_rate_limit_is_counted_across_processes(served):
    def ask(_i):
        answer = requests.get(served.base + "/login", headers={"Connection": "close"}, timeout=30)
        return answer.status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(ask, range(60)))
    # one count for the whole app: 20 allowed in all, not 20 per process
    assert statuses.count(200) == 20, statuses
    assert statuses.count(429) == 40
    served_ok = served.worker_pids("/login")
    assert len(set(served_ok)) == 2, served.text()
