"""Certificates for live migration in TLS: what ``overcast tls`` makes, and the check
a host runs before it takes part in a migration in TLS."""

from __future__ import annotations

import stat

import pytest

from overcast.cli import main
from overcast.compute.drivers.qemu import tls


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_overcast_tls_makes_a_ca_and_a_host_directory_qemu_can_read(tmp_path, capsys):
    from cryptography import x509

    assert main(["tls", "ca", str(tmp_path / "ca")]) == 0
    assert main(["tls", "host", str(tmp_path / "h"), "--ca", str(tmp_path / "ca"), "--name", "node-1",
                 "--ip", "192.0.2.10"]) == 0
    host = tmp_path / "h"
    assert tls.check_dir(str(host)) == str(host.resolve())
    assert _mode(tmp_path / "ca" / "ca-key.pem") == 0o600 and _mode(host) == 0o700
    assert all(_mode(host / name) == 0o600 for name in ("server-key.pem", "client-key.pem"))
    assert not (host / "ca-key.pem").exists()  # hosts get the CA's certificate only
    cert = x509.load_pem_x509_certificate((host / "server-cert.pem").read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert [str(a) for a in names.get_values_for_type(x509.IPAddress)] == ["192.0.2.10"]
    assert names.get_values_for_type(x509.DNSName) == ["node-1"]
    ca = x509.load_pem_x509_certificate((host / "ca-cert.pem").read_bytes())
    cert.verify_directly_issued_by(ca)
    assert "PRIVATE KEY" not in capsys.readouterr().out


def test_overcast_tls_will_not_overwrite_a_ca(tmp_path, capsys):
    assert main(["tls", "ca", str(tmp_path)]) == 0
    assert main(["tls", "ca", str(tmp_path)]) == 1
    assert "exists already" in capsys.readouterr().err
    assert main(["tls", "host", str(tmp_path / "h"), "--ca", str(tmp_path)]) == 2  # no --ip


@pytest.mark.parametrize("missing", tls.FILES)
def test_a_tls_directory_missing_a_file_is_refused_by_name(tmp_path, missing):
    tls.make_ca(tmp_path / "ca")
    tls.make_host(tmp_path / "ca", tmp_path / "h", "h", ["127.0.0.1"])
    (tmp_path / "h" / missing).unlink()
    with pytest.raises(tls.TLSError, match=missing):
        tls.check_dir(str(tmp_path / "h"))


def test_tls_without_a_directory_is_refused():
    with pytest.raises(tls.TLSError, match="tls_dir"):
        tls.check_dir("")
