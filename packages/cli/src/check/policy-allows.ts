/**
 * Whether the policy itself allows what an attack tries: such an action is reported as allowed by
 * the policy, never as an escape. Each answer is the reason to print, or undefined.
 */
import { isWithin, ruleCovers, type PathRule, type Policy } from '@fence/core';
import { filterTarget } from '@fence/plugin-proxy';

/** The rule (core's model) that names `path` or a directory above it. */
const covering = (path: string, rules: readonly PathRule[]): PathRule | undefined => rules.find((r) => ruleCovers(r, path));

export function writeAllowed(policy: Policy, path: string): string | undefined {
  const { allowWrite, denyWrite } = policy.paths;
  const allowed = covering(path, allowWrite);
  if (!allowed || covering(path, denyWrite)) return undefined;
  return `filesystem.allowWrite has "${policy.filesystem.allowWrite[allowed.index]}"`;
}

export function unixSocketAllowed(policy: Policy, path: string): string | undefined {
  const { allowAllUnixSockets, allowUnixSockets } = policy.network;
  if (allowAllUnixSockets) return 'network.allowAllUnixSockets is set';
  const listed = allowUnixSockets.find((socket) => isWithin(path, socket));
  return listed ? `network.allowUnixSockets has "${listed}"` : undefined;
}

/** The proxies' own decision for host:port (IP literals need no DNS). */
export async function proxyAllows(policy: Policy, host: string, port: number): Promise<string | undefined> {
  const decision = await filterTarget(host, port, policy.network);
  return decision.allowed ? `the proxies allow ${host}:${port}: ${decision.reason}` : undefined;
}
