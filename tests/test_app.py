"""The served application: health, the demo on first start, and the command line."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys

import httpx

from fair.app import create_app
from fair.db import Database
from fair.settings import ROOT, Settings
from tests.servers import serving


def quiet(tmp_path) -> Settings:
    """Settings that keep the test's secrets out of the repository's data/ folder."""
    return Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'fair.db'}", secret_key="s", organiser_password="p")


async def test_a_first_start_loads_the_demo_and_a_second_keeps_it(tmp_path):
    settings = quiet(tmp_path)
    async with serving(create_app(settings)) as url, httpx.AsyncClient(base_url=url) as client:
        health = await client.get("/healthz")
        assert health.status_code == 200 and health.json() == {"ok": True, "fair_id": 1}
        tally = (await client.get("/api/tally")).json()
        assert tally["headline"] == {
            "performance_orders": 0,
            "training_lecture_exhibition_orders": 0,
            "book_volumes": 0,
        }
        assert len((await client.get("/api/offerings")).json()) == 187
    async with serving(create_app(settings)) as url, httpx.AsyncClient(base_url=url) as client:
        assert (await client.get("/healthz")).json()["fair_id"] == 1  # kept, not loaded twice
        assert len((await client.get("/api/offerings")).json()) == 187


async def test_health_says_503_when_the_database_is_gone(tmp_path):
    app = create_app(quiet(tmp_path))
    async with serving(app) as url, httpx.AsyncClient(base_url=url) as client:
        serving_db = app.state.db
        # The database server gone: a database the app cannot open.
        app.state.db = Database(f"sqlite+aiosqlite:///{tmp_path / 'gone' / 'fair.db'}")
        shutil.rmtree(tmp_path / "gone")
        try:
            response = await client.get("/healthz")
        finally:
            await app.state.db.dispose()
            app.state.db = serving_db
    # Unhealthy, and nothing more: what went wrong is for the server's log (issue 8, finding 13).
    assert response.status_code == 503 and response.json() == {"ok": False}


def test_the_command_line_lists_only_commands_that_exist():
    result = subprocess.run([sys.executable, "run.py", "--help"], cwd=ROOT, capture_output=True, text=True, check=True)
    assert "serve" in result.stdout and "reset-demo" in result.stdout
    assert "--database-url" in result.stdout and "--port" in result.stdout


def test_reset_demo_loads_the_demo_afresh(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'fair.db'}"
    for _ in range(2):
        result = subprocess.run(
            [sys.executable, "run.py", "reset-demo", "--database-url", url],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        assert "fair 1" in result.stdout


async def test_orders_placed_by_another_process_reach_the_boards(tmp_path):
    """play-demo writes from its own process; the server's publisher finds the commits and the board moves."""
    from tests.screens import Screen

    settings = quiet(tmp_path)
    async with serving(create_app(settings)) as url:
        board = await Screen(url).connect()
        played = await asyncio.create_subprocess_exec(
            sys.executable,
            "run.py",
            "play-demo",
            "--database-url",
            settings.database_url,
            "--performances",
            "3",
            "--trainings",
            "2",
            "--books",
            "500",
            "--pace",
            "0",
            "--seed",
            "7",
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
        )
        output, _ = await played.communicate()
        assert played.returncode == 0, output
        for _ in range(100):
            if board.view["tally"]["headline"] == {
                "performance_orders": 3,
                "training_lecture_exhibition_orders": 2,
                "book_volumes": 500,
            }:
                break
            await asyncio.sleep(0.1)
        assert board.view["tally"]["total"]["orders"] == 6
        await board.disconnect()
