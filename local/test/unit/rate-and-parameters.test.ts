import { describe, expect, it } from 'vitest';
import { buildDocument } from '../../../ssm/build-document.ts';
import { parseCommandDocument } from '../../run-command/document.ts';
import {
  interpolate,
  parameterEnvironment,
  resolveParameters,
} from '../../run-command/parameters.ts';
import {
  checkMaxConcurrency,
  checkMaxErrors,
  concurrencyLimit,
  errorBudget,
} from '../../run-command/rate-control.ts';

describe('MaxConcurrency and MaxErrors', () => {
  it.each([
    ['50', 3, 50],
    ['1', 10, 1],
    ['10%', 5, 1],
    ['50%', 5, 3],
    ['100%', 7, 7],
  ])('MaxConcurrency %s of %i targets runs %i at once', (value, targets, limit) => {
    expect(concurrencyLimit(checkMaxConcurrency(value), targets)).toBe(limit);
  });

  it.each([
    ['0', 5, 0],
    ['3', 5, 3],
    ['10%', 50, 5],
    ['10%', 5, 0],
  ])('MaxErrors %s of %i targets tolerates %i errors', (value, targets, budget) => {
    expect(errorBudget(checkMaxErrors(value), targets)).toBe(budget);
  });

  it('applies the AWS defaults and rejects malformed values', () => {
    expect(checkMaxConcurrency(undefined)).toBe('50');
    expect(checkMaxErrors(undefined)).toBe('0');
    for (const bad of ['0', '-1', '101%', 'ten', '']) {
      expect(() => checkMaxConcurrency(bad), bad).toThrow(/failed to satisfy constraint/);
    }
    expect(() => checkMaxErrors('x')).toThrow(/failed to satisfy constraint/);
  });
});

describe('SendCommand parameters against the install document', () => {
  const document = parseCommandDocument('Install-ACMCertificate', '1', buildDocument());
  // A value for each required parameter that its allowedPattern accepts, whatever it is named.
  const samples = ['web', 'QUJD', 'acm-passphrase/web', '3f1c2a9e-1b2c-4d5e-8f90-123456789abc'];
  const required = Object.fromEntries(
    Object.entries(document.parameters)
      .filter(([, spec]) => spec.default === undefined)
      .map(([name, spec]) => {
        const pattern = new RegExp(spec.allowedPattern ?? '');
        const sample = samples.find((value) => pattern.test(value));
        if (sample === undefined) throw new Error(`no sample value fits parameter ${name}`);
        return [name, [sample]];
      }),
  );

  it('fills in the defaults and passes every value as SSM_<Name>', () => {
    const values = resolveParameters(document, required);
    expect(values.CertDir).toEqual(['/etc/ssl/certs']);
    expect(values.ReloadCommand).toEqual(['']);
    const env = parameterEnvironment(document, values);
    // Every parameter of the install document is an ENV_VAR one.
    expect(Object.keys(env)).toHaveLength(Object.keys(document.parameters).length);
    expect(env.SSM_CertName).toBe('web');
    expect(env.SSM_Force).toBe('false');
  });

  it.each([
    ['an unknown parameter', { ...required, Other: ['x'] }, /not defined/],
    ['a missing required parameter', { ...required, CertName: undefined }, /required/],
    ['two values for a String', { ...required, CertName: ['a', 'b'] }, /exactly one value/],
    ['a value outside the pattern', { ...required, KeyMode: ['0777x'] }, /regular expression/],
  ])('refuses %s with InvalidParameters', (_, sent, message) => {
    const clean = Object.fromEntries(
      Object.entries(sent).filter((entry): entry is [string, string[]] => entry[1] !== undefined),
    );
    expect(() => resolveParameters(document, clean)).toThrow(message);
    try {
      resolveParameters(document, clean);
    } catch (error) {
      expect((error as { code?: string }).code).toBe('InvalidParameters');
    }
  });

  it('interpolates {{ name }} references like the agent', () => {
    expect(interpolate('sleep {{ seconds }}; echo {{other}}', { seconds: ['5'] })).toBe(
      'sleep 5; echo {{other}}',
    );
  });
});
