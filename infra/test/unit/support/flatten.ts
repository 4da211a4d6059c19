/**
 * Renders a template value with its CloudFormation references as one string, the way cdk-nag
 * names them: `{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":acm:…"]]}` becomes
 * `arn:<AWS::Partition>:acm:…`, `{"Fn::GetAtt":["Queue","Arn"]}` becomes `<Queue.Arn>`.
 */
export function flat(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value !== null && typeof value === 'object') {
    const v = value as Record<string, unknown>;
    if ('Ref' in v) return `<${String(v.Ref)}>`;
    if ('Fn::GetAtt' in v) return `<${(v['Fn::GetAtt'] as string[]).join('.')}>`;
    if ('Fn::Join' in v) {
      const [separator, parts] = v['Fn::Join'] as [string, unknown[]];
      return parts.map(flat).join(separator);
    }
  }
  return JSON.stringify(value);
}
