import pytest

from overcast.common.config import ConfigError, load


def test_defaults_are_all_in_one_on_loopback(tmp_path):
    config = load(environ={})
    assert config.server.host == "127.0.0.1" and config.bus.url == "memory://"
    config = load(environ={}, server__data_dir=str(tmp_path))
    assert config.database_url == f"sqlite:///{tmp_path / 'overcast.db'}"


def test_file_then_environment_then_flags(tmp_path):
    path = tmp_path / "overcast.toml"
    path.write_text('[server]\nport = 9000\nhost = "0.0.0.0"\n[identity]\ntoken_expiration = 600\n')
    config = load(path, environ={"OVERCAST_SERVER_PORT": "9100"})
    assert config.server.port == 9100 and config.identity.token_expiration == 600
    assert config.public_url == "http://127.0.0.1:9100"
    assert load(path, environ={"OVERCAST_SERVER_PORT": "9100"}, server__port=9200).server.port == 9200
    assert load(path, environ={}, server__port=None).server.port == 9000


@pytest.mark.parametrize("kwargs, environ", [
    ({}, {"OVERCAST_SERVER_PORT": "abc"}),
    ({}, {"OVERCAST_SERVER_PORT": "70000"}),
    ({}, {"OVERCAST_SERVER_PROT": "1"}),
    ({"identity__password_hash_rounds": 3}, {}),
    ({"server__nope": 1}, {}),
])
def test_bad_values_name_the_option(kwargs, environ):
    with pytest.raises(ConfigError):
        load(environ=environ, **kwargs)


def test_unknown_option_in_file(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[database]\nurl = 'x'\npool = 3\n")
    with pytest.raises(ConfigError, match="pool"):
        load(path, environ={})


def test_fake_hosts_name_the_extra_compute_hosts():
    config = load(environ={"OVERCAST_COMPUTE_HOST": "cn", "OVERCAST_COMPUTE_FAKE_HOSTS": "3"})
    assert config.compute.extra_fake_hosts() == ["cn-2", "cn-3"]
    assert load(environ={"OVERCAST_COMPUTE_HOST": "cn"}).compute.extra_fake_hosts() == []
    with pytest.raises(ConfigError, match="fake_hosts"):
        load(environ={"OVERCAST_COMPUTE_FAKE_HOSTS": "0"})
