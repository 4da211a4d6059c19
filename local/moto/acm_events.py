"""Publishes the events ACM publishes to EventBridge, into moto's EventBridge, in-process.

AWS (ACM user guide, "Amazon EventBridge support for ACM"): on issuance, renewal and import ACM
sends `ACM Certificate Available` with source `aws.acm`, `resources: [certificate ARN]` and a
detail of Action (ISSUANCE | RENEWAL | IMPORT | REIMPORT), CertificateType, CommonName,
DomainValidationMethod (EMAIL | DNS), CertificateCreatedDate and CertificateExpirationDate
(ISO 8601 to the second, e.g. "2019-12-22T18:43:48Z"), DaysToExpiry (a number), InUse and
Exported (booleans). Only AWS may publish `aws.acm`; inside moto the event goes through the
events backend's own put_events, so every rule on the default bus matches and routes it
exactly as it would any event (events_envelope.py makes the delivered body complete).
"""

import datetime
import json
from typing import Any

from moto.events.models import EventsBackend, events_backends

from moto_patching import require

require(EventsBackend, "put_events")

SOURCE = "aws.acm"
CERTIFICATE_AVAILABLE = "ACM Certificate Available"


def timestamp(moment: datetime.datetime) -> str:
    """ACM's event date format: UTC, to the second, with a Z."""
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def certificate_available_detail(
    bundle: Any, *, action: str, exported: bool, now: datetime.datetime
) -> dict[str, Any]:
    """The detail of `ACM Certificate Available` for a moto CertBundle as it is now."""
    not_before = bundle._cert.not_valid_before_utc
    not_after = bundle._cert.not_valid_after_utc
    detail: dict[str, Any] = {
        "Action": action,
        "CertificateType": bundle.type,
        "CommonName": bundle.common_name,
    }
    # moto validates every public certificate by DNS (its DescribeCertificate says so); the
    # documented values are EMAIL | DNS, so a private certificate, which is not validated,
    # carries none here.
    if bundle.type == "AMAZON_ISSUED":
        detail["DomainValidationMethod"] = "DNS"
    detail.update(
        {
            "CertificateCreatedDate": timestamp(not_before),
            "CertificateExpirationDate": timestamp(not_after),
            # Whole days left, counted from the event's time (which has whole seconds).
            "DaysToExpiry": (not_after - now.replace(microsecond=0)).days,
            "InUse": bool(bundle.in_use_by),
            "Exported": exported,
        }
    )
    return detail


def publish(
    *, account_id: str, region: str, detail_type: str, resource: str, detail: dict[str, Any]
) -> None:
    """Puts one `aws.acm` event on the default bus of the account and Region."""
    backend = events_backends[account_id][region]
    [entry] = backend.put_events(
        [
            {
                "Source": SOURCE,
                "DetailType": detail_type,
                "Detail": json.dumps(detail),
                "Resources": [resource],
            }
        ]
    )
    if "ErrorCode" in entry:
        raise RuntimeError(f"could not publish {detail_type} for {resource}: {entry}")
