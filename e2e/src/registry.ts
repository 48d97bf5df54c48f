/**
 * A real npm registry for the install test: Verdaccio (pinned in e2e/registry, installed there on
 * first use, outside the monorepo's lockfile), on 127.0.0.1 only, its storage in a temporary
 * directory. @fence/* is served only from what the test publishes (never looked up upstream, where
 * anyone could own the name); every other package (zod, tapable, tsyringe, cmake-js, ...) comes
 * through an uplink to this machine's configured registry (`npm config get registry`), as it would
 * for a user. The third-party plugin the test makes (fence-plugin-*) is served locally too.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { freePort } from './ports.js';

const REGISTRY_DIR = resolve(import.meta.dirname, '../registry');
const VERDACCIO = join(REGISTRY_DIR, 'node_modules/verdaccio/bin/verdaccio');

export interface LocalRegistry {
  readonly url: string;
  /** An npm user config that points at the registry and may publish to it. */
  readonly npmrc: string;
  publish(tarball: string): void;
  stop(): Promise<void>;
}

/** Installs Verdaccio from its lockfile when missing; returns why it cannot, or undefined. */
export function installVerdaccio(): string | undefined {
  if (existsSync(VERDACCIO)) return undefined;
  const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: REGISTRY_DIR, encoding: 'utf8' });
  return r.status === 0 ? undefined : `npm ci in e2e/registry failed (is the npm registry reachable?): ${r.stderr.split('\n').slice(-5).join(' ')}`;
}

function config(dir: string, uplink: string): string {
  return `storage: ${join(dir, 'storage')}
auth:
  htpasswd:
    file: ${join(dir, 'htpasswd')}
uplinks:
  upstream:
    url: ${uplink}
    timeout: 60s
packages:
  '@fence/*':
    access: $all
    publish: $all
  # The install test's third-party plugin (tools/new-plugin.mjs --out).
  'fence-plugin-*':
    access: $all
    publish: $all
  '**':
    access: $all
    proxy: upstream
log: { type: stdout, format: pretty, level: warn }
`;
}

async function waitUntilUp(url: string, child: ChildProcess, log: () => string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`verdaccio exited (${child.exitCode}):\n${log()}`);
    try {
      if ((await fetch(`${url}-/ping`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`verdaccio did not answer on ${url} within 30 s:\n${log()}`);
}

/** Starts Verdaccio with its storage and config under `dir`. */
export async function startRegistry(dir: string): Promise<LocalRegistry> {
  mkdirSync(dir, { recursive: true });
  const uplink = spawnSync('npm', ['config', 'get', 'registry'], { encoding: 'utf8' }).stdout.trim();
  writeFileSync(join(dir, 'config.yaml'), config(dir, uplink));
  const url = `http://127.0.0.1:${await freePort()}/`;
  const child = spawn(process.execPath, [VERDACCIO, '--config', join(dir, 'config.yaml'), '--listen', url.slice(7, -1)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (output += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (output += d));
  await waitUntilUp(url, child, () => output);
  // `publish: $all` lets anyone publish, but npm only sends a publish with some credential.
  const npmrc = join(dir, 'npmrc');
  writeFileSync(npmrc, `registry=${url}\n//${url.slice(7)}:_authToken=fence-e2e\n`);
  return {
    url,
    npmrc,
    publish(tarball) {
      const r = spawnSync('npm', ['publish', tarball, '--registry', url, '--userconfig', npmrc, '--provenance=false'], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`npm publish ${tarball} failed:\n${r.stderr}\nverdaccio:\n${output}`);
    },
    stop: () =>
      new Promise((done) => {
        if (child.exitCode !== null) return done();
        child.once('exit', () => done());
        child.kill('SIGTERM');
      }),
  };
}
