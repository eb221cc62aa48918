# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""A test CA and a server certificate made locally (no network), for the unit tests and the scenarios.

    python tests/support/pki.py DIRECTORY [--name proxy.test ...]

writes ca.pem, server.pem and server.key (PKCS#8, unencrypted), renewed.pem and renewed.key (a second
certificate for the same names, as after a renewal), and other.key, a key that matches neither (for the
tests that a mismatched key never goes live). Existing files are kept, so a second run is a no-op. The
server certificates hold localhost, 127.0.0.1, ::1 and every --name.
"""

from __future__ import annotations

import argparse
import datetime
import ipaddress
import sys

from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

FILES = ('ca.pem', 'server.pem', 'server.key', 'renewed.pem', 'renewed.key', 'other.key')


def _key_bytes(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


class TestPKI(object):
    """A CA and a server certificate for localhost, 127.0.0.1, ::1 and ``names``, written to ``directory``."""

    __test__ = False

    def __init__(self, directory, names=(), days=2):
        directory = Path(directory)
        self.ca_path = str(directory / 'ca.pem')
        self.cert_path = str(directory / 'server.pem')
        self.key_path = str(directory / 'server.key')
        self.other_key_path = str(directory / 'other.key')
        self.renewed_cert_path = str(directory / 'renewed.pem')
        self.renewed_key_path = str(directory / 'renewed.key')
        if all((directory / name).exists() for name in FILES):
            return
        directory.mkdir(parents=True, exist_ok=True)
        now = datetime.datetime.now(datetime.timezone.utc)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'websocket.nginx test CA')])
        ca_cert = (
            x509.CertificateBuilder()
            .subject_name(ca_name).issuer_name(ca_name)
            .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=days + 1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
                key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False,
            ), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        alt_names = [x509.DNSName('localhost'), x509.IPAddress(ipaddress.ip_address('127.0.0.1')),
                     x509.IPAddress(ipaddress.ip_address('::1'))] + [x509.DNSName(name) for name in names]
        Path(self.ca_path).write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
        for cert_path, key_path in ((self.cert_path, self.key_path), (self.renewed_cert_path, self.renewed_key_path)):
            key = ec.generate_private_key(ec.SECP256R1())
            cert = _server_certificate(ca_key, ca_name, key, (list(names) or ['localhost'])[0], alt_names, now, days)
            Path(cert_path).write_bytes(cert.public_bytes(serialization.Encoding.PEM))
            Path(key_path).touch(mode=0o600)
            Path(key_path).write_bytes(_key_bytes(key))
        Path(self.other_key_path).touch(mode=0o600)
        Path(self.other_key_path).write_bytes(_key_bytes(ec.generate_private_key(ec.SECP256R1())))


def _server_certificate(ca_key, ca_name, key, common_name, alt_names, now, days):
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .issuer_name(ca_name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
            key_agreement=False, key_cert_sign=False, crl_sign=False, encipher_only=False, decipher_only=False,
        ), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    parser.add_argument('directory')
    parser.add_argument('--name', action='append', default=[], help='a DNS name for the server certificate')
    parser.add_argument('--days', type=int, default=30, help='validity of the server certificate')
    args = parser.parse_args(argv)
    TestPKI(args.directory, args.name, args.days)
    print(args.directory)
    return 0


if __name__ == '__main__':
    sys.exit(main())
