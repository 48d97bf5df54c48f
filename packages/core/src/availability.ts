/**
 * What a plugin's detect() finds: the layer's status on this machine, its lines of the feature
 * report, and the facts other layers may read from the detection report.
 */
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

/** What detection found, by plugin name. */
export type DetectionReport = ReadonlyMap<string, Availability>;
