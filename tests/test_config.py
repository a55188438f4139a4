import pytest

from api import create_app
from api.config import ConfigError, check_safe_for_production, from_environment

STRONG = "x" * 40


def test_defaults_are_for_local_use():
    config = from_environment({})
    assert config["ENV_NAME"] == "development"
    assert config["DATABASE_URL"].endswith("@127.0.0.1:54329/peacemap")
    assert from_environment({"PEACEMAP_PG_PORT": "6000"})["DATABASE_URL"].endswith(":6000/peacemap")
    assert (
        from_environment({"DATABASE_URL": "postgresql://db/x"})["DATABASE_URL"]
        == "postgresql://db/x"
    )


@pytest.mark.parametrize(
    "env",
    [
        {"PEACEMAP_ENV": "production"},
        {"PEACEMAP_ENV": "production", "PEACEMAP_SECRET_KEY": "dev-only-secret-key-change-me"},
        {"PEACEMAP_ENV": "production", "PEACEMAP_SECRET_KEY": "short"},
    ],
)
def test_production_refuses_default_or_weak_secrets(env):
    with pytest.raises(ConfigError, match="Refusing to start in production"):
        check_safe_for_production(from_environment(env))


def test_production_starts_with_strong_secrets(database_url):
    env = {"ENV_NAME": "production", "SECRET_KEY": STRONG}
    check_safe_for_production(env)
    with pytest.raises(ConfigError):
        create_app({"ENV_NAME": "production", "DATABASE_URL": database_url})


def test_bad_integer_setting_is_named():
    with pytest.raises(ConfigError, match="PEACEMAP_PAGE_LIMIT_MAX must be an integer"):
        from_environment({"PEACEMAP_PAGE_LIMIT_MAX": "lots"})
