/**
 * The SSM Agent's side of a hybrid activation: what `amazon-ssm-agent -register -code <code>
 * -id <activation-id> -region <region>` does on an on-premises server. The agent sends
 * `AmazonSSM.RegisterManagedInstance` to the Systems Manager endpoint, unsigned; the answer is
 * the server's new managed node id (`mi-…`). The operation is not in the public API model, so no
 * SDK has it: this sends it to a Run Command stand-in as plain JSON 1.1 (hybrid-operations.ts
 * answers it). `server` says what the stand-in server is (the stand-in's own request member).
 */
import type { Behaviour, ReloadBehaviour } from './managed-nodes.ts';
import { contentType, targetPrefix } from './wire.ts';

export interface HybridNodeRegistration {
  /** CreateActivation's answer. */
  readonly activationId: string;
  readonly activationCode: string;
  /** The server's host name (InstanceInformation.ComputerName); a made-up one by default. */
  readonly computerName?: string;
  /** InstanceInformation.IPAddress; a private address derived from the id by default. */
  readonly ipAddress?: string;
  /** How the stand-in server behaves, as `standin:behaviour` does for EC2 ones (default normal). */
  readonly behaviour?: Behaviour;
  /** The agent's version (default the latest known, managed-nodes.ts). */
  readonly agentVersion?: string;
  /** What its allowed reload commands do, as `standin:reload` (default record). */
  readonly reload?: ReloadBehaviour;
}

/** An error the stand-in answered with: `name` is its code (InvalidActivation…). */
export class RegistrationError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = code;
    this.code = code;
  }
}

/** Registers a server with the activation at the stand-in `endpoint`; returns its `mi-…` id. */
export async function registerManagedInstance(
  endpoint: string,
  registration: HybridNodeRegistration,
): Promise<string> {
  const server = {
    ...(registration.computerName === undefined ? {} : { ComputerName: registration.computerName }),
    ...(registration.ipAddress === undefined ? {} : { IPAddress: registration.ipAddress }),
    ...(registration.agentVersion === undefined ? {} : { AgentVersion: registration.agentVersion }),
    ...(registration.behaviour === undefined ? {} : { Behaviour: registration.behaviour }),
    ...(registration.reload === undefined ? {} : { Reload: registration.reload }),
  };
  const res = await fetch(new URL('/', endpoint), {
    method: 'POST',
    headers: {
      'content-type': contentType,
      'x-amz-target': `${targetPrefix}RegisterManagedInstance`,
    },
    body: JSON.stringify({
      ActivationId: registration.activationId,
      ActivationCode: registration.activationCode,
      StandInServer: server,
    }),
  });
  const answer = (await res.json()) as { InstanceId?: string; __type?: string; message?: string };
  if (!res.ok || answer.InstanceId === undefined) {
    throw new RegistrationError(
      answer.__type ?? `HTTP ${res.status}`,
      answer.message ?? 'registration failed',
    );
  }
  return answer.InstanceId;
}
