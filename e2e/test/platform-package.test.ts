import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'fence-e2e-package-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the per-platform package (tools/platform-packages.mjs)', () => {
  it('installs offline from its tarball and runs a full sandbox', { timeout: 120_000 }, () => {
    const built = spawnSync(process.execPath, [join(root, 'tools/platform-packages.mjs'), '--out', join(dir, 'out')], { encoding: 'utf8' });
    expect(built.status, built.stderr).toBe(0);
    const tarball = built.stdout.trim().split('\n').pop()!;
    expect(tarball).toMatch(new RegExp(`fence-cli-${process.platform}-${process.arch}-\\d+\\.\\d+\\.\\d+\\.tgz$`));
    const project = join(dir, 'project');
    spawnSync('mkdir', [project]);
    writeFileSync(join(project, 'package.json'), '{"name":"consumer","version":"1.0.0","private":true}');
    const installed = spawnSync('npm', ['install', '--offline', '--no-audit', '--no-fund', tarball], { cwd: project, encoding: 'utf8' });
    expect(installed.status, installed.stderr).toBe(0);
    const fence = join(project, 'node_modules/.bin/fence');
    const run = spawnSync(fence, ['-d', '--', 'sh', '-c', 'echo inside; touch /etc/x'], { cwd: project, encoding: 'utf8' });
    expect(run.stdout).toBe('inside\n');
    expect(run.stderr).toContain('Read-only file system');
    // The native files came with the package: its own helper runs and applies Landlock.
    expect(run.stderr).toContain(`helper: ${project}/node_modules/@fence/cli-${process.platform}-${process.arch}/dist/native/build/Release/fence-launch`);
    expect(run.stderr).toMatch(/landlock-v\d+\(wrapper\)/);
  });
});
