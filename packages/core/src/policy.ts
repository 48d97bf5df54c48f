/**
 * The resolved policy: settings after `extends`, defaults and path resolution. Plugins only ever
 * see this shape; every path in it is absolute.
 */
import type { FilesystemModel } from './filesystem/model.js';
import type { Settings } from './settings/schema.js';

export type Policy = Omit<Settings, '$schema' | 'extends'> & {
  /** Working directory of the command (absolute, symlinks resolved). */
  readonly cwd: string;
  /**
   * The filesystem rules resolved once (written path, real path, how it was reached, glob): what
   * every layer enforces. `filesystem` lists the same rules as plain values.
   */
  readonly paths: FilesystemModel;
  /** Home directory of the user (absolute). */
  readonly home: string;
  /**
   * What Fence itself reads at start-up (the settings files, third-party plugins, its own
   * installation): the sandbox keeps these read-only, so a command cannot change what the next
   * run loads on the host.
   */
  readonly trusted: readonly string[];
};

/** Where each part of the policy came from (`fence config show`). */
export interface PolicySource {
  /** Dotted field path, e.g. `network.allowedDomains`. */
  readonly field: string;
  /** A file path, `template:<name>`, `defaults:credential-variables`, `defaults:credential-stores`, or `default`. */
  readonly from: string;
}
