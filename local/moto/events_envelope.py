"""Makes moto's EventBridge deliver the whole event envelope AWS delivers, `account` included.

AWS: a target without an input transformer receives the event as matched: version, id,
detail-type, source, account, time, region, resources, detail (EventBridge user guide, "Amazon
EventBridge events"; the ACM user guide's event examples show the same envelope). moto 5.2.5
builds the body a target receives from a default input template that leaves out `account`,
although the event it matched carries it, so an SQS target's body lacked it.
"""

from moto.events.utils import EventTemplateParser

from moto_patching import PatchTargetMissing, require

require(EventTemplateParser, "DEFAULT_EVENT_INPUT_TEMPLATE", "DEFAULT_EVENT_INPUT_PATHS_MAP")

_STOCK_TEMPLATE = (
    '{"id": "<id>", "time": <time>, "version": "0", "detail-type": "<detail-type>", '
    '"source": "<source>", "region": "<region>", "resources": <resources>, "detail": <detail>}'
)
_AWS_TEMPLATE = (
    '{"version": "0", "id": "<id>", "detail-type": "<detail-type>", "source": "<source>", '
    '"account": "<account>", "time": <time>, "region": "<region>", "resources": <resources>, '
    '"detail": <detail>}'
)

_current = EventTemplateParser.DEFAULT_EVENT_INPUT_TEMPLATE
if _current not in (_STOCK_TEMPLATE, _AWS_TEMPLATE):
    raise PatchTargetMissing(
        "moto's default EventBridge input template changed; events_envelope.py in local/moto "
        f"expects the 5.2.5 one. It is now: {_current}"
    )
if EventTemplateParser.DEFAULT_EVENT_INPUT_PATHS_MAP.get("account") != "$.account":
    raise PatchTargetMissing("moto's default EventBridge input paths no longer map `account`")

EventTemplateParser.DEFAULT_EVENT_INPUT_TEMPLATE = _AWS_TEMPLATE
