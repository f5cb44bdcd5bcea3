from overcast.metadata.signature import sign, verify


def test_signature_covers_network_and_address():
    signed = sign("secret", "net-1", "10.0.0.5")
    assert len(signed) == 64 and verify("secret", "net-1", "10.0.0.5", signed)
    assert verify("secret", "net-1", "10.0.0.5", signed.upper())
    assert not verify("secret", "net-2", "10.0.0.5", signed)
    assert not verify("secret", "net-1", "10.0.0.6", signed)
    assert not verify("other", "net-1", "10.0.0.5", signed)
    assert not verify("", "net-1", "10.0.0.5", sign("", "net-1", "10.0.0.5"))  # no secret: nothing is trusted
    assert not verify("secret", "net-1", "10.0.0.5", "")
