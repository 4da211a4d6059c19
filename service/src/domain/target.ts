/** The servers a certificate is deployed to: every managed node carrying this tag. */
export interface TargetTag {
  readonly key: string;
  readonly value: string;
}

/** `CertTagMapping` partition key, as the original sample wrote it: `<key>#<value>`. */
export function tagKeyValue(target: TargetTag): string {
  return `${target.key}#${target.value}`;
}

/** `CertTagMapping` sort key, as the original sample wrote it: `<arn>#<name>`. */
export function certificateArnCertName(certificateArn: string, certName: string): string {
  return `${certificateArn}#${certName}`;
}

export function formatTarget(target: TargetTag): string {
  return `${target.key}=${target.value}`;
}
