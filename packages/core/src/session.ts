/**
 * The library API. A sandbox session resolves the policy, detects and activates the layers and
 * prepares the launch plan once; each run() then only spawns. Reusable across commands.
 *
 *   const sandbox = await createSandbox({ plugins, settings: { network: { allowedDomains: ['github.com'] } } });
 *   const status = await sandbox.run(['git', 'fetch']);
 *   await sandbox.close();
 */
import { homedir } from 'node:os';
import { isatty } from 'node:tty';
import { execCommand, type CommandResult, type ExecOptions } from './capture.js';
import { requireCommandLayer } from './command-layer.js';
import { commandEnvironment } from './environment.js';
import { errors } from './errors.js';
import type { DetectionReport } from './availability.js';
import type { RunningCommand } from './hooks.js';
import { Kernel } from './kernel.js';
import { createLaunchPlan, warn, type LaunchPlan, type LayerWarning } from './plan.js';
import type { FencePlugin } from './plugin.js';
import type { Policy, PolicySource } from './policy.js';
import { spawnCommand, type SpawnedCommand, type SpawnRequest } from './runner.js';
import { RuntimeDir } from './runtime-dir.js';
import type { Logger, ProxyServiceOptions } from './services.js';
import { loadPlugins } from './plugin-loader.js';
import { overrideNetwork, type NetworkOverride } from './network-override.js';
import { loadPolicy } from './settings/load.js';
import type { SettingsInput } from './settings/schema.js';
import type { ViolationStream } from './violations.js';

export interface SandboxOptions {
  /** The layers to consider; only those for this platform are detected. */
  readonly plugins: readonly FencePlugin[];
  readonly cwd?: string;
  /** Inline settings (library use). When given, no settings file is discovered. */
  readonly settings?: SettingsInput;
  /** An explicit settings file (a missing file is an error). */
  readonly settingsFile?: string;
  /** A built-in template to start from. */
  readonly template?: string;
  readonly debug?: boolean;
  readonly monitor?: boolean;
  readonly strict?: boolean;
  /** Sandbox ports to expose on the host's 127.0.0.1. */
  readonly ports?: readonly number[];
  /** Reach the proxies through a shared per-user service instead of starting them (KernelOptions.proxyService). */
  readonly proxyService?: ProxyServiceOptions;
  readonly logger?: Logger;
  /** Environment the commands inherit (default process.env). */
  readonly env?: NodeJS.ProcessEnv;
  readonly platform?: NodeJS.Platform;
  /** More third-party plugins to load by name or path (the CLI's `--plugin`), checked like `plugins`. */
  readonly pluginNames?: readonly string[];
  /** Paths the sandbox must keep read-only because Fence loads them (the CLI's own installation). */
  readonly trustedPaths?: readonly string[];
}

/** A command: argv run exactly as given, or a string run by `bash -c`. */
export type Command = readonly string[] | string;

export interface RunOptions {
  readonly stdio?: SpawnRequest['stdio'];
  /** Forward this process's SIGINT/SIGTERM/SIGHUP to the command (the CLI does; not SIGINT with `tty`). */
  readonly forwardSignals?: boolean;
  /**
   * Run the command on a pseudo-terminal of its own inside the sandbox, relayed to this process's
   * terminal (stdin, and stdout or stderr, must be one; `stdio` must be left as is): job control,
   * Ctrl-C/Ctrl-Z for the job inside, window sizes, /dev/tty. See `Sandbox.supportsTty`.
   */
  readonly tty?: boolean;
}

/** For run() and exec(): the command's own network allowlist (network-override.ts). */
export interface NetworkOption {
  readonly network?: NetworkOverride;
}

export class Sandbox {
  #closed = false;
  readonly #running = new Set<SpawnedCommand>();
  /** Sessions derived for per-command allowlists, by allowlist; closed with this one. */
  readonly #networks = new Map<string, Promise<Sandbox>>();

  constructor(
    readonly kernel: Kernel,
    readonly policy: Policy,
    readonly sources: readonly PolicySource[],
    readonly report: DetectionReport,
    readonly plan: LaunchPlan,
    readonly env: NodeJS.ProcessEnv,
    private readonly runtime: RuntimeDir,
    private readonly options: SandboxOptions,
  ) {}

  get violations(): ViolationStream {
    return this.kernel.violations;
  }

  /** The layers that are degraded in this session, one per layer (also given to logger.warn). */
  get warnings(): readonly LayerWarning[] {
    return this.plan.warnings;
  }

  /** Whether `{ tty: true }` can work here: a layer's wrapper allocates terminals (it sets `ttyArgv` and `plan.terminal`). */
  get supportsTty(): boolean {
    return this.plan.terminal !== undefined && this.plan.wrappers.some((w) => w.ttyArgv);
  }

  /** The wrappers' argv: each one's terminal variant on a terminal run. */
  #wrapperArgv(tty: boolean, stdio: RunOptions['stdio']): string[] {
    if (!tty) return this.plan.wrappers.flatMap((w) => w.argv);
    if (!this.supportsTty) throw errors.terminalUnavailable('no layer allocates terminals here (the warnings of this run name the missing part)');
    if (stdio?.some((s) => s !== 'inherit')) throw errors.terminalUnavailable('the stdio option must be left as is');
    if (!isatty(0) || !(isatty(1) || isatty(2))) throw errors.terminalUnavailable('stdin, and stdout or stderr, must be a terminal');
    return this.plan.wrappers.flatMap((w) => w.ttyArgv ?? w.argv);
  }

  /** Starts a command; resolves its exit status through `exited`. */
  spawn(command: Command, options: RunOptions = {}): SpawnedCommand {
    if (this.#closed) throw errors.sessionClosed();
    const argv = typeof command === 'string' ? ['bash', '-c', command] : [...command];
    if (argv.length === 0 || argv[0] === '') throw errors.commandMissing();
    // The command policy (a plugin) refuses by throwing, before anything starts.
    this.kernel.hooks.spawn.call({ argv, policy: this.policy });
    const tty = options.tty ?? false;
    const spawned = spawnCommand({
      argv: [...this.#wrapperArgv(tty, options.stdio), ...argv],
      env: commandEnvironment(this.env, this.plan.env, this.policy.environment),
      cwd: this.policy.cwd,
      fds: this.plan.fds,
      stdio: options.stdio,
      signal: this.plan.signal,
      forwardSignals: options.forwardSignals ?? false,
      terminal: tty ? this.plan.terminal : undefined,
    });
    this.#running.add(spawned);
    this.#enforceWallClock(spawned);
    const running: RunningCommand = {
      plan: this.plan,
      argv,
      pid: spawned.child.pid ?? 0,
      wrapper: spawned.wrapper,
      startedAt: Date.now(),
      monitor: this.kernel.options.monitor,
    };
    // The command starts once every monitor watches it; a monitor that fails only costs its events.
    const monitored = this.kernel.hooks.monitor
      .promise(running)
      .catch((e: unknown) => this.kernel.logger.warn(e instanceof Error ? e.message : String(e)));
    void monitored.then(() => spawned.release());
    const exited = Promise.all([spawned.exited, monitored]).then(async ([status]) => {
      this.#running.delete(spawned);
      await this.kernel.hooks.exit.promise({ command: running, status });
      return status;
    });
    exited.catch(() => this.#running.delete(spawned));
    return { ...spawned, exited };
  }

  /**
   * limits.wallSeconds: SIGTERM to the command when the time is up, so it may exit cleanly; SIGKILL
   * shortly after ends the whole sandbox, whatever ignored the SIGTERM or was left in the background.
   */
  #enforceWallClock(spawned: SpawnedCommand): void {
    const wall = this.policy.limits.wallSeconds;
    if (wall <= 0) return;
    const timer = setTimeout(() => {
      this.kernel.logger.notice(`limits.wallSeconds: the command ran for ${wall} s and was stopped`);
      spawned.kill('SIGTERM');
      setTimeout(() => spawned.kill('SIGKILL'), 2000).unref();
    }, wall * 1000);
    void spawned.exited.finally(() => clearTimeout(timer)).catch(() => undefined);
  }

  /** Runs a command to completion and returns its exit status. */
  run(command: Command, options: RunOptions & NetworkOption = {}): Promise<number> {
    const { network, ...rest } = options;
    if (network) return this.withNetwork(network).then((s) => s.run(command, rest));
    try {
      return this.spawn(command, rest).exited;
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Runs a command to completion with its stdout and stderr captured, and what was blocked meanwhile (capture.ts). */
  exec(command: Command, options: ExecOptions & NetworkOption = {}): Promise<CommandResult> {
    const { network, ...rest } = options;
    if (network) return this.withNetwork(network).then((s) => s.exec(command, rest));
    return execCommand(this, command, rest);
  }

  /**
   * The session for commands with this network allowlist instead of the session's: created on
   * first use, then reused; its violations also reach this session's stream.
   */
  withNetwork(network: NetworkOverride): Promise<Sandbox> {
    try {
      if (this.#closed) throw errors.sessionClosed();
      const { policy, key } = overrideNetwork(this.policy, network);
      const known = this.#networks.get(key);
      if (known) return known;
      const derived = startSession(this.options, policy, this.sources);
      this.#networks.set(key, derived);
      derived.then((s) => s.violations.on((v) => this.violations.emit(v)), () => this.#networks.delete(key));
      return derived;
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Stops every running command, the services and the plugins; removes what the session created. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled([...this.#networks.values()].map((s) => s.then((d) => d.close())));
    for (const r of this.#running) r.kill('SIGKILL');
    await Promise.allSettled([...this.#running].map((r) => r.exited));
    await this.kernel.hooks.dispose.promise(this.plan).catch((e: unknown) => this.kernel.logger.warn(String(e)));
    await Promise.allSettled(this.plan.services.map((s) => s.stop()));
    for (const c of [...this.plan.cleanup].reverse()) {
      try {
        await c();
      } catch (e) {
        this.kernel.logger.warn(`cleanup failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    this.runtime.remove();
  }
}

/** Fail closed, out loud: every degraded layer is one warning line; under --strict, an error. */
function announceWarnings(kernel: Kernel, plan: LaunchPlan): void {
  const [first] = plan.warnings;
  if (first && kernel.options.strict) throw errors.layerUnavailable(first.layer, first.message);
  for (const w of plan.warnings) kernel.logger.warn(`${w.layer}: ${w.message}`);
}

/** Resolves the policy, activates the layers, prepares the plan and starts the host services. */
export async function createSandbox(options: SandboxOptions): Promise<Sandbox> {
  const env = options.env ?? process.env;
  const { policy, sources } = loadPolicy({
    cwd: options.cwd ?? process.cwd(),
    home: env.HOME ?? homedir(),
    env,
    settingsFile: options.settingsFile,
    template: options.template,
    inline: options.settings,
  });
  return startSession(options, policy, sources);
}

/** A session for a resolved policy (createSandbox, and the sessions derived by withNetwork). */
async function startSession(options: SandboxOptions, resolved: Policy, sources: readonly PolicySource[]): Promise<Sandbox> {
  const env = options.env ?? process.env;
  const writable = resolved.paths.allowWrite.map((rule) => rule.real);
  const extra = await loadPlugins([...(options.pluginNames ?? []), ...resolved.plugins], resolved.cwd, writable);
  const policy: Policy = { ...resolved, trusted: [...new Set([...resolved.trusted, ...extra.paths, ...(options.trustedPaths ?? [])])] };
  const kernel = new Kernel({
    plugins: [...options.plugins, ...extra.plugins],
    logger: options.logger,
    env,
    options: {
      platform: options.platform ?? process.platform,
      debug: options.debug ?? false,
      monitor: options.monitor ?? false,
      strict: options.strict ?? false,
      ports: options.ports ?? [],
      ...(options.proxyService && { proxyService: options.proxyService }),
    },
  });
  const report = await kernel.activate(policy);
  const runtime = new RuntimeDir();
  const plan = createLaunchPlan(policy, runtime);
  for (const w of kernel.warnings) warn(plan, w.layer, w.message);
  const sandbox = new Sandbox(kernel, policy, sources, report, plan, env, runtime, options);
  try {
    requireCommandLayer(kernel, plan);
    await kernel.hooks.prepare.promise(plan, report);
    // Fail closed: never run a command that no layer wraps.
    if (plan.wrappers.length === 0) throw errors.noSandbox(kernel.options.platform, [...new Set(kernel.plugins.flatMap((p) => p.platforms))]);
    for (const n of plan.notes) kernel.logger.debug(n.layer, n.message);
    announceWarnings(kernel, plan);
    await Promise.all(plan.services.map((s) => s.start()));
    await kernel.hooks.launch.promise(plan);
  } catch (e) {
    await sandbox.close();
    throw e;
  }
  return sandbox;
}
