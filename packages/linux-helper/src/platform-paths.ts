/**
 * Linux's paths for read isolation (core's readableRoots), shared by the Linux layers that enforce
 * it (bwrap's mounts, the Landlock ruleset); the bwrap plugin registers them for the session
 * (Tokens.PlatformPaths), where `fence config show` and the docs ask for them.
 */
import type { PlatformPaths } from '@fence/core';

export const LINUX_PATHS: PlatformPaths = {
  // The Go Fence's list; missing ones are skipped.
  system: ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32', '/etc', '/run', '/sys', '/var/lib', '/var/cache'],
  // bwrap makes these itself: a fresh /dev, the sandbox's /proc, the private /tmp.
  sandbox: ['/dev', '/proc', '/tmp'],
};
