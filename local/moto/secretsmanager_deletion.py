"""Makes moto's Secrets Manager refuse what AWS refuses on a secret scheduled for deletion.

AWS: DeleteSecret with a recovery window makes the secret "inaccessible" until RestoreSecret
(Secrets Manager user guide, "Delete an AWS Secrets Manager secret"). Reads and writes answer
InvalidRequestException "You can't perform this operation on the secret because it was marked
for deletion." (InvalidRequestException's first documented cause in the API reference: "The
secret is scheduled for deletion"), and CreateSecret with the same name answers
InvalidRequestException "You can't create this secret because a secret with this name is
already scheduled for deletion." DescribeSecret (with DeletedDate) and ListSecretVersionIds
still answer: the service model does not let them raise InvalidRequestException.
RestoreSecret brings the secret back with its versions. A force delete of a scheduled secret
is allowed.

moto 5.2.5 already refuses GetSecretValue, UpdateSecret, RotateSecret and CancelRotateSecret
(with other messages) but lets PutSecretValue, UpdateSecretVersionStage, TagResource,
UntagResource and the resource-policy calls through, and answers CreateSecret of a scheduled
name with ResourceExistsException. Every refusal below answers with AWS's code and message.
"""

import inspect

from moto.secretsmanager import models
from moto.secretsmanager.exceptions import InvalidRequestException

from moto_patching import PatchTargetMissing, require, wrap

MARKED_FOR_DELETION = (
    "You can't perform this operation on the secret because it was marked for deletion."
)
NAME_SCHEDULED_FOR_DELETION = (
    "You can't create this secret because a secret with this name is already scheduled "
    "for deletion."
)

Backend = models.SecretsManagerBackend

# Backend method -> its parameter naming the secret (name, ARN or partial ARN).
_REFUSED = {
    "get_secret_value": "secret_id",
    "put_secret_value": "secret_id",
    "update_secret": "secret_id",
    "update_secret_version_stage": "secret_id",
    "rotate_secret": "secret_id",
    "cancel_rotate_secret": "secret_id",
    "tag_resource": "arn",
    "untag_resource": "arn",
    "put_resource_policy": "secret_id",
    "get_resource_policy": "secret_id",
    "delete_resource_policy": "secret_id",
}

require(Backend, *_REFUSED, "create_secret", "delete_secret")
require(models.FakeSecret, "is_deleted")
require(models.SecretsStore, "get")


def _scheduled_for_deletion(backend: Backend, secret_id: str) -> bool:
    secret = backend.secrets.get(secret_id)
    return secret is not None and secret.is_deleted()


def _arguments(original, *parameters: str):
    """Reads the named arguments of a call to `original`, however they are passed."""
    signature = inspect.signature(original)
    missing = [p for p in parameters if p not in signature.parameters]
    if missing:
        raise PatchTargetMissing(
            f"SecretsManagerBackend.{original.__name__} has no parameter {', '.join(missing)}"
        )

    def read(self, args, kwargs):
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        return [bound.arguments[p] for p in parameters]

    return read


def _refuse_when_scheduled(parameter: str, message: str = MARKED_FOR_DELETION):
    def make(original):
        read = _arguments(original, parameter)

        def refuse_when_scheduled(self, *args, **kwargs):
            [secret_id] = read(self, args, kwargs)
            if _scheduled_for_deletion(self, secret_id):
                raise InvalidRequestException(message)
            return original(self, *args, **kwargs)

        return refuse_when_scheduled

    return make


def _delete_secret(original):
    # Scheduling a scheduled secret again is refused; forcing its deletion is not.
    read = _arguments(original, "secret_id", "force_delete_without_recovery")

    def delete_secret(self, *args, **kwargs):
        secret_id, force = read(self, args, kwargs)
        if not force and _scheduled_for_deletion(self, secret_id):
            raise InvalidRequestException(MARKED_FOR_DELETION)
        return original(self, *args, **kwargs)

    return delete_secret


for _method, _parameter in _REFUSED.items():
    wrap(Backend, _method, _refuse_when_scheduled(_parameter))
wrap(Backend, "create_secret", _refuse_when_scheduled("name", NAME_SCHEDULED_FOR_DELETION))
wrap(Backend, "delete_secret", _delete_secret)
