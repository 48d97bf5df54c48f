/**
 * Services the kernel registers in each session's container. Plugins resolve them with the
 * explicit tokens below (never by class); tests and embedding hosts pass their own Logger
 * (KernelInit.logger).
 */
import type { InjectionToken } from 'tsyringe';

export type { InjectionToken } from 'tsyringe';
import type { ViolationStream } from './violations.js';

export interface Logger {
  /** `-d` output: `[fence:<layer>] message`. */
  debug(layer: string, message: string): void;
  /** Always shown: `fence: warning: message` (a degraded layer). */
  warn(message: string): void;
  /** Always shown: `fence: message` (something the user must know happened, e.g. a limit stopped the command). */
  notice(message: string): void;
  readonly debugEnabled: boolean;
}

export interface Clock {
  now(): number;
}

export interface ProbeResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Set when the program could not be started (ENOENT, EACCES). */
  readonly error?: string;
}

/** Machine probes for detect(). Results are cached for the life of the process. */
export interface FeatureProbe {
  /** Absolute path of an executable on PATH, or undefined. */
  which(program: string): string | undefined;
  /** Runs argv (no shell) with a timeout; cached by argv. */
  run(argv: readonly string[], timeoutMs?: number): ProbeResult;
}

export interface KernelOptions {
  readonly platform: NodeJS.Platform;
  readonly debug: boolean;
  /** -m: show violations. */
  readonly monitor: boolean;
  readonly strict: boolean;
  /** -p: ports of the sandbox exposed on the host's 127.0.0.1. */
  readonly ports: readonly number[];
  /** Set by a launcher whose runs may be replayed without Node (the CLI's plan cache): see ProxyServiceOptions. */
  readonly proxyService?: ProxyServiceOptions;
}

/**
 * A per-user proxy service that outlives one run, so a later run with the same network policy
 * reaches the proxies without starting them (plugins/proxy/src/service*.ts).
 */
export interface ProxyServiceOptions {
  /** The user's service directory (0700, this user's, never visible inside a sandbox). */
  readonly root: string;
  /** Starts the service: this program with these arguments (it reads its request on stdin). */
  readonly command: readonly string[];
  /** What identifies Fence's build: a service of another build is another service. */
  readonly build: string;
  /** How long a service no run holds a lease on lives (default 60 s). */
  readonly idleMs?: number;
  /** Told why a run could not use the service (it then starts its own proxies). */
  readonly unavailable?: (why: string) => void;
}

/**
 * The paths of a platform that read isolation keeps readable (filesystem/readable.ts), registered
 * by the platform's sandbox layer: core names none of them.
 */
export interface PlatformPaths {
  /** Readable under defaultDenyRead, left out by strictDenyRead; those missing on the machine are skipped. */
  readonly system: readonly string[];
  /** Made by the sandbox itself, or opened by every program: readable whatever the policy. */
  readonly sandbox: readonly string[];
}

export const Tokens = {
  Logger: Symbol.for('fence.Logger') as InjectionToken<Logger>,
  Clock: Symbol.for('fence.Clock') as InjectionToken<Clock>,
  Probe: Symbol.for('fence.FeatureProbe') as InjectionToken<FeatureProbe>,
  Violations: Symbol.for('fence.ViolationStream') as InjectionToken<ViolationStream>,
  Options: Symbol.for('fence.KernelOptions') as InjectionToken<KernelOptions>,
  /** Registered by the platform's sandbox layer in FencePlugin.register. */
  PlatformPaths: Symbol.for('fence.PlatformPaths') as InjectionToken<PlatformPaths>,
} as const;
