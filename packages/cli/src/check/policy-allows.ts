/**
 * Whether the policy itself allows what an attack tries: such an action is reported as allowed by
 * the policy, never as an escape. Each answer is the reason to print, or undefined.
 */
import type { Policy } from '@fence/core';
import { isWithin, parsePattern } from '@fence/plugin-bwrap';
import { filterTarget } from '@fence/plugin-proxy';

/** Whether one of the (absolute) patterns names `path` or a directory above it. */
function covered(path: string, patterns: readonly string[]): string | undefined {
  return patterns.find((pattern) => {
    const p = parsePattern(pattern);
    if (p.kind === 'path') return isWithin(path, p.path);
    if (p.kind === 'glob') return path.split('/').some((_, i, parts) => i > 0 && p.regex.test(parts.slice(0, i + 1).join('/')));
    return false;
  });
}

export function writeAllowed(policy: Policy, path: string): string | undefined {
  const { allowWrite, denyWrite } = policy.filesystem;
  const allowed = covered(path, allowWrite);
  if (!allowed || covered(path, denyWrite)) return undefined;
  return `filesystem.allowWrite has "${allowed}"`;
}

export function unixSocketAllowed(policy: Policy, path: string): string | undefined {
  const { allowAllUnixSockets, allowUnixSockets } = policy.network;
  if (allowAllUnixSockets) return 'network.allowAllUnixSockets is set';
  const listed = covered(path, allowUnixSockets);
  return listed ? `network.allowUnixSockets has "${listed}"` : undefined;
}

/** The proxies' own decision for host:port (IP literals need no DNS). */
export async function proxyAllows(policy: Policy, host: string, port: number): Promise<string | undefined> {
  const decision = await filterTarget(host, port, policy.network);
  return decision.allowed ? `the proxies allow ${host}:${port}: ${decision.reason}` : undefined;
}
