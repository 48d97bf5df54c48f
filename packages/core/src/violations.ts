/**
 * The violation stream: every decision of every layer (proxy, eBPF, audit, log stream) as one
 * typed event, whatever its source. The CLI renders it (-m, -d, --json); library users subscribe.
 */
/** The layer, or its part, that saw it (`http`, `socks`, `command`, a plugin's own names): the `[fence:<source>]` of -m. */
export type ViolationSource = string;
export type ViolationAction = 'allow' | 'block';

export interface Violation {
  /** When it happened (ms since the epoch). */
  readonly time: number;
  readonly source: ViolationSource;
  readonly action: ViolationAction;
  /** What was asked for: `example.com:443`, a path, a syscall. */
  readonly target: string;
  /** Process name when known (`curl`), else ''. */
  readonly process: string;
  /** Process id when known, else 0. */
  readonly pid: number;
  /** Why: `not in allowedDomains`, `Read-only file system`, ... */
  readonly reason: string;
  /** Source-specific one-line detail used by the text renderer (e.g. `CONNECT 403 example.com https://example.com:443`). */
  readonly detail?: string;
}

export type ViolationListener = (v: Violation) => void;

export class ViolationStream {
  readonly #listeners = new Set<ViolationListener>();
  readonly #counts = new Map<string, number>();

  emit(v: Violation): void {
    if (v.action === 'block') this.#counts.set(v.source, (this.#counts.get(v.source) ?? 0) + 1);
    for (const l of this.#listeners) l(v);
  }

  /** Subscribe; returns the unsubscribe function. */
  on(listener: ViolationListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Blocked events per source since the stream was created. */
  blockedCounts(): ReadonlyMap<string, number> {
    return this.#counts;
  }
}
