"""Settings an operator gives are checked; secrets at rest are private (issue 8, finding 12)."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from fair import migrate
from fair.app import create_app
from fair.db import Database
from fair.settings import DATA, ROOT, Settings, SettingsError, write_private
from tests.fairground import Fairground
from tests.servers import serving

LONG_KEY = "k" * 40


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_short_secret_key_or_password_is_refused():
    with pytest.raises(SettingsError, match="FAIR_SECRET_KEY"):
        Settings.load({"FAIR_SECRET_KEY": "short"})
    with pytest.raises(SettingsError, match="FAIR_ORGANISER_PASSWORD"):
        Settings.load({"FAIR_SECRET_KEY": LONG_KEY, "FAIR_ORGANISER_PASSWORD": "12345"})
    with pytest.raises(SettingsError, match="not an http"):
        Settings.load({"FAIR_PUBLIC_URL": "fair.example"})
    settings = Settings.load(
        {
            "FAIR_SECRET_KEY": LONG_KEY,
            "FAIR_PUBLIC_URL": "https://fair.nanjing.example/",
            "FAIR_EXTRA_ORIGINS": "http://10.0.0.5:8000, http://[::1]:8000",
            "FAIR_TRUSTED_PROXIES": "127.0.0.1,10.0.0.0/8",
        }
    )
    assert settings.origins() == {"https://fair.nanjing.example", "http://10.0.0.5:8000", "http://[::1]:8000"}
    assert settings.trusted_proxies == ("127.0.0.1", "10.0.0.0/8")


def test_several_workers_need_postgresql_and_redis():
    postgres = "postgresql+asyncpg://fair@127.0.0.1/fair"
    with pytest.raises(SettingsError, match="FAIR_REDIS_URL"):
        Settings.load({"FAIR_WORKERS": "2", "FAIR_DATABASE_URL": postgres})
    with pytest.raises(SettingsError, match="PostgreSQL"):
        Settings.load({"FAIR_WORKERS": "2", "FAIR_REDIS_URL": "redis://127.0.0.1:6379/0"})
    with pytest.raises(SettingsError, match="1 or more"):
        Settings.load({"FAIR_WORKERS": "0"})
    settings = Settings.load({"FAIR_DATABASE_URL": postgres, "FAIR_REDIS_URL": "redis://127.0.0.1:6379/0"}, workers=4)
    assert settings.workers == 4 and settings.redis_prefix == "fair"


def test_workers_starting_together_agree_on_the_generated_secret(tmp_path, monkeypatch):
    monkeypatch.setattr("fair.settings.DATA", tmp_path / "data")
    first = Settings().secret()
    # The second worker looked before the first had written the key: it makes one too, and keeps the first's.
    monkeypatch.setattr(Path, "exists", lambda self: False)
    second = Settings().secret()
    monkeypatch.undo()
    assert first == second == (tmp_path / "data" / "secret.key").read_text().strip()
    assert mode(tmp_path / "data" / "secret.key") == 0o600
    assert [path.name for path in (tmp_path / "data").iterdir()] == ["secret.key"]  # no draft left behind


def test_the_command_line_will_not_start_with_a_short_key(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "FAIR_SECRET_KEY": "short", "FAIR_DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}
    result = subprocess.run([sys.executable, "run.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "at least 32 characters" in result.stderr


def test_the_database_and_secrets_are_readable_by_their_owner_only(tmp_path):
    folder = tmp_path / "data"
    database = Database(f"sqlite+aiosqlite:///{folder / 'fair.db'}")
    assert mode(folder) == 0o700 and mode(folder / "fair.db") == 0o600
    write_private(tmp_path / "other" / "secret.key", "s")
    assert mode(tmp_path / "other") == 0o700 and mode(tmp_path / "other" / "secret.key") == 0o600
    # A database made world-readable before this fix is made private on the next start.
    (folder / "fair.db").chmod(0o644)
    Database(f"sqlite+aiosqlite:///{folder / 'fair.db'}")
    assert mode(folder / "fair.db") == 0o600
    del database


async def test_a_generated_first_password_never_reaches_the_log_and_must_be_changed(tmp_path, monkeypatch, capfd):
    folder = tmp_path / "private"
    url = f"sqlite+aiosqlite:///{folder / 'fair.db'}"
    note = Settings(database_url=url).first_password_file
    assert note == folder / "organiser-password.txt"  # beside its database: another database has its own
    db = Database(url)
    await migrate.upgrade(db)
    await Fairground(db).build()
    await db.dispose()
    settings = Settings(database_url=url, demo=None, secret_key=LONG_KEY)
    async with serving(create_app(settings)) as url, httpx.AsyncClient(base_url=url) as http:
        password = note.read_text().split("password: ")[1].strip()
        assert mode(note) == 0o600 and mode(note.parent) == 0o700
        out, err = capfd.readouterr()
        assert password not in out and password not in err and str(note) in out

        page = await http.get("/login")
        form = {"username": "organiser", "password": password, "csrftoken": page.cookies["csrftoken"]}
        signed_in = await http.post("/login", data=form)
        assert signed_in.headers["location"] == "/account/password"
        assert (await http.get("/console")).headers["location"] == "/account/password"
        csrf = page.cookies["csrftoken"]
        short = await http.post("/account/password", data={"password": "short", "again": "short", "csrftoken": csrf})
        assert short.status_code == 400
        chosen = "a password of my own choosing"
        changed = await http.post("/account/password", data={"password": chosen, "again": chosen, "csrftoken": csrf})
        assert changed.status_code == 303 and changed.headers["location"] == "/console"
        assert not note.exists()
        assert (await http.get("/console")).status_code == 200
        old = await http.post("/api/login", json={"username": "organiser", "password": password})
        assert old.status_code == 403
        new = await http.post("/api/login", json={"username": "organiser", "password": chosen})
        assert new.status_code == 200, new.text


def test_each_database_has_its_own_first_password_file():
    rehearsal = Settings(database_url="sqlite+aiosqlite:////srv/rehearsal/fair.db").first_password_file
    assert rehearsal == Path("/srv/rehearsal/organiser-password.txt")
    first = Settings(database_url="postgresql+asyncpg://postgres@127.0.0.1/fair").first_password_file
    second = Settings(database_url="postgresql+asyncpg://postgres@127.0.0.1/rehearsal").first_password_file
    assert first != second and first.parent == second.parent == DATA
    assert Settings().first_password_file == DATA / "organiser-password.txt"  # as it always was


def test_hall_mode_without_a_network_address_says_so_and_with_one_prints_it(capsys):
    """``python run.py --hall`` on a machine with no network: the cards would say 127.0.0.1; the terminal says why."""
    import run

    settings = Settings.load({})
    alone = run.for_the_hall(settings, address="127.0.0.1")
    assert alone.host == "0.0.0.0" and alone.public_url == "http://127.0.0.1:8000"
    assert "no address on a network" in capsys.readouterr().err
    hall = run.for_the_hall(settings, address="192.168.1.20")
    assert hall.public_url == "http://192.168.1.20:8000" and capsys.readouterr().err == ""
    given = run.for_the_hall(Settings.load({"FAIR_PUBLIC_URL": "https://fair.example.cn"}), address="127.0.0.1")
    assert given.public_url == "https://fair.example.cn" and capsys.readouterr().err == ""
