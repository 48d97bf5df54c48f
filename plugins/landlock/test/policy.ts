/** A resolved policy for tests, built through the real settings schema and core's filesystem model. */
import { resolveFilesystem, SettingsSchema, type Policy, type SettingsInput } from '@fence/core';

export function testPolicy(settings: SettingsInput = {}): Policy {
  const { $schema: _s, extends: _e, ...rest } = SettingsSchema.parse(settings);
  // Resolved as on a machine where these paths are real (no symlink on the way).
  const paths = resolveFilesystem(rest.filesystem, '/work', '/home/user', (p) => p);
  return { ...rest, paths, cwd: '/work', home: '/home/user', trusted: [] };
}
