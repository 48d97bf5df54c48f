/**
 * The one decision both proxies make for a requested host and port (SPEC §3): deniedDomains
 * blocks, allowedDomains allows, anything else is blocked; an allowed name is then resolved here,
 * every address it resolves to is checked by the address guard, and the caller connects to
 * exactly those addresses. Nothing resolves the name a second time, so a DNS answer cannot change
 * between the check and the connection (rebinding).
 */
import { lookup } from 'node:dns/promises';
import { canonicalHost, decideDomain, parseUpstreamProxy, type UpstreamProxy } from '@fence/core';
import { guardAddress, parseIp, type AddressRules } from './address-guard.js';

export interface NetworkRules extends AddressRules {
  readonly deniedDomains: readonly string[];
  /** "proxy": a name no list decides goes to `upstreamProxy` instead of being blocked. */
  readonly defaultAction?: 'deny' | 'proxy';
  readonly upstreamProxy?: string;
}

export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

/** Resolves a host name to every address it has. */
export type Resolver = (host: string) => Promise<readonly ResolvedAddress[]>;

export const systemResolver: Resolver = async (host) =>
  (await lookup(host, { all: true, verbatim: true })).map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));

/**
 * Why a target was refused. `denied`, `not-allowed` and `local-address` are the policy's blocks
 * (violations); `unresolved` and `bad-target` are failures of an otherwise allowed request.
 */
export type BlockCode = 'denied' | 'not-allowed' | 'local-address' | 'unresolved' | 'bad-target';

export type FilterDecision =
  | {
      readonly allowed: true;
      readonly host: string;
      readonly port: number;
      /** Connect to these, in order; never to anything else. */
      readonly addresses: readonly ResolvedAddress[];
      readonly reason: string;
      /** Set for a name no list decides under defaultAction "proxy": go through this proxy, not to `addresses`. */
      readonly upstream?: UpstreamProxy;
    }
  | {
      readonly allowed: false;
      readonly host: string;
      readonly port: number;
      readonly code: BlockCode;
      readonly reason: string;
    };

export const isPolicyBlock = (d: FilterDecision): boolean =>
  !d.allowed && d.code !== 'unresolved' && d.code !== 'bad-target';

/** The domain part of the decision alone: no DNS, no address check. */
export function decideHost(host: string, rules: NetworkRules): { allowed: boolean; code?: 'denied' | 'not-allowed'; reason: string } {
  // An IP literal is allowed only when listed verbatim: "*.0.0.1" must not open 127.0.0.1.
  const literal = parseIp(host) !== undefined;
  const allowed = literal ? rules.allowedDomains.filter((p) => !p.startsWith('*.')) : rules.allowedDomains;
  switch (decideDomain(host, allowed, rules.deniedDomains)) {
    case 'allow':
      return { allowed: true, reason: 'allowed by network.allowedDomains' };
    case 'deny-listed':
      return { allowed: false, code: 'denied', reason: 'denied by network.deniedDomains' };
    case 'not-allowed':
      return { allowed: false, code: 'not-allowed', reason: 'not in network.allowedDomains' };
  }
}

function errorCode(e: unknown): string {
  return (e as NodeJS.ErrnoException | undefined)?.code ?? (e instanceof Error ? e.message : String(e));
}

/** Decides whether the proxies may connect to `host:port` and, if so, to which addresses. */
export async function filterTarget(
  rawHost: string,
  port: number,
  rules: NetworkRules,
  resolve: Resolver = systemResolver,
): Promise<FilterDecision> {
  const host = canonicalHost(rawHost.replace(/^\[(.*)\]$/, '$1'));
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    return { allowed: false, host, port, code: 'bad-target', reason: `port ${port} is not 1..65535` };
  }
  if (host.length === 0) return { allowed: false, host, port, code: 'bad-target', reason: 'empty host name' };
  const domain = decideHost(host, rules);
  const forward = domain.code === 'not-allowed' && rules.defaultAction === 'proxy' && rules.upstreamProxy !== undefined;
  if (!domain.allowed && !forward) return { allowed: false, host, port, code: domain.code!, reason: domain.reason };

  const bytes = parseIp(host);
  let addresses: readonly ResolvedAddress[];
  if (bytes) {
    addresses = [{ address: host, family: bytes.length === 4 ? 4 : 6 }];
  } else {
    try {
      addresses = await resolve(host);
    } catch (e) {
      // A forwarded name the host cannot resolve is the upstream's to resolve (a proxy that alone has DNS).
      if (forward) return forwarded(host, port, rules.upstreamProxy!);
      return { allowed: false, host, port, code: 'unresolved', reason: `cannot resolve ${host} (${errorCode(e)})` };
    }
    if (addresses.length === 0) return forward ? forwarded(host, port, rules.upstreamProxy!) : { allowed: false, host, port, code: 'unresolved', reason: `${host} has no addresses` };
  }
  // One bad address blocks the name: a mixed public/private answer is how rebinding starts.
  for (const a of addresses) {
    const verdict = guardAddress(a.address, rules);
    if (!verdict.allowed) {
      const reason = bytes ? `${host} is ${verdict.reason}` : `${host} resolves to ${verdict.reason}`;
      return { allowed: false, host, port, code: 'local-address', reason };
    }
  }
  return forward ? forwarded(host, port, rules.upstreamProxy!) : { allowed: true, host, port, addresses, reason: domain.reason };
}

/** The decision for a name no list decides under defaultAction "proxy" (its addresses passed the guard). */
function forwarded(host: string, port: number, upstreamProxy: string): FilterDecision {
  return { allowed: true, host, port, addresses: [], upstream: parseUpstreamProxy(upstreamProxy), reason: 'not in network.allowedDomains: forwarded to network.upstreamProxy' };
}
