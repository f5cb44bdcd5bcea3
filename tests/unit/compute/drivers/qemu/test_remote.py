"""Which transport a move takes, and files pulled piece by piece with their checksum."""

import hashlib

import pytest

from overcast.compute.drivers.qemu import remote


@pytest.mark.parametrize("mine, theirs, same, expected", [
    ("auto", "auto", True, "local"),
    ("auto", "auto", False, "tcp"),
    ("tcp", "auto", True, "tcp"),
    ("auto", "tcp", True, "tcp"),
    ("local", "auto", False, "local"),
    ("auto", None, False, "local"),  # an older peer sends no preference: it only knew local
])
def test_the_transport_of_a_move(mine, theirs, same, expected):
    assert remote.decide(mine, theirs, same) == expected


def test_the_machine_id_names_the_machine_and_the_state_directory_device(tmp_path):
    ident, device = remote.machine_id(tmp_path).rsplit(":", 1)
    assert ident and int(device) == tmp_path.stat().st_dev
    assert remote.machine_id(tmp_path / "missing") == f"{ident}:0"


def reader_of(blob: bytes, calls: list):
    def read(host, uuid, name, offset, length):
        calls.append((offset, length))
        return blob[offset:offset + length]

    return read


def test_a_file_is_pulled_in_pieces_and_checked(tmp_path, monkeypatch):
    monkeypatch.setattr(remote, "PIECE", 1000)
    blob = bytes(range(256)) * 20
    calls = []
    target = tmp_path / "disk.qcow2"
    remote.pull(reader_of(blob, calls), "h", "u", "disk",
                {"size": len(blob), "sha256": hashlib.sha256(blob).hexdigest()}, target)
    assert target.read_bytes() == blob and len(calls) == 6 and max(n for _, n in calls) == 1000


@pytest.mark.parametrize("expected", [{"size": 5120, "sha256": "0" * 64}, {"size": 6000, "sha256": ""}])
def test_a_pull_that_does_not_match_leaves_no_file(tmp_path, expected):
    target = tmp_path / "disk.qcow2"
    with pytest.raises(remote.TransferError):
        remote.pull(reader_of(bytes(5120), []), "h", "u", "disk", expected, target)
    assert list(tmp_path.iterdir()) == []


def test_a_log_is_appended_from_an_offset(tmp_path):
    target = tmp_path / "console.log"
    target.write_bytes(b"here\n")
    assert remote.append_from(reader_of(b"abcdef", []), "h", "u", "console", 2, target) == 6
    assert target.read_bytes() == b"here\ncdef"


def test_sums_and_pieces_on_the_source(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"x" * 10)
    assert remote.file_sums({"disk": path}) == {"disk": {"size": 10, "sha256": hashlib.sha256(b"x" * 10).hexdigest()}}
    assert remote.read_piece(path, 8, 100) == b"xx" and remote.read_piece(path, 20, 5) == b""
    assert remote.listen_address("::1", 5) == "[::1]:5" and remote.listen_address("10.0.0.1", 5) == "10.0.0.1:5"


@pytest.mark.parametrize("address", ["127.0.0.1:49152", "[fd00::1]:49153"])
def test_split_address_undoes_listen_address(address):
    host, port = remote.split_address(address)
    assert remote.listen_address(host, int(port)) == address
    assert remote.host_of(f"tcp:{address}") == host
