"""The ``guichet`` command end to end, in subprocesses, as an operator runs it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GUICHET_")}
    env |= {"GUICHET_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"} | extra
    return env


def guichet(
    tmp_path: Path, *args: str, stdin: str = "", **extra: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "console.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=_env(tmp_path, **extra),
        timeout=120,
        check=False,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_refuses_an_unmigrated_database_with_the_fix(tmp_path: Path) -> None:
    result = guichet(tmp_path, "serve")
    assert result.returncode == 2
    assert "run `guichet db upgrade`" in result.stderr


@pytest.mark.parametrize("key", ["", "only twenty-six bytes long"])
def test_serve_refuses_an_https_public_url_without_a_long_enough_secret_key(
    tmp_path: Path, key: str
) -> None:
    result = guichet(
        tmp_path, "serve", GUICHET_PUBLIC_URL="https://tickets.example", GUICHET_SECRET_KEY=key
    )
    assert result.returncode == 2, result.stderr
    assert "GUICHET_SECRET_KEY" in result.stderr and "32 bytes" in result.stderr
    assert not (tmp_path / "cli.db").exists()  # refused before anything was opened


def test_upgrade_admin_demo_twice_then_serve_health_and_clean_stop(tmp_path: Path) -> None:
    assert guichet(tmp_path, "db", "upgrade").returncode == 0
    created = guichet(tmp_path, "admin", "create", "Boss@Example.org", stdin="a long passphrase\n")
    assert created.returncode == 0, created.stderr
    assert "created admin account boss@example.org" in created.stdout
    weak = guichet(tmp_path, "admin", "create", "other@example.org", stdin="short\n")
    assert weak.returncode == 1 and "at least 10 characters" in weak.stderr
    twice = guichet(tmp_path, "admin", "create", "boss@example.org", stdin="a long passphrase\n")
    assert twice.returncode == 1
    first = guichet(tmp_path, "demo-data")
    second = guichet(tmp_path, "demo-data")
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert "demo data loaded" in first.stdout
    assert "already present" in second.stdout

    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "console.cli", "serve"],
        cwd=tmp_path,
        text=True,
        env=_env(tmp_path, GUICHET_WEB_PORT=str(port)),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        health = _wait_for_health(port, process)
        assert health["database"] == "ok"
        assert health["roles"]["web"] == "running"
        assert health["roles"]["worker"] == "running"
        assert "GUICHET_BOT_TOKEN" in health["roles"]["bot"]
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, output
    assert "stopped cleanly" in output
    assert "set GUICHET_BOT_TOKEN" in output  # the operator is told how to turn the bot on
    # No GUICHET_SECRET_KEY on a local run: the generated key is used, and said plainly.
    assert "using a generated secret key kept in the database; set GUICHET_SECRET_KEY" in output


def _wait_for_health(port: int, process: subprocess.Popen[str]) -> dict[str, dict[str, str]]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"serve exited early: {process.stdout.read() if process.stdout else ''}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as reply:
                return json.loads(reply.read())  # type: ignore[no-any-return]
        except OSError:
            time.sleep(0.2)
    pytest.fail("serve did not answer /healthz within 60 s")
