/** Options shared by both proxies, and how their decisions reach the violation stream. */
import type { Violation } from '@fence/core';
import type { NetworkRules, Resolver } from './filter.js';
import type { ListenTarget } from './listener.js';

/** Where decisions go: the kernel's ViolationStream, or anything with the same emit(). */
export interface ViolationSink {
  emit(v: Violation): void;
}

export interface ProxyOptions {
  readonly listen: ListenTarget;
  readonly rules: NetworkRules;
  readonly violations?: ViolationSink;
  /** Clock for event times (ms since the epoch). */
  readonly now?: () => number;
  /** Name resolution (default: the system resolver, every address). */
  readonly resolve?: Resolver;
  /** Per address tried (default 10 s). */
  readonly connectTimeoutMs?: number;
  /** A connection or tunnel without traffic for this long is closed (default 300 s; 0 = never). */
  readonly idleTimeoutMs?: number;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
export const DEFAULT_IDLE_TIMEOUT_MS = 300_000;

/** `host:port`, with IPv6 literals in brackets. */
export const formatTarget = (host: string, port: number): string => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);

export interface Decision {
  readonly action: Violation['action'];
  readonly host: string;
  readonly port: number;
  readonly reason: string;
  readonly detail: string;
}

/** Emits each decision of one proxy as a Violation (process and pid are unknown at a proxy). */
export function decisionReporter(source: 'http' | 'socks', options: ProxyOptions): (d: Decision) => void {
  const now = options.now ?? Date.now;
  return (d) =>
    options.violations?.emit({
      time: now(),
      source,
      action: d.action,
      target: formatTarget(d.host, d.port),
      process: '',
      pid: 0,
      reason: d.reason,
      detail: d.detail,
    });
}
