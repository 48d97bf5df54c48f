/** Detection: Seatbelt is there when this is macOS and /usr/bin/sandbox-exec exists. */
import { existsSync } from 'node:fs';
import type { Availability } from '@fence/core';

export const SANDBOX_EXEC = '/usr/bin/sandbox-exec';

export const REASONS = {
  notDarwin: 'Seatbelt exists only on macOS',
  noSandboxExec: `${SANDBOX_EXEC} not found (it ships with macOS; check the system installation)`,
} as const;

export async function detectSeatbelt(platform: NodeJS.Platform = process.platform): Promise<Availability> {
  const reason = platform !== 'darwin' ? REASONS.notDarwin : !existsSync(SANDBOX_EXEC) ? REASONS.noSandboxExec : undefined;
  const features = [
    reason
      ? { mark: '✗' as const, name: 'Seatbelt', value: 'none', consequence: reason }
      : { mark: '✓' as const, name: 'Seatbelt', value: SANDBOX_EXEC, consequence: 'files, network and processes limited by a generated profile' },
  ];
  if (reason) return { status: 'absent', reason, features };
  return { status: 'available', summary: 'seatbelt(fs,network)', features };
}
