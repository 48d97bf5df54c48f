import { mkdtempSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isatty } from 'node:tty';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSandbox, definePlugin, FenceError, Kernel, PrepareStage, Tokens, warn, type FencePlugin, type Logger } from '../src/index.js';

const cwd = realpathSync(mkdtempSync(join(tmpdir(), 'fence-kernel-')));

/** A stand-in sandbox layer for kernel tests: it wraps the command with env(1). */
function recorder(log: string[]): FencePlugin {
  return definePlugin({
    name: 'recorder',
    platforms: [process.platform],
    provides: ['test'],
    async detect() {
      log.push('detect()');
      return { status: 'available', summary: 'recorder' };
    },
    apply(kernel) {
      log.push('apply');
      const h = kernel.hooks;
      h.detect.tap('recorder', (report) => void log.push(`detect:${[...report.keys()].join(',')}`));
      h.prepare.tap({ name: 'recorder', stage: PrepareStage.SANDBOX }, (plan) => {
        log.push('prepare:sandbox');
        plan.wrappers.push({ layer: 'recorder', argv: ['/usr/bin/env'] });
      });
      h.prepare.tap({ name: 'recorder-early', stage: PrepareStage.SERVICES }, () => void log.push('prepare:services'));
      h.launch.tap('recorder', () => void log.push('launch'));
      h.monitor.tap('recorder', (c) => void log.push(`monitor:${c.argv.join(' ')}`));
      h.exit.tap('recorder', (e) => void log.push(`exit:${e.status}`));
      h.dispose.tap('recorder', () => void log.push('dispose'));
    },
  });
}

/** A layer whose wrapper can run commands on a terminal of their own (as bwrap's with the helper). */
const terminalLayer = (raw: number[]): FencePlugin =>
  definePlugin({
    name: 'terminal',
    platforms: [process.platform],
    provides: ['test'],
    detect: async () => ({ status: 'available', summary: 'terminal' }),
    apply(kernel) {
      kernel.hooks.prepare.tap({ name: 'terminal', stage: PrepareStage.SANDBOX }, (plan) => {
        plan.wrappers.push({ layer: 'terminal', argv: ['/usr/bin/env'], ttyArgv: ['/usr/bin/env'] });
        plan.terminal = { makeRaw: (fd) => (raw.push(fd), () => undefined) };
      });
    },
  });

const unavailable = (log: string[]): FencePlugin =>
  definePlugin({
    name: 'missing',
    platforms: [process.platform],
    provides: ['test'],
    async detect() {
      return { status: 'absent', reason: 'the test says so' };
    },
    apply() {
      log.push('missing:apply');
    },
  });

describe('the kernel', () => {
  it('runs detect → prepare (by stage) → launch → monitor → exit → dispose, skipping unavailable plugins', async () => {
    const log: string[] = [];
    const sandbox = await createSandbox({ plugins: [unavailable(log), recorder(log)], cwd, settings: {} });
    expect(sandbox.report.get('missing')).toEqual({ status: 'absent', reason: 'the test says so' });
    expect(await sandbox.run(['sh', '-c', 'exit 3'], { stdio: ['ignore', 'ignore', 'ignore'] })).toBe(3);
    await sandbox.close();
    expect(log).toEqual([
      'detect()',
      'apply',
      'detect:missing,recorder',
      'prepare:services',
      'prepare:sandbox',
      'launch',
      'monitor:sh -c exit 3',
      'exit:3',
      'dispose',
    ]);
  });

  it('fails under --strict with the unavailable layer and its reason', async () => {
    const log: string[] = [];
    await expect(createSandbox({ plugins: [unavailable(log), recorder(log)], cwd, settings: {}, strict: true })).rejects.toThrow(
      /--strict: the missing layer is unavailable: the test says so/,
    );
  });

  it('refuses to start when the settings name command rules but no layer checks commands (fail closed)', async () => {
    for (const settings of [{ command: { deny: ['git push'] } }, { ssh: { allowedHosts: ['*.example.com'] } }, { command: { runtimeExecPolicy: 'argv' as const } }]) {
      const err = await createSandbox({ plugins: [recorder([])], cwd, settings }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(FenceError);
      expect(err).toMatchObject({ code: 'COMMAND_UNENFORCED', message: expect.stringMatching(/ is set but no active plugin checks commands \(add @fence\/plugin-command to the plugins\); nothing was run$/) });
    }
  });

  it('starts with a warning when only the built-in command rules go unchecked', async () => {
    const quiet: Logger = { debugEnabled: false, debug: () => undefined, warn: () => undefined, notice: () => undefined };
    const sandbox = await createSandbox({ plugins: [recorder([])], cwd, settings: {}, logger: quiet });
    expect(sandbox.warnings).toContainEqual({ layer: 'command', message: expect.stringMatching(/^the built-in command rules \(sudo, shutdown, …\) are not checked/) });
    await sandbox.close();
    const off = await createSandbox({ plugins: [recorder([])], cwd, settings: { command: { useDefaults: false } }, logger: quiet });
    expect(off.warnings).toEqual([]);
    await off.close();
  });

  it('refuses to run a command that no layer wraps', async () => {
    const err = await createSandbox({ plugins: [unavailable([])], cwd, settings: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FenceError);
    expect((err as FenceError).message).toMatch(/never runs a command unsandboxed/);
  });

  it('refuses a terminal run where no layer allocates terminals, with other stdio, or without a terminal', async () => {
    const plain = await createSandbox({ plugins: [recorder([])], cwd, settings: {} });
    expect(plain.supportsTty).toBe(false);
    await expect(plain.run(['true'], { tty: true })).rejects.toMatchObject({ code: 'TERMINAL_UNAVAILABLE', message: /no layer allocates terminals/ });
    await plain.close();
    const raw: number[] = [];
    const sandbox = await createSandbox({ plugins: [terminalLayer(raw)], cwd, settings: {} });
    expect(sandbox.supportsTty).toBe(true);
    await expect(sandbox.run(['true'], { tty: true, stdio: ['ignore', 'ignore', 'ignore'] })).rejects.toMatchObject({ code: 'TERMINAL_UNAVAILABLE', message: /stdio/ });
    if (!isatty(0)) await expect(sandbox.run(['true'], { tty: true })).rejects.toMatchObject({ message: /must be a terminal/ });
    expect(raw).toEqual([]);
    await sandbox.close();
  });

  it('reuses one session for many commands and refuses commands after close', async () => {
    const sandbox = await createSandbox({ plugins: [recorder([])], cwd, settings: {} });
    const quiet = { stdio: ['ignore', 'ignore', 'ignore'] } as const;
    expect(await sandbox.run(['true'], quiet)).toBe(0);
    expect(await sandbox.run('exit 4', quiet)).toBe(4);
    await sandbox.close();
    await expect(sandbox.run(['true'])).rejects.toThrow(/session is closed/);
  });
});

/** A layer detection finds degraded, which also warns twice from prepare (two consequences). */
const weakened = definePlugin({
  name: 'weak',
  platforms: [process.platform],
  provides: ['test'],
  async detect() {
    return { status: 'degraded', reason: 'half there', warning: 'half there: the test loses A' };
  },
  apply(kernel) {
    kernel.hooks.prepare.tap({ name: 'weak', stage: PrepareStage.KERNEL_LAYERS }, (plan) => {
      warn(plan, 'weak', 'and B');
      warn(plan, 'other', 'C is off');
    });
  },
});

/** No command layer here: without rules for it, its absence is no warning. */
const NO_COMMAND_RULES = { command: { useDefaults: false } };

describe('warnings for degraded layers', () => {
  const collecting = (lines: string[]): Logger => ({ debugEnabled: false, debug: () => undefined, warn: (m) => void lines.push(m), notice: () => undefined });

  it('gives the library and the logger one line per degraded layer', async () => {
    const lines: string[] = [];
    const sandbox = await createSandbox({ plugins: [weakened, recorder([])], cwd, settings: NO_COMMAND_RULES, logger: collecting(lines) });
    await sandbox.close();
    expect(sandbox.warnings).toEqual([
      { layer: 'weak', message: 'half there: the test loses A; and B' },
      { layer: 'other', message: 'C is off' },
    ]);
    expect(lines).toEqual(['weak: half there: the test loses A; and B', 'other: C is off']);
  });

  it('says nothing when every layer is available', async () => {
    const lines: string[] = [];
    const sandbox = await createSandbox({ plugins: [recorder([])], cwd, settings: NO_COMMAND_RULES, logger: collecting(lines) });
    await sandbox.close();
    expect(sandbox.warnings).toEqual([]);
    expect(lines).toEqual([]);
  });

  it('fails under --strict with the first warning instead of degrading', async () => {
    const weakOptional = { ...weakened, requiredUnderStrict: () => false };
    const err = await createSandbox({ plugins: [weakOptional, recorder([])], cwd, settings: {}, strict: true }).catch((e: unknown) => e);
    expect((err as FenceError).code).toBe('LAYER_UNAVAILABLE');
    expect((err as FenceError).message).toMatch(/^--strict: the weak layer is unavailable: half there: the test loses A; and B;/);
  });
});

describe('errors in taps', () => {
  /** A layer whose tap of `hook` fails the way `how` says. */
  const failing = (how: 'throw' | 'reject' | 'callback' | 'fence'): FencePlugin =>
    definePlugin({
      name: `failing-${how}`,
      platforms: [process.platform],
      provides: ['test'],
      detect: async () => ({ status: 'available' }),
      apply(kernel) {
        const name = `failing-${how}`;
        if (how === 'throw') kernel.hooks.prepare.tap(name, () => JSON.parse('{'));
        if (how === 'reject') kernel.hooks.prepare.tapPromise(name, async () => Promise.reject(new Error('the disk is gone')));
        if (how === 'callback') kernel.hooks.prepare.tapAsync(name, (_plan, _report, done) => done(new Error('the socket is gone')));
        if (how === 'fence') kernel.hooks.prepare.tap(name, () => { throw new FenceError('FLAG_INVALID', '-p: port 0 is no port'); });
      },
    });

  it.each([
    ['throw', /^plugin failing-throw failed in prepare: .*JSON/],
    ['reject', /^plugin failing-reject failed in prepare: the disk is gone$/],
    ['callback', /^plugin failing-callback failed in prepare: the socket is gone$/],
  ] as const)('names the plugin and the hook when a tap fails (%s)', async (how, message) => {
    const err = await createSandbox({ plugins: [failing(how), recorder([])], cwd, settings: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FenceError);
    expect(err).toMatchObject({ code: 'PLUGIN_FAILED', message: expect.stringMatching(message) });
  });

  it('passes a FenceError thrown on purpose as it is', async () => {
    const err = await createSandbox({ plugins: [failing('fence'), recorder([])], cwd, settings: {} }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'FLAG_INVALID', message: '-p: port 0 is no port' });
  });

  it('warns about a failing monitor, naming it, and still runs the command', async () => {
    const lines: string[] = [];
    const watcher = definePlugin({
      name: 'watcher',
      platforms: [process.platform],
      provides: ['test'],
      detect: async () => ({ status: 'available' }),
      apply: (kernel) => kernel.hooks.monitor.tap('watcher', () => { throw new Error('no such namespace'); }),
    });
    const logger: Logger = { debugEnabled: false, debug: () => undefined, warn: (m) => void lines.push(m), notice: () => undefined };
    const sandbox = await createSandbox({ plugins: [watcher, recorder([])], cwd, settings: { command: { useDefaults: false } }, logger });
    expect(await sandbox.run(['sh', '-c', 'exit 4'], { stdio: ['ignore', 'ignore', 'ignore'] })).toBe(4);
    await sandbox.close();
    expect(lines).toEqual(['plugin watcher failed in monitor: no such namespace']);
  });
});

describe('detection', () => {
  it('asks each plugin itself, not the first one of its name, in this process', async () => {
    // A relative XDG_CACHE_HOME turns the disk cache off: this is about the process's own.
    const env = { XDG_CACHE_HOME: 'off', PATH: process.env.PATH };
    const named = (status: 'available' | 'absent'): FencePlugin =>
      definePlugin({ name: 'twin', platforms: [process.platform], provides: ['test'], detect: async () => ({ status, reason: status }), apply: () => undefined });
    const first = await createSandbox({ plugins: [named('available'), recorder([])], cwd, settings: {}, env });
    const second = await createSandbox({ plugins: [named('absent'), recorder([])], cwd, settings: {}, env });
    await Promise.all([first.close(), second.close()]);
    expect(first.report.get('twin')?.status).toBe('available');
    expect(second.report.get('twin')?.status).toBe('absent');
  });
});

describe('services a platform registers (FencePlugin.register)', () => {
  const options = { platform: process.platform, debug: false, monitor: false, strict: false, ports: [] };
  const paths = { system: ['/usr'], sandbox: ['/tmp'] };
  const naming = (platforms: NodeJS.Platform[], register: FencePlugin['register']): FencePlugin =>
    definePlugin({ name: 'namer', platforms, provides: ['test'], detect: async () => ({ status: 'absent', reason: 'not needed' }), register, apply: () => undefined });

  it('are there when the session is created, before any detection, from plugins of this platform only', () => {
    const here = new Kernel({ plugins: [naming([process.platform], (s) => s.register(Tokens.PlatformPaths, { useValue: paths }))], options, cacheDetection: false });
    expect(here.platformPaths).toBe(paths);
    const elsewhere = new Kernel({ plugins: [naming(['aix'], (s) => s.register(Tokens.PlatformPaths, { useValue: paths }))], options, cacheDetection: false });
    expect(elsewhere.platformPaths).toBeUndefined();
  });

  it('belong to one session each', () => {
    const plugin = naming([process.platform], (s) => s.register(Tokens.PlatformPaths, { useValue: { ...paths } }));
    const [a, b] = [0, 1].map(() => new Kernel({ plugins: [plugin], options, cacheDetection: false }));
    expect(a!.platformPaths).not.toBe(b!.platformPaths);
  });

  it('name the plugin when registering fails', () => {
    const broken = naming([process.platform], () => { throw new Error('no such list'); });
    expect(() => new Kernel({ plugins: [broken], options, cacheDetection: false })).toThrow(/^plugin namer failed in register: no such list$/);
  });
});
