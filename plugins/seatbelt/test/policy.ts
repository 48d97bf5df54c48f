/** A resolved policy for tests, built through the real settings schema. */
import { SettingsSchema, type Policy, type SettingsInput } from '@fence/core';

export function testPolicy(settings: SettingsInput = {}): Policy {
  const { $schema: _s, extends: _e, ...rest } = SettingsSchema.parse(settings);
  return { ...rest, cwd: '/work', home: '/home/user' };
}
