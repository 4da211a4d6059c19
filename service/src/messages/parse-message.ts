import { isSafeCertName } from '../domain/names.ts';
import { AcmEventEnvelope, isEventBridgeEnvelope } from './acm-event.ts';
import { CommandStatusEnvelope, commandStatusChange } from './command-status-event.ts';
import { type DeployMessage, DeployMessageV1 } from './deploy-message.ts';
import { LegacyDeployBody } from './deploy-request.ts';
import { type ExpiryCheckMessage, ExpiryCheckMessageV1, expiryCheckType } from './expiry-check.ts';
import { InstanceEventEnvelope, instanceStateChange } from './instance-event.ts';
import {
  type ReconcileMappingMessage,
  ReconcileMappingMessageV1,
  type ReconcileMessage,
  ReconcileMessageV1,
  reconcileMappingType,
  reconcileType,
} from './reconcile.ts';
import { validator } from './validation.ts';

/** What the router makes of one queue message body. */
export type ParsedMessage =
  | { readonly kind: 'deploy'; readonly message: DeployMessage }
  | { readonly kind: 'acm-event'; readonly event: AcmEventEnvelope }
  | { readonly kind: 'instance-event'; readonly event: InstanceEventEnvelope }
  | { readonly kind: 'command-status'; readonly event: CommandStatusEnvelope }
  | { readonly kind: 'expiry-check'; readonly message: ExpiryCheckMessage }
  | { readonly kind: 'reconcile'; readonly message: ReconcileMessage }
  | { readonly kind: 'reconcile-mapping'; readonly message: ReconcileMappingMessage }
  | { readonly kind: 'invalid'; readonly reason: string };

const checkV1 = validator<DeployMessage>(DeployMessageV1);
const checkLegacy = validator<LegacyDeployBody>(LegacyDeployBody);
const checkEvent = validator<AcmEventEnvelope>(AcmEventEnvelope);
const checkInstanceEvent = validator<InstanceEventEnvelope>(InstanceEventEnvelope);
const checkCommandStatus = validator<CommandStatusEnvelope>(CommandStatusEnvelope);
const checkExpiryCheck = validator<ExpiryCheckMessage>(ExpiryCheckMessageV1);
const checkReconcile = validator<ReconcileMessage>(ReconcileMessageV1);
const checkReconcileMapping = validator<ReconcileMappingMessage>(ReconcileMappingMessageV1);

const maxBody = 256 * 1024;

function invalid(reason: string): ParsedMessage {
  return { kind: 'invalid', reason };
}

/** Turns the original HTTP body shape into a v1 message. */
export function fromLegacy(body: LegacyDeployBody): DeployMessage {
  return {
    type: 'deploy',
    version: 1,
    certificateArn: body.CertificateArn,
    certName: body.CertName,
    target: { key: body.TargetTagKey, value: body.TargetTagValue },
  };
}

/**
 * An EventBridge envelope, by its detail-type: a server that started, a Run Command status
 * change, or an ACM event.
 */
function parseEnvelope(value: unknown, detailType: unknown): ParsedMessage {
  if (detailType === commandStatusChange) {
    const checked = checkCommandStatus(value);
    if (!checked.ok) {
      return invalid(`invalid Run Command status-change event: ${checked.problems.join('; ')}`);
    }
    return { kind: 'command-status', event: checked.value };
  }
  if (detailType === instanceStateChange) {
    const checked = checkInstanceEvent(value);
    if (!checked.ok)
      return invalid(`invalid EC2 state-change event: ${checked.problems.join('; ')}`);
    return { kind: 'instance-event', event: checked.value };
  }
  const checked = checkEvent(value);
  if (!checked.ok) return invalid(`invalid EventBridge event: ${checked.problems.join('; ')}`);
  return { kind: 'acm-event', event: checked.value };
}

/** The scheduled expiry check, version 1. */
function parseExpiryCheck(value: unknown, version: unknown): ParsedMessage {
  if (version !== 1) {
    return invalid(
      `unknown version ${JSON.stringify(version ?? null)} of "${expiryCheckType}"; known: 1`,
    );
  }
  const checked = checkExpiryCheck(value);
  if (!checked.ok) return invalid(`invalid expiry check: ${checked.problems.join('; ')}`);
  return { kind: 'expiry-check', message: checked.value };
}

/** A reconciliation sweep, or one mapping's reconciliation, version 1. */
function parseReconcile(value: unknown, type: string, version: unknown): ParsedMessage {
  if (version !== 1) {
    return invalid(`unknown version ${JSON.stringify(version ?? null)} of "${type}"; known: 1`);
  }
  if (type === reconcileType) {
    const checked = checkReconcile(value);
    if (!checked.ok) return invalid(`invalid reconcile message: ${checked.problems.join('; ')}`);
    return { kind: 'reconcile', message: checked.value };
  }
  const checked = checkReconcileMapping(value);
  if (!checked.ok) {
    return invalid(`invalid reconcile-mapping message: ${checked.problems.join('; ')}`);
  }
  if (!isSafeCertName(checked.value.certName)) {
    return invalid('invalid reconcile-mapping message: /certName is not a safe file name');
  }
  return { kind: 'reconcile-mapping', message: checked.value };
}

/**
 * Classifies a message body: a v1 job, the original body shape, an EventBridge envelope, the
 * scheduled expiry check, or invalid with a reason a person can act on. Never throws.
 */
export function parseMessage(body: string): ParsedMessage {
  if (body.length > maxBody) return invalid(`body is larger than ${maxBody} bytes`);
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return invalid('body is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return invalid('body is not a JSON object');
  }
  const record = value as Record<string, unknown>;
  // EventBridge envelopes carry a `version` too ("0"): recognise them first.
  if (isEventBridgeEnvelope(value)) return parseEnvelope(value, record['detail-type']);
  if ('type' in record || 'version' in record) {
    if (record.type === expiryCheckType) return parseExpiryCheck(value, record.version);
    if (record.type === reconcileType || record.type === reconcileMappingType) {
      return parseReconcile(value, record.type, record.version);
    }
    if (record.type !== 'deploy') {
      return invalid(
        `unknown message type ${JSON.stringify(record.type ?? null)}; known: "deploy", "${expiryCheckType}", "${reconcileType}", "${reconcileMappingType}"`,
      );
    }
    if (record.version !== 1) {
      return invalid(
        `unknown version ${JSON.stringify(record.version ?? null)} of "deploy"; known: 1`,
      );
    }
    const checked = checkV1(value);
    if (!checked.ok) return invalid(`invalid deploy message: ${checked.problems.join('; ')}`);
    if (!isSafeCertName(checked.value.certName))
      return invalid('invalid deploy message: /certName is not a safe file name');
    return { kind: 'deploy', message: checked.value };
  }
  if ('CertificateArn' in record || 'CertName' in record) {
    const checked = checkLegacy(value);
    if (!checked.ok) return invalid(`invalid deploy request: ${checked.problems.join('; ')}`);
    if (!isSafeCertName(checked.value.CertName))
      return invalid('invalid deploy request: /CertName is not a safe file name');
    return { kind: 'deploy', message: fromLegacy(checked.value) };
  }
  return invalid(
    'unrecognised message: expected {"type":"deploy","version":1,...}, the original request body, or an ACM EventBridge event',
  );
}
