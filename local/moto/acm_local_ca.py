"""Makes moto's ACM issue certificates the way ACM does: signed by an issuing CA whose
certificate comes back as the chain.

Unpatched, moto's generated certificates are self-signed (issuer "Amazon") and ExportCertificate
returns a root that did not sign them, so no chain check on a server can pass
(../shared/docs/local-aws.md). Here each moto process makes one local CA (RSA 2048, valid ten
years, CN "acm-cert-export local ACM CA") and re-signs every generated certificate with it,
keeping its key, subject, SANs, serial and validity. The chain ACM returns is then
"local CA + AWS root", as real ACM returns "issuing CA(s) + root". `issue` is also what
acm_renewal.py signs renewed certificates with.
"""

import datetime
from collections.abc import Iterable

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.x509.oid import NameOID
from moto.acm import models

from moto_patching import wrap

_CA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
_CA_NAME = x509.Name(
    [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "acm-cert-export local"),
        x509.NameAttribute(NameOID.COMMON_NAME, "acm-cert-export local ACM CA"),
    ]
)
_NOW = datetime.datetime.now(datetime.timezone.utc)
_CA_CERT = (
    x509.CertificateBuilder()
    .subject_name(_CA_NAME)
    .issuer_name(_CA_NAME)
    .public_key(_CA_KEY.public_key())
    .serial_number(x509.random_serial_number())
    .not_valid_before(_NOW - datetime.timedelta(days=1))
    .not_valid_after(_NOW + datetime.timedelta(days=3650))
    .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
    .add_extension(
        x509.KeyUsage(
            digital_signature=True,
            content_commitment=False,
            key_encipherment=False,
            data_encipherment=False,
            key_agreement=False,
            key_cert_sign=True,
            crl_sign=True,
            encipher_only=False,
            decipher_only=False,
        ),
        critical=True,
    )
    .sign(_CA_KEY, hashes.SHA256())
)
CA_PEM = _CA_CERT.public_bytes(serialization.Encoding.PEM)


def issue(
    *,
    subject: x509.Name,
    public_key: CertificatePublicKeyTypes,
    serial: int,
    not_before: datetime.datetime,
    not_after: datetime.datetime,
    extensions: Iterable[x509.Extension],
) -> x509.Certificate:
    """A certificate for `public_key` signed by this process's local CA."""
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(_CA_NAME)
        .public_key(public_key)
        .serial_number(serial)
        .not_valid_before(not_before)
        .not_valid_after(not_after)
    )
    for extension in extensions:
        builder = builder.add_extension(extension.value, critical=extension.critical)
    return builder.sign(_CA_KEY, hashes.SHA256())


def _generate_cert(original):
    def generate_cert(cls, domain_name, account_id, region, sans=None, cert_authority_arn=None):
        bundle = original(cls, domain_name, account_id, region, sans, cert_authority_arn)
        leaf = bundle._cert
        resigned = issue(
            subject=leaf.subject,
            public_key=leaf.public_key(),
            serial=leaf.serial_number,
            not_before=leaf.not_valid_before_utc,
            not_after=leaf.not_valid_after_utc,
            extensions=leaf.extensions,
        )
        return cls(
            certificate=resigned.public_bytes(serialization.Encoding.PEM),
            private_key=bundle.key,
            cert_type=bundle.type,
            cert_status=bundle.status,
            cert_authority_arn=bundle.cert_authority_arn,
            account_id=account_id,
            region=region,
            chain=CA_PEM,
        )

    return generate_cert


wrap(models.CertBundle, "generate_cert", _generate_cert)
