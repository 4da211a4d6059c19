"""Makes moto's ACM renew certificates as ACM does, on RenewCertificate.

Unpatched, moto 5.2.5 has no RenewCertificate (HTTP 500) and no certificate ever changes.
What this copies from AWS:
- RenewCertificate "renews an eligible ACM certificate" (API reference): a private one, or a
  public one requested with the export option. The certificate keeps its ARN (ACM user guide,
  "Managed certificate renewal"). Errors as the API reference lists them:
  ResourceNotFoundException, InvalidArnException, RequestInProgressException (not issued
  yet), ValidationException (malformed ARN, or a certificate ACM does not renew: imported,
  public without export, not ISSUED).
- "To renew a certificate, ACM generates a new public-private key pair" (ACM user guide, best
  practices, certificate pinning): a new key, serial and validity (same length, from now),
  same subject and SANs, signed by the same local CA as at issuance (acm_local_ca.py), so the
  chain keeps its shape.
- DescribeCertificate then shows the new Serial/NotBefore/NotAfter and RenewalSummary
  (RenewalStatus SUCCESS, UpdatedAt). RenewalEligibility follows the user guide's rule
  (ELIGIBLE when in use or exported since issued or last renewed; never for imported or
  expired certificates); the Terraform AWS provider's acceptance tests against AWS show it:
  INELIGIBLE when issued, ELIGIBLE after ExportCertificate, INELIGIBLE after a renewal.
- ACM publishes `ACM Certificate Available` with Action RENEWAL (acm_events.py).
AWS renews asynchronously (RenewalStatus PENDING_AUTO_RENEWAL first, SUCCESS minutes later);
here the renewal is done, and its event delivered, before RenewCertificate answers.
"""

import datetime
import re

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtensionOID
from moto.acm import models, responses
from moto.acm.exceptions import AWSError, AWSValidationException
from moto.core.responses import EmptyResult

import acm_events
import acm_local_ca
from moto_patching import add, require, wrap

Backend = models.AWSCertificateManagerBackend
Response = responses.AWSCertificateManagerResponse
require(Backend, "get_certificate", "export_certificate")
require(models.CertBundle, "describe")
require(Response, "_get_param", "acm_backend")

# RenewCertificateRequest.CertificateArn in the API reference.
_ARN_PATTERN = r"arn:[\w+=/,.@-]+:acm:[\w+=/,.@-]*:[0-9]+:[\w+=,.@-]+(/[\w+=,.@-]+)*"
_ARN_MIN, _ARN_MAX = 20, 2048
_CERTIFICATE_ARN = re.compile(r"arn:aws[\w-]*:acm:(?P<region>[\w-]+):\d{12}:certificate/[\w-]+")

# Per-certificate state kept on moto's CertBundle (gone with it on reset).
_RENEWAL = "_acm_cert_export_renewal"  # (RenewalStatus, UpdatedAt) of the last renewal
_EXPORTED = "_acm_cert_export_exported"  # exported since issued or last renewed


class InvalidArnException(AWSError):
    TYPE = "InvalidArnException"


class RequestInProgressException(AWSError):
    TYPE = "RequestInProgressException"


def _constraint(arn: object, constraint: str) -> AWSValidationException:
    # AWS's wording for a request that breaks the API model's constraints.
    value = "null" if arn is None else f"'{arn}'"
    return AWSValidationException(
        f"1 validation error detected: Value {value} at 'certificateArn' failed to satisfy "
        f"constraint: Member must {constraint}"
    )


def _check_arn(arn: object, region: str) -> str:
    if not isinstance(arn, str):
        raise _constraint(arn, "not be null")
    if len(arn) < _ARN_MIN:
        raise _constraint(arn, f"have length greater than or equal to {_ARN_MIN}")
    if len(arn) > _ARN_MAX:
        raise _constraint(arn, f"have length less than or equal to {_ARN_MAX}")
    if re.fullmatch(_ARN_PATTERN, arn) is None:
        raise _constraint(arn, f"satisfy regular expression pattern: {_ARN_PATTERN}")
    match = _CERTIFICATE_ARN.fullmatch(arn)
    if match is None or match["region"] != region:
        raise InvalidArnException(
            f"{arn} is not a valid certificate ARN in {region}: "
            f"expected arn:aws:acm:{region}:<account>:certificate/<id>"
        )
    return arn


def _refusal(bundle, arn: str) -> AWSError | None:
    """Why ACM would not renew this certificate, or None."""
    if bundle.type == "IMPORTED":
        return AWSValidationException(
            f"Certificate {arn} is imported: ACM does not renew imported certificates."
        )
    if bundle.type == "AMAZON_ISSUED" and bundle.cert_options.get("Export") != "ENABLED":
        return AWSValidationException(
            f"Certificate {arn} is a public certificate requested without the export option: "
            "RenewCertificate renews private and exportable public certificates."
        )
    if bundle.status == "PENDING_VALIDATION":
        return RequestInProgressException(
            "The certificate request is in process and the certificate in your account has "
            "not yet been issued."
        )
    if bundle.status != "ISSUED":
        return AWSValidationException(
            f"Certificate {arn} is {bundle.status}: only an ISSUED certificate can be renewed."
        )
    return None


def _new_key_like(key):
    if isinstance(key, rsa.RSAPrivateKey):
        return rsa.generate_private_key(public_exponent=65537, key_size=key.key_size)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return ec.generate_private_key(key.curve)
    raise AWSValidationException(f"cannot renew a certificate with a {type(key).__name__} key")


def _reissue(bundle, now: datetime.datetime) -> None:
    """A new key pair and certificate for the same names, valid as long, from now."""
    old = bundle._cert
    key = _new_key_like(bundle._key)
    not_before = now.replace(microsecond=0)
    # Key identifiers name the old key: recomputed for the new one.
    key_ids = (ExtensionOID.SUBJECT_KEY_IDENTIFIER, ExtensionOID.AUTHORITY_KEY_IDENTIFIER)
    extensions = [e for e in old.extensions if e.oid not in key_ids]
    if any(e.oid == ExtensionOID.SUBJECT_KEY_IDENTIFIER for e in old.extensions):
        extensions.append(
            x509.Extension(
                ExtensionOID.SUBJECT_KEY_IDENTIFIER,
                False,
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
            )
        )
    certificate = acm_local_ca.issue(
        subject=old.subject,
        public_key=key.public_key(),
        serial=x509.random_serial_number(),
        not_before=not_before,
        not_after=not_before + (old.not_valid_after_utc - old.not_valid_before_utc),
        extensions=extensions,
    )
    bundle.cert = certificate.public_bytes(serialization.Encoding.PEM)
    bundle.key = key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.TraditionalOpenSSL,
        encryption_algorithm=serialization.NoEncryption(),
    )
    bundle._cert = certificate
    bundle._key = key


def renew_certificate(self, arn) -> None:
    arn = _check_arn(arn, self.region_name)
    bundle = self.get_certificate(arn)  # ResourceNotFoundException; marks EXPIRED ones
    refusal = _refusal(bundle, arn)
    if refusal is not None:
        raise refusal
    now = datetime.datetime.now(datetime.timezone.utc)
    exported = getattr(bundle, _EXPORTED, False)
    _reissue(bundle, now)
    setattr(bundle, _RENEWAL, ("SUCCESS", now))
    setattr(bundle, _EXPORTED, False)
    acm_events.publish(
        account_id=self.account_id,
        region=self.region_name,
        detail_type=acm_events.CERTIFICATE_AVAILABLE,
        resource=bundle.arn,
        detail=acm_events.certificate_available_detail(
            bundle, action="RENEWAL", exported=exported, now=now
        ),
    )


def _renew_certificate_action(self):
    self.acm_backend.renew_certificate(self._get_param("CertificateArn"))
    return EmptyResult()


def _export_certificate(original):
    def export_certificate(self, certificate_arn, passphrase):
        exported = original(self, certificate_arn, passphrase)
        setattr(self.get_certificate(certificate_arn), _EXPORTED, True)
        return exported

    return export_certificate


def _eligible(bundle) -> bool:
    if bundle.type == "IMPORTED" or bundle.status != "ISSUED":
        return False
    return bool(bundle.in_use_by) or getattr(bundle, _EXPORTED, False)


def _describe(original):
    def describe(self):
        result = original(self)
        detail = result["Certificate"]
        # ACM writes the serial as colon-separated hex bytes ("0a:1b:…", as `aws acm
        # describe-certificate` shows it); moto writes the decimal integer.
        serial = f"{self._cert.serial_number:x}"
        serial = serial.zfill(len(serial) + len(serial) % 2)
        detail["Serial"] = ":".join(serial[i : i + 2] for i in range(0, len(serial), 2))
        detail["RenewalEligibility"] = "ELIGIBLE" if _eligible(self) else "INELIGIBLE"
        renewal = getattr(self, _RENEWAL, None)
        if renewal is not None:
            status, updated_at = renewal
            summary = {"RenewalStatus": status, "UpdatedAt": updated_at.timestamp()}
            # "This field exists only when the certificate type is AMAZON_ISSUED."
            if self.type == "AMAZON_ISSUED":
                summary["DomainValidationOptions"] = detail.get("DomainValidationOptions", [])
            detail["RenewalSummary"] = summary
        return result

    return describe


add(Backend, "renew_certificate", renew_certificate)
add(Response, "renew_certificate", _renew_certificate_action)
wrap(Backend, "export_certificate", _export_certificate)
wrap(models.CertBundle, "describe", _describe)
