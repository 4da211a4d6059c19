import { ContextProvider, type Stack, Token } from 'aws-cdk-lib';
import * as cxschema from 'aws-cdk-lib/cloud-assembly-schema';
import { SettingsError } from './settings.ts';

/** How many zones a new VPC spans when its zones come from the lookup. */
export const lookupZoneCount = 2;

/** What the lookup stands in with until the CDK CLI has asked the account. */
const dummyZones = ['dummy1a', 'dummy1b'];

/**
 * The stack's availability zones, always names the account's region really has, never letters
 * appended to the region (zone `c` does not exist everywhere, and zone letters are mapped per
 * account):
 * - the `availabilityZones` setting, checked against the region;
 * - else the first two zones of the lookup CDK caches in cdk.context.json (`cdk synth` with
 *   credentials fills it once; commit the file so that later synths run offline);
 * - else the lookup is reported missing: the CDK CLI performs it and synthesizes again, and
 *   `node infra/bin/app.ts` stops asking for the setting (see `missingZoneLookup`).
 */
export function stackZones(stack: Stack, configured: readonly string[]): string[] {
  if (configured.length > 0) {
    if (!Token.isUnresolved(stack.region)) {
      const foreign = configured.filter((zone) => !zone.startsWith(stack.region));
      if (foreign.length > 0) {
        throw new SettingsError(
          `context availabilityZones must be zones of ${stack.region}, got ${foreign.join(', ')}`,
        );
      }
    }
    return [...configured];
  }
  if (Token.isUnresolved(stack.account) || Token.isUnresolved(stack.region)) {
    throw new SettingsError(
      'the availability zones are required without an account to look them up in: -c availabilityZones=eu-west-1a,eu-west-1b',
    );
  }
  const { value } = ContextProvider.getValue(stack, {
    provider: cxschema.ContextProvider.AVAILABILITY_ZONE_PROVIDER,
    dummyValue: dummyZones,
  });
  if (!Array.isArray(value) || value.length < 2) {
    throw new SettingsError(
      `the zone lookup of ${stack.region} returned fewer than two zones: set availabilityZones`,
    );
  }
  return (value as string[]).slice(0, lookupZoneCount);
}

/** The message for a synth left with the zone lookup to do and no CLI to do it. */
export function missingZoneLookup(missing: readonly { provider: string }[]): string | undefined {
  if (!missing.some((m) => m.provider === cxschema.ContextProvider.AVAILABILITY_ZONE_PROVIDER)) {
    return undefined;
  }
  return 'the availability zones are not known: give -c availabilityZones=<zone>,<zone> (zones of the region), or run `npm run synth` once with credentials so that the CDK CLI caches the zone lookup in infra/cdk.context.json';
}
