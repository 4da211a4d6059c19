import { awsServices } from './aws-config.ts';
import { allSettings, type Setting, settingGroups } from './settings.ts';

/**
 * docs/settings.md, rendered from the settings catalog (settings.ts). `npm run settings-doc`
 * writes it (write-settings-doc.ts); a unit test checks that the file is this text.
 */
export function settingsMarkdown(): string {
  const lines = [
    '# Settings',
    '',
    '<!-- Generated from service/src/config/settings.ts by `npm run settings-doc`; a test checks that',
    '     this file is what the catalog says. Edit the catalog, not this file. -->',
    '',
    'Every environment variable the service reads, in one place. The service reads and checks them',
    'once at start (`service/src/config/config.ts`, with names, defaults and ranges from the catalog',
    'this page is generated from); a value out of range or of the wrong form stops it with exit code',
    '78 and a message naming the variable. The stack sets the ones in the "set by the stack" column',
    '([deploy.md](deploy.md)); `docker compose` and the local run set what the emulator needs',
    '(`infra/lib/service-environment.ts`, `local/stack-env.ts`).',
    '',
    'Read by the service (the container: API and worker; and the API’s Lambda function) unless the',
    'variable says otherwise; the scale-to-zero waker function reads the ones marked *waker*. The',
    'AWS SDK also reads its own variables (credentials, `AWS_PROFILE`, …), which are not listed',
    'here; the CLI’s (`ACM_CERT_EXPORT_URL`, …) are in [its README](../service/src/cli/README.md).',
    '',
  ];
  for (const [group, title] of Object.entries(settingGroups)) {
    const entries = allSettings.filter((s) => s.group === group);
    if (entries.length === 0) continue;
    lines.push(`## ${title}`, '');
    lines.push('| variable | values | default | set by the stack | meaning |');
    lines.push('|---|---|---|---|---|');
    for (const s of entries) {
      lines.push(
        `| ${cell(variable(s))} | ${cell(values(s))} | ${cell(defaultOf(s))} | ${cell(s.stack ?? '—')} | ${cell(meaning(s))} |`,
      );
    }
    lines.push('');
  }
  return lines.join('\n');
}

function cell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ');
}

function code(value: string | number | boolean): string {
  return `\`${String(value)}\``;
}

function variable(s: Setting): string {
  const readBy = s.readBy ?? ['service'];
  const who = readBy.includes('service')
    ? readBy.includes('waker')
      ? ' (service and *waker*)'
      : ''
    : ' (*waker*)';
  return `${code(s.name)}${who}`;
}

function values(s: Setting): string {
  switch (s.type) {
    case 'string':
      return s.format ?? 'text';
    case 'url':
      return 'an http(s) URL';
    case 'integer':
      return `integer, ${s.min.toLocaleString('en-US')} to ${s.max.toLocaleString('en-US')}${s.unit === undefined ? '' : ` ${s.unit}`}`;
    case 'boolean':
      return '`true` or `false` (`1`, `0`)';
    case 'enum':
      return s.values.map(code).join(', ');
    case 'list':
      return s.format ?? 'comma-separated';
    case 'json':
      return `JSON, e.g. ${code(s.example)}`;
    case 'removed':
      return `no longer read: use ${code(s.replacedBy)}`;
  }
}

function defaultOf(s: Setting): string {
  if (s.required === true)
    return s.defaultText === undefined ? '**required**' : `**required** (or ${s.defaultText})`;
  if (s.defaultText !== undefined) return s.defaultText;
  if (s.type === 'json') return '`[]`';
  if (s.type === 'removed') return '—';
  if ('default' in s && s.default !== undefined) return code(s.default);
  return 'unset';
}

function meaning(s: Setting): string {
  if (s.pattern === undefined) return s.description;
  const ids = Object.values(awsServices).map(code).join(', ');
  return `${s.description} Services: ${ids}.`;
}
