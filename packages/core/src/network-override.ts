/**
 * Per-command network allowlists in one session (`sandbox.run(cmd, { network })`). A command with
 * its own allowlist runs in a session derived from this one: the same policy except the domains,
 * and proxies of its own. The proxies filter by who connects, and a command reaches only its own
 * session's proxies (their sockets are never mounted in any sandbox), so a command cannot borrow
 * another's allowlist.
 */
import { z } from 'zod';
import { errors } from './errors.js';
import type { Policy } from './policy.js';
import { NetworkSchema } from './settings/schema.js';

const NetworkOverrideSchema = z.strictObject({
  allowedDomains: NetworkSchema.shape.allowedDomains.describe("The command's allowlist; it replaces the session's."),
  deniedDomains: NetworkSchema.shape.deniedDomains.describe("Blocked for the command, besides the session's deniedDomains."),
});

export type NetworkOverride = z.input<typeof NetworkOverrideSchema>;

/** The policy of a command with its own allowlist, and a key naming that allowlist. */
export function overrideNetwork(policy: Policy, override: NetworkOverride): { policy: Policy; key: string } {
  const parsed = NetworkOverrideSchema.safeParse(override);
  if (!parsed.success) throw errors.settingsInvalid('the network option of run()/exec()', z.prettifyError(parsed.error));
  const allowedDomains = [...new Set(parsed.data.allowedDomains)].sort();
  const deniedDomains = [...new Set([...policy.network.deniedDomains, ...parsed.data.deniedDomains])].sort();
  return {
    policy: { ...policy, network: { ...policy.network, allowedDomains, deniedDomains } },
    key: JSON.stringify([allowedDomains, deniedDomains]),
  };
}
