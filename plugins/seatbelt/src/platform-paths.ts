/**
 * macOS's paths for read isolation (core's readableRoots): the profile allows reads beneath them;
 * the plugin registers them for the session (Tokens.PlatformPaths), where `fence config show` and
 * the docs ask for them.
 */
import type { PlatformPaths } from '@fence/core';

export const DARWIN_PATHS: PlatformPaths = {
  system: ['/usr', '/bin', '/sbin', '/System', '/Library', '/etc', '/private/etc', '/var/db', '/private/var/db'],
  // The devices every program opens (the profile narrows writes to a few of them).
  sandbox: ['/dev'],
};
