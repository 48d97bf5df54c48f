// STUB: replaced by the settings implementation (discovery, JSONC, extends, templates, paths).
import type { Policy, PolicySource } from '../policy.js';
import { SettingsSchema, type SettingsInput } from './schema.js';

export interface LoadOptions {
  readonly cwd: string;
  readonly home: string;
  readonly env: NodeJS.ProcessEnv;
  readonly settingsFile?: string;
  readonly template?: string;
  readonly inline?: SettingsInput;
}

export interface LoadedPolicy {
  readonly policy: Policy;
  readonly sources: readonly PolicySource[];
  /** Settings files read, in extends order (root first). */
  readonly files: readonly string[];
}

export function loadPolicy(opts: LoadOptions): LoadedPolicy {
  const { $schema: _s, extends: _e, ...settings } = SettingsSchema.parse(opts.inline ?? {});
  return { policy: { ...settings, cwd: opts.cwd, home: opts.home }, sources: [], files: [] };
}
