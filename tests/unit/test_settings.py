"""Unit tests for layered settings: YAML defaults, local overrides, env wins, clear errors."""

from pathlib import Path

import pytest

from shopgraph.settings import REPO_ROOT, SettingsError, load_settings

pytestmark = pytest.mark.unit


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for key in list(os.environ):
        if key.upper().startswith("SHOPGRAPH_"):
            monkeypatch.delenv(key)


def _conf(tmp_path: Path, base: str, local: str | None = None) -> Path:
    (tmp_path / "base.yaml").write_text(base)
    if local is not None:
        (tmp_path / "local.yaml").write_text(local)
    return tmp_path


def test_committed_defaults_load() -> None:
    settings = load_settings()
    assert settings.neo4j.uri == "bolt://127.0.0.1:7687"
    assert settings.neo4j.managed is True
    assert settings.neo4j.password is None
    assert settings.home == REPO_ROOT / ".local"
    assert settings.lake_root == str(REPO_ROOT / "data" / "lake")


def test_local_overrides_base_and_env_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    conf = _conf(tmp_path, "mlflow:\n  port: 5001\nprefect:\n  port: 4201\n", "mlflow:\n  port: 5002\n")
    monkeypatch.setenv("SHOPGRAPH_PREFECT__PORT", "4300")
    settings = load_settings(conf)
    assert settings.mlflow.port == 5002
    assert settings.prefect.port == 4300
    assert settings.prefect.resolved_api_url == "http://127.0.0.1:4300/api"


def test_env_uri_means_external_neo4j(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPGRAPH_NEO4J__URI", "bolt://db.example:7687")
    monkeypatch.setenv("SHOPGRAPH_NEO4J__PASSWORD", "s3cret")
    settings = load_settings(_conf(tmp_path, ""))
    assert settings.neo4j.managed is False
    assert settings.neo4j.password is not None
    assert settings.neo4j.password.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(settings)


def test_invalid_value_names_key_and_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPGRAPH_MLFLOW__PORT", "not-a-port")
    with pytest.raises(SettingsError, match=r"mlflow\.port \(env SHOPGRAPH_MLFLOW__PORT\)"):
        load_settings(_conf(tmp_path, ""))


def test_unknown_key_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"neo4j\.passwrd"):
        load_settings(_conf(tmp_path, "neo4j:\n  passwrd: x\n"))


def test_broken_yaml_names_file(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="base.yaml"):
        load_settings(_conf(tmp_path, "neo4j: [unclosed\n"))


def test_url_lake_root_is_kept(tmp_path: Path) -> None:
    settings = load_settings(_conf(tmp_path, "lake:\n  root: s3://bucket/lake\n"))
    assert settings.lake_root == "s3://bucket/lake"


def test_an_edited_local_file_is_read_again(tmp_path: Path) -> None:
    # Parsed files are cached per modification time and size: an edit must still show on the next load.
    conf = _conf(tmp_path, "mlflow:\n  port: 5001\n", "mlflow:\n  port: 5002\n")
    assert load_settings(conf).mlflow.port == 5002
    (conf / "local.yaml").write_text("mlflow:\n  port: 50031\n")
    assert load_settings(conf, mlflow={"port": 7}).mlflow.port == 7
    assert load_settings(conf).mlflow.port == 50031  # the override did not stick to the cached file
    (conf / "local.yaml").unlink()
    assert load_settings(conf).mlflow.port == 5001
