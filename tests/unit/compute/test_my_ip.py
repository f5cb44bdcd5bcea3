"""compute.my_ip: set, or guessed from the bus URL."""

import pytest

from overcast.common.config import ConfigError, load
from overcast.compute.my_ip import my_ip


def test_a_set_address_is_kept():
    assert my_ip("10.1.2.3", "amqp://guest:guest@192.0.2.1:5672/") == "10.1.2.3"


@pytest.mark.parametrize("url", ["memory://", "amqp://guest:guest@127.0.0.1:5672/", "amqp://u:p@localhost/"])
def test_the_all_in_one_is_on_loopback(url):
    assert my_ip("", url) == "127.0.0.1"


def test_otherwise_the_address_that_routes_to_the_bus_host(monkeypatch):
    import socket

    class Probe:
        def __init__(self, family, kind):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def connect(self, address):
            self.address = address  # a UDP connect sends nothing

        def getsockname(self):
            return ("10.251.7.2", 40000)

    monkeypatch.setattr(socket, "socket", Probe)
    assert my_ip("", "amqp://guest:guest@10.251.7.1:5672/vhost") == "10.251.7.2"


@pytest.mark.parametrize("option, value", [("my_ip", "not-an-ip"), ("migration_transport", "ssh"),
                                           ("live_migration_ports", "80-90"), ("live_migration_ports", "5000-4000"),
                                           ("live_migration_ports", "x")])
def test_bad_migration_options_are_refused(option, value):
    with pytest.raises(ConfigError, match=option):
        load(environ={}, **{f"compute__{option}": value})


def test_the_port_range():
    assert load(environ={}).compute.port_range() == (49152, 49215)
    assert load(environ={}, compute__live_migration_ports="50000").compute.port_range() == (50000, 50000)
