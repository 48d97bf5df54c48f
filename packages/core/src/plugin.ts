/**
 * The plugin contract. A plugin is one security layer: it says which platforms it serves, probes
 * the machine in `detect()`, and, when active, only taps the kernel's hooks in `apply()`.
 */
import type { Kernel } from './kernel.js';

export type Platform = NodeJS.Platform;

export type AvailabilityStatus = 'available' | 'degraded' | 'absent';

/** One line of the feature report (`fence --linux-features`). */
export interface FeatureLine {
  /** ✓ yes, ○ partial/optional missing, ✗ missing. */
  readonly mark: '✓' | '○' | '✗';
  readonly name: string;
  /** e.g. `0.8.0`, `ABI v7`. */
  readonly value: string;
  /** One-line consequence for the sandbox. */
  readonly consequence: string;
}

export interface Availability {
  readonly status: AvailabilityStatus;
  /** Why it is degraded or absent (shown by -d, the feature report and --strict). */
  readonly reason?: string;
  /**
   * The run's warning while this layer is degraded or absent: what the sandbox loses, and how to
   * get it back. The kernel prints it on every run the layer is wanted (`fence: warning:
   * <name>: <warning>`); without it a degraded or absent layer is reported only by -d.
   */
  readonly warning?: string;
  /** Short summary for the sandbox summary line, e.g. `landlock-v7(wrapper)`. */
  readonly summary?: string;
  readonly features?: readonly FeatureLine[];
  /**
   * Files whose change invalidates this result in the detection cache (the tools found, or the
   * places they were looked for). Without it the result is still re-checked every hour and boot.
   */
  readonly dependsOn?: readonly string[];
  /**
   * What `-m` will not show on this machine for this user, each with how to get it (e.g.
   * `file, exec and connect denials: needs root …`). Printed once at the start of `-m`.
   */
  readonly unseen?: readonly string[];
  /**
   * Re-detect at every start, never from the disk cache: the answer can change without any file
   * changing (a sysctl, a capability, a mount).
   */
  readonly volatile?: boolean;
  /** Machine facts other layers may depend on, e.g. bwrap's `{ netns: false }`. */
  readonly facts?: Readonly<Record<string, string | number | boolean>>;
}

export interface DetectContext {
  readonly platform: Platform;
  /** Whether the user asked for --strict. */
  readonly strict: boolean;
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
  /** Probes the machine. Must not throw: problems are reported as `absent` with a reason. */
  detect(ctx: DetectContext): Promise<Availability>;
  /** Taps the kernel's hooks. Called only when detect() said available or degraded. */
  apply(kernel: Kernel): void;
  /**
   * Whether `--strict` requires this layer for the given policy. Default: required when present
   * on this platform. Return false for optional layers (e.g. the eBPF monitor without -m).
   */
  requiredUnderStrict?(options: { monitor: boolean }): boolean;
}

/** Helper for authors: returns the plugin unchanged but checks its type. */
export const definePlugin = (p: FencePlugin): FencePlugin => p;
