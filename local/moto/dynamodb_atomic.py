"""Makes moto's DynamoDB writes atomic, as DynamoDB's are.

AWS: a conditional write is atomic: "DynamoDB ... performs the write only if the condition is
met", and two writers racing on one item cannot both pass a condition that only one of them
can meet (DynamoDB developer guide, "Condition expressions"; "Transactions" for
TransactWriteItems, which is all or nothing). The service's mapping lock relies on it.

moto serves requests on threads (werkzeug, threaded=True) and its DynamoDB backend checks a
condition and then writes, in Python, with no lock: two requests can interleave between the
check and the write, and both succeed. On a loaded machine this let two workers hold the same
mapping lock. Every item write of the backend (and the transaction that groups them) runs here
under one re-entrant lock, so a condition and its write are one step, as on AWS. Reads are
not locked: DynamoDB's own reads may see either side of a concurrent write too.
"""

import threading

from moto.dynamodb import models

from moto_patching import wrap

Backend = models.DynamoDBBackend

_WRITES = (
    "put_item",
    "update_item",
    "delete_item",
    "transact_write_items",
)

_LOCK = threading.RLock()


def _atomic(original):
    def atomic(self, *args, **kwargs):
        with _LOCK:
            return original(self, *args, **kwargs)

    return atomic


for _name in _WRITES:
    wrap(Backend, _name, _atomic)
