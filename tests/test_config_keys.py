"""Configuration layers and where the register key may (and may not) come from."""

from __future__ import annotations

import stat
from dataclasses import replace
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail

from clerk_app.config import Config, load_config, parse_override
from clerk_app.errors import ConfigError, KeyStoreError
from clerk_app.keys import KEYRING_SERVICE, load_or_create_key, new_key
from tests.factories import memory_keyring


def write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def test_defaults_without_files_start_in_demo_mode(tmp_path: Path) -> None:
    cfg = load_config()
    assert cfg.is_demo
    assert cfg.data_dir == str(tmp_path / "data")
    assert cfg.register_path.name == "demo-register.db"
    assert cfg.sources == ()


def test_machine_file_sets_and_locks_user_file_cannot_override(tmp_path: Path) -> None:
    write(tmp_path / "machine.toml",
          'mode = "production"\ncentral_url = "https://zentral.example"\nlock = ["language"]\n'
          'unlock = ["office_hours"]\n')
    write(tmp_path / "user.toml",
          'central_url = "http://evil.example"\nlanguage = "en"\noffice_hours = "immer"\n'
          'font_scale = 1.25\n')
    cfg = load_config()
    assert cfg.mode == "production"
    assert cfg.central_url == "https://zentral.example"
    assert cfg.language == "de"
    assert cfg.office_hours == "immer"
    assert cfg.font_scale == 1.25
    assert any("„central_url“" in w and "gesperrt" in w for w in cfg.warnings)
    assert any("„language“" in w and "gesperrt" in w for w in cfg.warnings)


def test_unknown_keys_are_reported_by_name(tmp_path: Path) -> None:
    write(tmp_path / "machine.toml", 'modus = "demo"\n')
    cfg = load_config()
    assert cfg.warnings == (f"unbekannter Schlüssel „modus“ in Maschinendatei "
                            f"{tmp_path / 'machine.toml'} (nicht beachtet)",)


@pytest.mark.parametrize("text", ['mode = "test"', "demo_residents = -5", 'font_scale = "gross"',
                                  "demo_residents = true"])
def test_invalid_values_are_refused_by_name(tmp_path: Path, text: str) -> None:
    write(tmp_path / "machine.toml", text + "\n")
    with pytest.raises(ConfigError) as err:
        load_config()
    assert text.split()[0] in err.value.message_de


def test_broken_toml_names_the_file(tmp_path: Path) -> None:
    write(tmp_path / "machine.toml", "mode = \n")
    with pytest.raises(ConfigError) as err:
        load_config()
    assert "machine.toml" in err.value.message_de


def test_command_line_overrides_everything(tmp_path: Path) -> None:
    write(tmp_path / "machine.toml", 'mode = "production"\n')
    cfg = load_config(dict([parse_override('mode="demo"'), parse_override("demo_residents=10")]))
    assert (cfg.mode, cfg.demo_residents) == ("demo", 10)


def test_demo_key_lies_beside_the_demo_register_with_mode_0600(demo_cfg: Config) -> None:
    key = load_or_create_key(demo_cfg, create=True)
    path = demo_cfg.register_path.with_suffix(".key")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_key(demo_cfg, create=False) == key


def test_production_without_keyring_refuses_and_names_both_ways_out(
        demo_cfg: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keyring, "get_keyring", lambda: fail.Keyring())
    cfg = replace(demo_cfg, mode="production")
    with pytest.raises(KeyStoreError) as err:
        load_or_create_key(cfg, create=True)
    assert "Secret Service" in err.value.message_de and "key_file" in err.value.message_de
    assert not cfg.data_path.exists() or not any(cfg.data_path.iterdir())


def test_production_key_file_must_be_private(demo_cfg: Config, tmp_path: Path) -> None:
    key_file = tmp_path / "register.key"
    cfg = replace(demo_cfg, mode="production", key_file=str(key_file))
    key = load_or_create_key(cfg, create=True)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key_file.chmod(0o644)
    with pytest.raises(KeyStoreError) as err:
        load_or_create_key(cfg, create=False)
    assert "0600" in err.value.message_de
    key_file.chmod(0o600)
    assert load_or_create_key(cfg, create=False) == key


def test_production_key_is_generated_once_into_the_keyring(demo_cfg: Config) -> None:
    with memory_keyring() as backend:
        cfg = replace(demo_cfg, mode="production")
        key = load_or_create_key(cfg, create=True)
        assert load_or_create_key(cfg, create=True) == key
        assert list(backend.items) == [(KEYRING_SERVICE, str(cfg.register_path.resolve()))]
        assert not list(Path(cfg.data_dir).glob("*.key"))


def test_new_keys_differ() -> None:
    assert new_key() != new_key()


def test_every_key_is_documented() -> None:
    from clerk_app.config import KEYS

    doc = (Path(__file__).resolve().parents[1] / "docs" / "configuration.md").read_text("utf-8")
    assert [k for k in KEYS if f"| `{k}` |" not in doc] == []
