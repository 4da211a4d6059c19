/**
 * Command documents as the stand-in runs them: fetched from moto (GetDocument), reduced to
 * their parameters and their aws:runShellScript steps.
 */
import {
  GetDocumentCommand,
  type GetDocumentCommandOutput,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import { parse } from 'yaml';
import { SsmApiError } from './wire.ts';

export interface ParameterSpec {
  readonly type: string;
  readonly default?: unknown;
  readonly allowedPattern?: string;
  readonly allowedValues?: readonly string[];
  readonly interpolationType?: string;
}

export interface ShellStep {
  /** Step name: the plugin name Run Command reports. */
  readonly name: string;
  readonly runCommand: readonly string[];
  /** The step's timeoutSeconds as written (may be a `{{ parameter }}` reference). */
  readonly timeoutSeconds?: string;
}

export interface CommandDocument {
  readonly name: string;
  /** The version GetDocument returned. */
  readonly version: string;
  readonly parameters: Readonly<Record<string, ParameterSpec>>;
  readonly steps: readonly ShellStep[];
}

/** AWS's default execution timeout of aws:runShellScript. */
export const defaultStepTimeoutSeconds = 3600;

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function invalid(message: string): SsmApiError {
  return new SsmApiError('InvalidDocument', message);
}

/** Parses document content (YAML or JSON) into what the stand-in needs. */
export function parseCommandDocument(name: string, version: string, content: string) {
  let body: unknown;
  try {
    body = parse(content);
  } catch {
    throw invalid(`Document ${name} content is neither JSON nor YAML`);
  }
  if (!isRecord(body)) throw invalid(`Document ${name} content is not an object`);
  if (body.schemaVersion !== '2.2') {
    throw invalid(
      `The stand-in runs schemaVersion 2.2 documents only; ${name} is ${body.schemaVersion}`,
    );
  }
  const parameters: Record<string, ParameterSpec> = {};
  for (const [key, spec] of Object.entries(isRecord(body.parameters) ? body.parameters : {})) {
    if (!isRecord(spec) || typeof spec.type !== 'string') {
      throw invalid(`Parameter ${key} of ${name} has no type`);
    }
    parameters[key] = spec as unknown as ParameterSpec;
  }
  const steps: ShellStep[] = [];
  for (const step of Array.isArray(body.mainSteps) ? body.mainSteps : []) {
    if (!isRecord(step) || step.action !== 'aws:runShellScript' || !isRecord(step.inputs)) {
      throw invalid(`The stand-in runs aws:runShellScript steps only (document ${name})`);
    }
    const runCommand = step.inputs.runCommand;
    if (!Array.isArray(runCommand) || runCommand.some((line) => typeof line !== 'string')) {
      throw invalid(`Step ${String(step.name)} of ${name} has no runCommand list`);
    }
    const timeout = step.inputs.timeoutSeconds;
    steps.push({
      name: String(step.name),
      runCommand: runCommand as string[],
      ...(timeout === undefined ? {} : { timeoutSeconds: String(timeout) }),
    });
  }
  if (steps.length === 0) throw invalid(`Document ${name} has no steps`);
  return { name, version, parameters, steps } satisfies CommandDocument;
}

/** Fetches a Command document from moto; unknown names are InvalidDocument, as on AWS. */
export async function loadCommandDocument(
  ssm: SSMClient,
  name: string,
  version: string | undefined,
): Promise<CommandDocument> {
  let out: GetDocumentCommandOutput;
  try {
    out = await ssm.send(
      new GetDocumentCommand({
        Name: name,
        ...(version === undefined ? {} : { DocumentVersion: version }),
      }),
    );
  } catch (error) {
    const code = (error as { name?: string }).name;
    if (code === 'InvalidDocument' || code === 'InvalidDocumentVersion') {
      throw new SsmApiError(code, (error as Error).message);
    }
    throw error;
  }
  if (out.DocumentType !== undefined && out.DocumentType !== 'Command') {
    throw invalid(`Document ${name} is a ${out.DocumentType} document, not a Command document`);
  }
  return parseCommandDocument(name, out.DocumentVersion ?? '1', out.Content ?? '');
}
