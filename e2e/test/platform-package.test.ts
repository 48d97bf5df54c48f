/**
 * The per-platform packages (tools/platform-packages.mjs): what each one carries, for which cpu;
 * linux-arm64 cross-built here and its helper run under qemu-user. Installing them from a
 * registry is registry-install.test.ts.
 */
import { encodeHelperPlan } from '@fence/linux-helper';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hasProgram } from '../src/fence.js';

const root = join(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'fence-e2e-platform-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Platform {
  readonly os: string;
  readonly cpu: string;
  readonly native: readonly string[];
}
const tool = join(root, 'tools/platform-packages.mjs');
const { PLATFORMS } = (await import(tool)) as { PLATFORMS: Platform[] };

/** ELF e_machine of each native file: 62 x86-64, 183 AArch64. */
const ELF_MACHINE: Record<string, number> = { x64: 62, arm64: 183 };
function elfMachine(file: string): number {
  const header = Buffer.alloc(20);
  readSync(openSync(file, 'r'), header, 0, 20, 0);
  expect(header.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
  return header.readUInt16LE(18);
}

/** Builds the target's package and unpacks it; returns the unpacked directory. */
function buildAndUnpack(target: string): string {
  const built = spawnSync(process.execPath, [tool, '--target', target, '--out', join(dir, 'out')], { encoding: 'utf8' });
  expect(built.status, built.stderr).toBe(0);
  const tarball = built.stdout.trim().split('\n').pop()!;
  expect(tarball).toMatch(new RegExp(`fence-cli-${target}-\\d+\\.\\d+\\.\\d+\\.tgz$`));
  const unpacked = join(dir, target);
  mkdirSync(unpacked);
  expect(spawnSync('tar', ['-xzf', tarball, '-C', unpacked]).status).toBe(0);
  return join(unpacked, 'package');
}

function expectPackage(pkg: string, platform: Platform): void {
  const manifest = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8'));
  expect(manifest).toMatchObject({ name: `@fence/cli-${platform.os}-${platform.cpu}`, os: [platform.os], cpu: [platform.cpu] });
  expect(manifest.dependencies).toBeUndefined();
  expect(readdirSync(pkg).sort()).toEqual([...platform.native, 'README.md', 'package.json'].sort());
  for (const f of platform.native) {
    expect(statSync(join(pkg, f)).mode & 0o111, `${f} is executable`).not.toBe(0);
    expect(elfMachine(join(pkg, f)), `${f} is built for ${platform.cpu}`).toBe(ELF_MACHINE[platform.cpu]);
  }
}

const host = PLATFORMS.find((p) => p.os === process.platform && p.cpu === process.arch);
const arm64 = PLATFORMS.find((p) => p.os === 'linux' && p.cpu === 'arm64')!;
const noCross = process.platform === 'linux' && process.arch === 'x64' && !hasProgram('aarch64-linux-gnu-gcc') && 'aarch64-linux-gnu-gcc is not installed (apt-get install gcc-aarch64-linux-gnu g++-aarch64-linux-gnu)';
const noQemu = !hasProgram('qemu-aarch64') && 'qemu-aarch64 is not installed (apt-get install qemu-user)';
for (const why of [noCross, noQemu]) if (why) console.warn(`e2e: linux-arm64 checks SKIPPED: ${why}`);

describe('the per-platform packages (tools/platform-packages.mjs)', () => {
  it('cover linux and darwin on x64 and arm64, with a helper wherever Linux runs', () => {
    expect(PLATFORMS.map((p) => `${p.os}-${p.cpu}`).sort()).toEqual(['darwin-arm64', 'darwin-x64', 'linux-arm64', 'linux-x64']);
    for (const p of PLATFORMS) expect(p.native.includes('fence-launch')).toBe(p.os === 'linux');
  });

  it.skipIf(!host)("packs this machine's native files, built for its cpu, and nothing else", { timeout: 120_000 }, () => {
    expectPackage(buildAndUnpack(`${host!.os}-${host!.cpu}`), host!);
  });

  it.skipIf(!!noCross)('cross-builds linux-arm64 here', { timeout: 300_000 }, () => {
    expectPackage(buildAndUnpack('linux-arm64'), arm64);
  });

  it.skipIf(!!noCross || !!noQemu)('runs the linux-arm64 helper under qemu-user: limits, no_new_privs, then the command', { timeout: 300_000 }, () => {
    const helper = join(dir, 'linux-arm64/package/fence-launch');
    const plan = Buffer.from(encodeHelperPlan({ bridges: [], rlimits: [{ resource: 'NOFILE', value: 64 }] })).toString('base64');
    const r = spawnSync('qemu-aarch64', [helper, '--', 'sh', '-c', 'ulimit -n; grep NoNewPrivs /proc/self/status'], {
      env: { PATH: process.env.PATH, FENCE_LAUNCH_PLAN: plan },
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^64\nNoNewPrivs:\s+1\n$/);
  });

  // Built on a Mac for a release; they hold no native files today, so their contents are checked here.
  it.each(PLATFORMS.filter((p) => p.os === 'darwin').map((p) => [`${p.os}-${p.cpu}`, p] as const))(
    'packs %s with only its manifest',
    { timeout: 60_000 },
    (target, p) => expectPackage(buildAndUnpack(target), p),
  );
});
