/**
 * The plugin contract. A plugin is one security layer: it says which platforms it serves, probes
 * the machine in `detect()`, and, when active, only taps the hooks of the session in `apply()`.
 * Types only: the kernel implements PluginHost, and nothing here imports it.
 */
import type { DependencyContainer, InjectionToken } from 'tsyringe';
import type { Availability, Platform } from './availability.js';
import type { KernelHooks } from './hooks.js';
import type { KernelOptions, Logger } from './services.js';
import type { ViolationStream } from './violations.js';

export type { Availability, AvailabilityStatus, DetectionReport, FeatureLine, Platform } from './availability.js';

/** What apply() gets: one session's hooks, options and services. */
export interface PluginHost {
  readonly hooks: KernelHooks;
  readonly options: KernelOptions;
  /**
   * The session's services, a child container of its own: the kernel's (Tokens) and those the
   * plugins register under tokens of their own (e.g. the Linux helper plan, see @fence/linux-helper).
   */
  readonly container: DependencyContainer;
  /** A service of this session by token: `resolve(Tokens.Logger)`. */
  resolve<T>(token: InjectionToken<T>): T;
  readonly logger: Logger;
  readonly violations: ViolationStream;
}

export interface FencePlugin {
  /** Package-style name, e.g. `fence:bwrap`. */
  readonly name: string;
  readonly platforms: readonly Platform[];
  /** What the layer provides, e.g. ['filesystem', 'namespaces']. */
  readonly provides: readonly string[];
  /** The sandbox cannot exist without this layer: when absent, its reason is fatal (e.g. bwrap). */
  readonly essential?: boolean;
  /**
   * Whether this layer is wanted for these options (default: always). An unwanted layer is not
   * detected at all, so a run pays nothing for it (e.g. the eBPF monitor without -m).
   */
  wanted?(options: { monitor: boolean; debug: boolean }): boolean;
  /**
   * Registers the services this layer offers every session on its platform, whatever detection
   * finds: facts of the platform, not of the machine (the sandbox layer's Tokens.PlatformPaths).
   * Called when the session is created, before detect(); must not probe or start anything.
   */
  register?(services: DependencyContainer): void;
  /**
   * Probes the machine. Must not throw: problems are reported as `absent` with a reason. The
   * answer may depend on the machine only (it is cached per plugin, in this process and on disk).
   */
  detect(): Promise<Availability>;
  /** Taps the session's hooks. Called only when detect() said available or degraded. */
  apply(host: PluginHost): void;
  /**
   * Whether `--strict` requires this layer for the given policy. Default: required when present
   * on this platform. Return false for optional layers (e.g. the eBPF monitor without -m).
   */
  requiredUnderStrict?(options: { monitor: boolean }): boolean;
}

/** Helper for authors: returns the plugin unchanged but checks its type. */
export const definePlugin = (p: FencePlugin): FencePlugin => p;
