/**
 * On-premises servers registered with a hybrid activation: the `mi-…` managed nodes of Systems
 * Manager. EC2 instances come from moto; these live here, in the stand-in's memory, because
 * nothing in moto knows them (moto has no CreateActivation, and its tag operations answer
 * InvalidResourceId for every ManagedInstance).
 *
 * What is copied from where (SSM API model, botocore `ssm/2014-11-06/service-2.json`, and its
 * documentation strings unless said otherwise):
 * - CreateActivation: `IamRole` required (≤ 64 characters), `RegistrationLimit` 1–1000, default 1;
 *   `ExpirationDate` "up to 30 days in advance. If you don't provide an expiration date, the
 *   activation code expires in 24 hours"; `Tags` ≤ 1000: "When you specify the activation ID and
 *   code, tags assigned to the activation are automatically applied to the on-premises servers
 *   or VMs. You can't add tags to or delete tags from an existing activation". Output
 *   `ActivationId` (a UUID: the model's pattern) and `ActivationCode` (20 to 250 characters;
 *   AWS's examples are 20 characters of base64's alphabet, e.g. `QC2CV0/lRfn+LTqf23Bf` in
 *   boto/boto3#2334).
 * - Registration is the agent's call `RegisterManagedInstance` (not in the public API model; the
 *   fields ActivationId, ActivationCode, PublicKey, PublicKeyType, Fingerprint and the answer
 *   InstanceId as aws/amazon-eks-connector `pkg/ssm/hack.go` copies them from the agent's
 *   `agent/ssm/anonauth`). A wrong code, an unknown or deleted activation: `InvalidActivation`
 *   ("The activation isn't valid. The activation might have been deleted, or the ActivationId
 *   and the ActivationCode don't match", the model's exception). Expired: `ActivationExpired`
 *   (the agent's log in aws/amazon-ssm-agent#134). Registration limit used up: not documented
 *   how AWS answers; here `InvalidActivation`.
 * - A hybrid node's id: `mi-` and 17 hexadecimal digits (ManagedInstanceId pattern).
 *   InstanceInformation of a hybrid node: ResourceType `ManagedInstance`, ActivationId, IamRole
 *   ("the role assigned to an on-premises managed node"), RegistrationDate, Name ("specified as
 *   the DefaultInstanceName property using the CreateActivation command").
 * - DeregisterManagedInstance "removes the server or virtual machine from the list of registered
 *   servers"; re-registering takes a new registration with an activation that has registrations
 *   left. Deleting an activation "doesn't de-register managed nodes".
 * - AddTagsToResource: "Most resources can have a maximum of 50 tags".
 */
import { randomBytes, randomUUID } from 'node:crypto';
import {
  type Behaviour,
  currentAgentVersion,
  type HybridServer,
  hybridManagedNodeOf,
  type ManagedNode,
  type ReloadBehaviour,
} from './managed-nodes.ts';
import { SsmApiError } from './wire.ts';

export interface Tag {
  readonly Key: string;
  readonly Value: string;
}

export interface Activation {
  readonly activationId: string;
  readonly activationCode: string;
  readonly description: string;
  readonly defaultInstanceName?: string;
  readonly iamRole: string;
  readonly registrationLimit: number;
  registrationsCount: number;
  /** Epoch ms. */
  readonly expiresAt: number;
  readonly createdAt: number;
  readonly tags: readonly Tag[];
}

/** What the agent says about its server when it registers (the stand-in's part of the call). */
export interface ServerDescription {
  readonly computerName?: string;
  readonly ipAddress?: string;
  readonly agentVersion?: string;
  readonly behaviour?: Behaviour;
  readonly reload?: ReloadBehaviour;
}

/** A managed node has at most this many tags (AddTagsToResource, API reference). */
export const maxNodeTags = 50;

export const hybridIdPattern = /^mi-[0-9a-f]{17}$/;

const dayMs = 86_400_000;
/** Without ExpirationDate an activation expires in 24 hours; at most 30 days ahead. */
export const activationLifetime = { defaultMs: dayMs, maxMs: 30 * dayMs } as const;

/** 20 characters of base64's alphabet, like the activation codes AWS hands out. */
function activationCode(): string {
  return randomBytes(15).toString('base64');
}

function hybridId(): string {
  return `mi-${randomBytes(9).toString('hex').slice(0, 17)}`;
}

function invalidActivation(detail: string): SsmApiError {
  return new SsmApiError(
    'InvalidActivation',
    `The activation isn't valid. The activation might have been deleted, or the ActivationId and the ActivationCode don't match. (${detail})`,
  );
}

/** A private address derived from the node's id, stable for the node. */
function addressOf(id: string): string {
  const bytes = Buffer.from(id.slice(3, 9), 'hex');
  return `10.${bytes[0] ?? 0}.${bytes[1] ?? 0}.${Math.max(1, bytes[2] ?? 1)}`;
}

interface Registered {
  readonly server: HybridServer;
  readonly tags: Map<string, string>;
}

/** The activations and the hybrid nodes registered with them. */
export class HybridFleet {
  readonly #activations = new Map<string, Activation>();
  readonly #nodes = new Map<string, Registered>();

  createActivation(input: {
    description: string;
    defaultInstanceName?: string;
    iamRole: string;
    registrationLimit: number;
    expiresAt: number;
    tags: readonly Tag[];
    now: number;
  }): Activation {
    const activation: Activation = {
      activationId: randomUUID(),
      activationCode: activationCode(),
      description: input.description,
      ...(input.defaultInstanceName === undefined
        ? {}
        : { defaultInstanceName: input.defaultInstanceName }),
      iamRole: input.iamRole,
      registrationLimit: input.registrationLimit,
      registrationsCount: 0,
      expiresAt: input.expiresAt,
      createdAt: input.now,
      tags: [...input.tags],
    };
    this.#activations.set(activation.activationId, activation);
    return activation;
  }

  activations(): Activation[] {
    return [...this.#activations.values()];
  }

  /** Deletes an activation; its nodes stay registered. False when there is none of that id. */
  deleteActivation(activationId: string): boolean {
    return this.#activations.delete(activationId);
  }

  /**
   * What RegisterManagedInstance does for the agent: checks the activation and its code, counts
   * the registration, applies the activation's tags to the new node, and returns it.
   */
  register(
    activationId: string,
    code: string,
    server: ServerDescription,
    now: number,
  ): ManagedNode {
    const activation = this.#activations.get(activationId);
    if (activation === undefined) throw invalidActivation(`no activation ${activationId}`);
    if (activation.activationCode !== code) {
      throw invalidActivation('the ActivationCode is not the activation’s');
    }
    if (now >= activation.expiresAt) {
      throw new SsmApiError(
        'ActivationExpired',
        `Activation ${activationId} expired at ${new Date(activation.expiresAt).toISOString()}`,
      );
    }
    if (activation.registrationsCount >= activation.registrationLimit) {
      throw invalidActivation(
        `its registration limit of ${activation.registrationLimit} is used up`,
      );
    }
    let instanceId = hybridId();
    while (this.#nodes.has(instanceId)) instanceId = hybridId();
    const registered: Registered = {
      server: {
        instanceId,
        computerName:
          server.computerName ?? `server-${instanceId.slice(3, 11)}.on-premises.example`,
        ipAddress: server.ipAddress ?? addressOf(instanceId),
        registeredAt: now,
        behaviour: server.behaviour ?? 'normal',
        agentVersion: server.agentVersion ?? currentAgentVersion,
        reload: server.reload ?? 'record',
        registration: {
          activationId,
          iamRole: activation.iamRole,
          ...(activation.defaultInstanceName === undefined
            ? {}
            : { name: activation.defaultInstanceName }),
        },
      },
      tags: new Map(activation.tags.map((t) => [t.Key, t.Value])),
    };
    // Built first: a malformed `standin:*` tag of the activation refuses the registration.
    const node = hybridManagedNodeOf(registered.server, registered.tags);
    activation.registrationsCount++;
    this.#nodes.set(instanceId, registered);
    return node;
  }

  /** Removes a node: no longer listed, targeted or taggable. False when it is not registered. */
  deregister(instanceId: string): boolean {
    return this.#nodes.delete(instanceId);
  }

  has(instanceId: string): boolean {
    return this.#nodes.has(instanceId);
  }

  /** The registered node as a managed node (its `standin:*` tags applied), or undefined. */
  managedNode(instanceId: string): ManagedNode | undefined {
    const registered = this.#nodes.get(instanceId);
    return registered === undefined
      ? undefined
      : hybridManagedNodeOf(registered.server, registered.tags);
  }

  /** Every registered node, sorted by id. */
  managedNodes(): ManagedNode[] {
    return [...this.#nodes.values()]
      .map((r) => hybridManagedNodeOf(r.server, r.tags))
      .sort((a, b) => a.instanceId.localeCompare(b.instanceId));
  }

  /** The node's tags, live (the tag operations change them), or undefined. */
  tagsOf(instanceId: string): Map<string, string> | undefined {
    return this.#nodes.get(instanceId)?.tags;
  }
}
