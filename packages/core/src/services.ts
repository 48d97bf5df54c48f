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
}

export const Tokens = {
  Logger: Symbol.for('fence.Logger') as InjectionToken<Logger>,
  Clock: Symbol.for('fence.Clock') as InjectionToken<Clock>,
  Probe: Symbol.for('fence.FeatureProbe') as InjectionToken<FeatureProbe>,
  Violations: Symbol.for('fence.ViolationStream') as InjectionToken<ViolationStream>,
  Options: Symbol.for('fence.KernelOptions') as InjectionToken<KernelOptions>,
} as const;
