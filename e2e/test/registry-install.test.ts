/**
 * Installing Fence as a user does, from a real registry: every publishable package (tools/pack.mjs)
 * is published to a local Verdaccio, then the README's "Install" section runs word for word in a
 * fresh npm prefix and an unrelated project, with no compiler on PATH. Then the README's library
 * example, a layer installed on its own, a third-party plugin made by the generator and loaded by
 * name, and an install without the platform package.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NOBODY, USERS, userArgv } from '../src/fence.js';
import { BUILD_TOOL_CHECK, canHideBuildTools, readmeBlocks, withoutBuildTools } from '../src/install-env.js';
import { installVerdaccio, startRegistry, type LocalRegistry } from '../src/registry.js';

const root = join(import.meta.dirname, '../..');
const README = join(root, 'README.md');
const TARGET = `${process.platform}-${process.arch}`;
const missing = canHideBuildTools ? installVerdaccio() : 'it needs root, to hide the compilers in a mount namespace';
if (missing) console.warn(`e2e: the registry install test is SKIPPED: ${missing}`);

const dir = mkdtempSync(join(tmpdir(), 'fence-e2e-registry-'));
let registry: LocalRegistry;
let env: Record<string, string>;
let hide: string[];
const prefix = join(dir, 'prefix');
const project = join(dir, 'project');

/** Runs a shell script as a user would, in `cwd`, against the local registry, with no compiler. */
function sh(script: string, cwd = project, user: 'root' | 'nobody' = 'root') {
  const [cmd, ...args] = [...hide, ...userArgv(user, ['sh', '-ec', script])];
  const r = spawnSync(cmd!, args, { cwd, env, encoding: 'utf8', timeout: 300_000 });
  return { ...r, output: `${r.stdout}${r.stderr}` };
}

function newProject(name: string): string {
  const p = join(dir, name);
  mkdirSync(p);
  writeFileSync(join(p, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true, type: 'module' }));
  return p;
}

beforeAll(async () => {
  if (missing) return;
  const packed = spawnSync(process.execPath, [join(root, 'tools/pack.mjs'), '--out', join(dir, 'packages')], { encoding: 'utf8' });
  if (packed.status !== 0) throw new Error(`tools/pack.mjs failed:\n${packed.stderr}`);
  registry = await startRegistry(join(dir, 'registry'));
  for (const tarball of packed.stdout.trim().split('\n')) registry.publish(tarball);
  hide = withoutBuildTools(dir);
  mkdirSync(join(dir, 'home'));
  env = {
    PATH: `${prefix}/bin:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin`,
    HOME: join(dir, 'home'),
    LANG: 'C.UTF-8',
    npm_config_userconfig: registry.npmrc,
    npm_config_prefix: prefix,
    // The machine's cache: only third-party tarballs come from it (by integrity); metadata is
    // always asked of the local registry.
    npm_config_cache: spawnSync('npm', ['config', 'get', 'cache'], { encoding: 'utf8' }).stdout.trim(),
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
  };
  newProject('project');
}, 600_000);

afterAll(async () => {
  await registry?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(missing)('installing from a registry (README "Install")', () => {
  it('publishes @fence/cli with every platform package as an optional dependency', () => {
    const r = sh('npm view @fence/cli optionalDependencies --json');
    expect(JSON.parse(r.stdout)).toEqual({
      '@fence/cli-linux-x64': '0.1.0',
      '@fence/cli-linux-arm64': '0.1.0',
      '@fence/cli-darwin-arm64': '0.1.0',
      '@fence/cli-darwin-x64': '0.1.0',
    });
  });

  it('has no compiler, linker or cmake where the install runs', () => {
    const r = sh(BUILD_TOOL_CHECK);
    expect(r.status, r.output).toBe(0);
    expect(r.stdout).toBe('');
  });

  it('runs the README install section word for word, without compiling', { timeout: 600_000 }, () => {
    const blocks = readmeBlocks(README, 'Install');
    expect(blocks.join('\n')).toMatch(/npm install -g @fence\/cli[\s\S]*fence -- true[\s\S]*npx fence -- true/);
    // npx runs the global fence, then the project's (and never the unrelated public package "fence").
    const npxHelpers = [join(prefix, 'lib/node_modules/@fence/cli/node_modules'), join(project, 'node_modules')];
    expect(blocks).toHaveLength(npxHelpers.length);
    blocks.forEach((block, i) => {
      const r = sh(block);
      expect(r.status, r.output).toBe(0);
      // @fence/native's install script saw the prebuilt files and did not try to build.
      expect(r.output).not.toMatch(/@fence\/native: no prebuilt|cmake-js|native build/);
      expect(sh('npx fence -d -- true').stderr).toContain(`helper: ${npxHelpers[i]}/@fence/cli-${TARGET}/fence-launch`);
    });
    const installed = npxHelpers[0]!;
    expect(readdirSync(join(installed, `@fence/cli-${TARGET}`)).sort()).toEqual(['README.md', 'fence-launch', 'fence_native.node', 'package.json']);
    // Nothing was compiled: @fence/native has no build directory of its own.
    expect(() => statSync(join(installed, '@fence/native/build'))).toThrow();
    // The sandbox uses the helper from the platform package (-d names it) and applies Landlock with it.
    const run = sh('fence -d -- sh -c "echo inside; touch /etc/x"');
    expect(run.stdout).toBe('inside\n');
    expect(run.stderr).toContain(`helper: ${installed}/@fence/cli-${TARGET}/fence-launch`);
    expect(run.stderr).toMatch(/landlock-v\d+\(wrapper\)/);
    expect(run.stderr).toContain('Read-only file system');
  });

  it.skipIf(!USERS.includes('nobody'))(`runs the globally installed fence as uid ${NOBODY}`, () => {
    for (const d of [dir, project]) chmodSync(d, 0o755);
    const r = sh('fence -- sh -c "id -u"', '/', 'nobody');
    expect(r.status, r.output).toBe(0);
    expect(r.stdout).toBe(`${NOBODY}\n`);
  });

  it('runs the README library examples in the project', { timeout: 120_000 }, () => {
    const [basic, annotated] = readmeBlocks(README, 'As a library', 'js');
    writeFileSync(join(project, 'basic.mjs'), basic!);
    const r = sh('node basic.mjs && cat out.txt');
    expect(r.stdout, r.output).toBe('hello\n');
    writeFileSync(join(project, 'annotated.mjs'), annotated!);
    const a = sh('node annotated.mjs');
    expect(a.status, a.output).toBe(0);
    expect(a.stderr).toMatch(/fence: the sandbox blocked 1 action while this command ran \(exit \d+\):\nfence: {3}http: CONNECT 403 example\.com/);
  });

  it('imports a layer installed on its own, with no CLI and no native files', { timeout: 300_000 }, () => {
    const solo = newProject('solo');
    expect(sh('npm install @fence/plugin-seccomp', solo).status).toBe(0);
    // The kernel and the shared contract packages (data and types, no native files), no other layer.
    expect(readdirSync(join(solo, 'node_modules/@fence')).sort()).toEqual(['core', 'linux-helper', 'plugin-seccomp', 'syscalls']);
    const r = sh(
      `node --input-type=module -e "import { buildSeccompProgram } from '@fence/plugin-seccomp';
       console.log(buildSeccompProgram({ arch: 'x86_64', allowUnixSockets: false }).byteLength % 8)"`,
      solo,
    );
    expect(r.stdout, r.output).toBe('0\n');
  });

  it('loads a third-party plugin made by the generator, by package name', { timeout: 300_000 }, () => {
    const src = join(dir, 'plugin-src');
    expect(spawnSync(process.execPath, [join(root, 'tools/new-plugin.mjs'), 'hello', '--out', src]).status).toBe(0);
    // Its author's steps: install its dependencies (@fence/core from the registry), build, test, publish.
    const built = sh('npm install && npm test && npm pack --silent', src);
    expect(built.status, built.output).toBe(0);
    registry.publish(join(src, built.stdout.trim().split('\n').pop()!));
    expect(sh('npm install fence-plugin-hello').status).toBe(0);
    const r = sh('npx fence --plugin fence-plugin-hello -d -- true');
    expect(r.status, r.output).toBe(0);
    expect(r.stderr).toMatch(/\[fence:hello\] plan has \d+ wrapper/);
  });

  it('without the platform package, says how to get the native files and still runs', { timeout: 300_000 }, () => {
    const bare = newProject('bare');
    const installed = sh('npm install --omit=optional --foreground-scripts @fence/cli', bare);
    expect(installed.status, installed.output).toBe(0);
    expect(installed.output).toContain(`@fence/native: no prebuilt native files (@fence/cli-${TARGET} is not installed`);
    expect(installed.output).toMatch(/Reinstall @fence\/cli without --omit=optional, or install a C compiler and cmake/);
    const r = sh('npx fence -- true', bare);
    expect(r.status, r.output).toBe(0);
  });
});
