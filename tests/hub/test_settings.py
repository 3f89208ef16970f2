import pytest

from hub.settings import Settings


def test_development_secret_is_generated_once_and_kept(tmp_path) -> None:
    settings = Settings(data_dir=tmp_path, secret_key="")
    first = settings.secret()
    assert len(first) >= 32
    assert Settings(data_dir=tmp_path, secret_key="").secret() == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_production_refuses_to_start_without_a_secret(tmp_path) -> None:
    with pytest.raises(ValueError, match="must be set in production"):
        Settings(mode="production", data_dir=tmp_path, secret_key="").secret()
    assert not (tmp_path / "secret_key").exists()


def test_short_secret_is_refused(tmp_path) -> None:
    with pytest.raises(ValueError, match="at least 32"):
        Settings(data_dir=tmp_path, secret_key="short").secret()


def test_default_database_is_sqlite_under_the_data_dir(tmp_path) -> None:
    url = Settings(data_dir=tmp_path / "d", database_url="").database()
    assert url == f"sqlite:///{tmp_path / 'd' / 'soldierslab.db'}"
    assert (tmp_path / "d").is_dir()


def test_settings_come_from_the_environment(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("SOLDIERSLAB_TOKEN_TTL_S", "120")
    monkeypatch.setenv("SOLDIERSLAB_DATABASE_URL", "postgresql+psycopg://db/x")
    settings = Settings()
    assert settings.token_ttl_s == 120
    assert settings.database() == "postgresql+psycopg://db/x"
