/**
 * The kernel: registers plugins, runs detection for this platform, activates the available
 * layers and hands them the hooks and services. It knows nothing of any operating system.
 *
 * Each session's services live in a child container of their own: the kernel's (Tokens), those
 * the platform's plugins register when the session is created (FencePlugin.register), and those
 * plugins register under their own tokens while they run (the Linux helper plan). Fence uses no
 * decorators; tsyringe refuses to load without the Reflect polyfill, hence the import.
 */
import 'reflect-metadata';
import { container as rootContainer, type DependencyContainer, type InjectionToken } from 'tsyringe';
import { errors } from './errors.js';
import type { Availability, DetectionReport } from './availability.js';
import { createHooks, type KernelHooks } from './hooks.js';
import type { LayerWarning } from './plan.js';
import type { FencePlugin, PluginHost } from './plugin.js';
import type { Policy } from './policy.js';
import { processProbe } from './probe.js';
import { Tokens, type KernelOptions, type Logger, type PlatformPaths } from './services.js';
import { ViolationStream } from './violations.js';
import { DetectionCache } from './detection-cache.js';
import { stderrLogger } from './logger.js';

/**
 * Detection results are cached per process, by plugin: a second session on the same machine pays
 * nothing. detect() depends on the machine only (see FencePlugin.detect).
 */
const detectionCache = new WeakMap<FencePlugin, Promise<Availability>>();

export interface KernelInit {
  readonly plugins: readonly FencePlugin[];
  readonly options: KernelOptions;
  /** Services to use instead of the defaults (tests, embedding hosts). */
  readonly logger?: Logger;
  /** Cache detection results on disk across processes (default true). */
  readonly cacheDetection?: boolean;
  /** Environment that keys the detection cache (default process.env). */
  readonly env?: NodeJS.ProcessEnv;
}

/** One session's kernel: its hooks, its services (a child container) and its active plugins. */
export class Kernel implements PluginHost {
  readonly hooks: KernelHooks = createHooks();
  readonly container: DependencyContainer;
  readonly options: KernelOptions;
  readonly plugins: readonly FencePlugin[];
  #report: DetectionReport | undefined;
  #active: FencePlugin[] = [];
  #warnings: LayerWarning[] = [];
  readonly #cache: DetectionCache | undefined;

  constructor(init: KernelInit) {
    this.options = init.options;
    this.plugins = init.plugins;
    this.#cache = init.cacheDetection === false ? undefined : new DetectionCache(init.env ?? process.env, this.plugins.map((p) => p.name).join(','));
    this.container = rootContainer.createChildContainer();
    this.container.register(Tokens.Options, { useValue: init.options });
    this.container.register(Tokens.Logger, { useValue: init.logger ?? stderrLogger(init.options.debug) });
    this.container.register(Tokens.Clock, { useValue: { now: () => Date.now() } });
    this.container.register(Tokens.Probe, { useValue: processProbe });
    this.container.register(Tokens.Violations, { useValue: new ViolationStream() });
    for (const p of this.platformPlugins) {
      try {
        p.register?.(this.container);
      } catch (e) {
        throw errors.pluginFailed(p.name, 'register', e);
      }
    }
  }

  resolve<T>(token: InjectionToken<T>): T {
    return this.container.resolve(token);
  }

  get logger(): Logger {
    return this.resolve(Tokens.Logger);
  }

  /**
   * The platform's paths for read isolation, as its sandbox layer registered them
   * (FencePlugin.register); undefined when no plugin given serves this platform.
   */
  get platformPaths(): PlatformPaths | undefined {
    return this.container.isRegistered(Tokens.PlatformPaths) ? this.resolve(Tokens.PlatformPaths) : undefined;
  }

  get violations(): ViolationStream {
    return this.resolve(Tokens.Violations);
  }

  /** Plugins for this platform, in registration order. */
  get platformPlugins(): FencePlugin[] {
    return this.plugins.filter((p) => p.platforms.includes(this.options.platform));
  }

  get active(): readonly FencePlugin[] {
    return this.#active;
  }

  /** Wanted layers that detection found degraded or absent, with the warning they asked for. */
  get warnings(): readonly LayerWarning[] {
    return this.#warnings;
  }

  /** Platform plugins this run wants (the eBPF monitor only with -m, ...). */
  get wantedPlugins(): FencePlugin[] {
    const o = { monitor: this.options.monitor, debug: this.options.debug };
    return this.platformPlugins.filter((p) => p.wanted?.(o) ?? true);
  }

  /**
   * Runs detect() of every wanted platform plugin, in parallel; results are cached in this
   * process and, unless disabled, on disk across processes (see DetectionCache).
   */
  async detect(): Promise<DetectionReport> {
    if (this.#report) return this.#report;
    const wanted = this.wantedPlugins;
    const names = wanted.map((p) => p.name);
    const disk = this.#cache?.load(names);
    const entries = await Promise.all(
      wanted.map(async (p) => {
        const cached = disk?.get(p.name);
        if (cached) return [p.name, cached] as const;
        let pending = detectionCache.get(p);
        if (!pending) {
          pending = p.detect().catch((e: unknown): Availability => ({
            status: 'absent',
            reason: `detection failed: ${e instanceof Error ? e.message : String(e)}`,
          }));
          detectionCache.set(p, pending);
        }
        return [p.name, await pending] as const;
      }),
    );
    this.#report = new Map(entries);
    // Store when something was probed that the cache could have answered.
    if (wanted.some((p) => !disk?.has(p.name) && !this.#report!.get(p.name)?.volatile)) this.#cache?.store(this.#report);
    return this.#report;
  }

  /** Detects, enforces --strict, applies the active plugins and runs the detect hook. */
  async activate(policy: Policy): Promise<DetectionReport> {
    const report = await this.detect();
    for (const p of this.wantedPlugins) {
      const a = report.get(p.name)!;
      const required = p.requiredUnderStrict?.({ monitor: this.options.monitor }) ?? true;
      if (p.essential && a.status === 'absent') throw errors.layerMissing(p.name, a.reason);
      if (this.options.strict && required && a.status !== 'available') {
        throw errors.layerUnavailable(p.name, a.reason ?? a.status);
      }
      if (a.status !== 'available' && a.warning) this.#warnings.push({ layer: p.name, message: a.warning });
      if (a.status === 'absent') {
        this.logger.debug('kernel', `${p.name}: not active (${a.reason ?? 'absent'})`);
        continue;
      }
      if (a.status === 'degraded') this.logger.debug('kernel', `${p.name}: degraded (${a.reason ?? 'unknown'})`);
      try {
        p.apply(this);
      } catch (e) {
        throw errors.pluginFailed(p.name, 'apply', e);
      }
      this.#active.push(p);
    }
    await this.hooks.detect.promise(report, policy);
    return report;
  }
}
