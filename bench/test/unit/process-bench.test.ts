import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../../local/paths.ts';
import { cpuMs, imageCommand, residentMb } from '../../process-bench.ts';

describe('imageCommand', () => {
  it('reads the service stage’s CMD and ENV, not another stage’s', () => {
    const dockerfile = [
      'FROM node AS deps',
      'CMD ["node", "other.js"]',
      'FROM node AS service',
      'ENV NODE_ENV=production \\',
      '    PORT=8080',
      'HEALTHCHECK CMD ["node", "-e", "x"]',
      'CMD ["node", "--enable-source-maps", "dist/main.mjs"]',
      '',
      'FROM python AS moto',
      'CMD ["python", "launch.py"]',
    ].join('\n');
    expect(imageCommand(dockerfile)).toEqual({
      argv: ['node', '--enable-source-maps', 'dist/main.mjs'],
      env: { NODE_ENV: 'production', PORT: '8080' },
    });
  });

  it('refuses a Dockerfile without a service stage or with a shell-form CMD', () => {
    expect(() => imageCommand('FROM node AS build\nCMD ["node"]')).toThrow(
      'no stage named service',
    );
    expect(() => imageCommand('FROM node AS service\nCMD node main.mjs')).toThrow();
  });

  it('finds the bundle in the repository’s Dockerfile (what the benchmark measures)', () => {
    const { argv, env } = imageCommand(readFileSync(join(repoRoot, 'Dockerfile'), 'utf8'));
    expect(argv[0]).toBe('node');
    expect(argv.at(-1)).toBe('dist/main.mjs');
    expect(env.NODE_ENV).toBe('production');
  });
});

describe('process figures from /proc', () => {
  it('reads this process’s resident memory and CPU time', () => {
    expect(residentMb(process.pid)).toBeGreaterThan(10);
    expect(cpuMs(process.pid)).toBeGreaterThan(0);
  });
});
