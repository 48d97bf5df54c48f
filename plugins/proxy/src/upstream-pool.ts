/**
 * Keep-alive upstream connections for forwarded HTTP requests: a request reuses an idle connection
 * to the same name and port, so only the first request to a server pays for the name lookup and
 * the connect. Every request is still decided by filterTarget; a reused connection only stands in
 * for the lookup, with the addresses it was decided with (checked by the address guard again), so
 * nothing connects to an address the guard has not passed.
 */
import type { Agent, ClientRequestArgs } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ResolvedAddress } from './filter.js';
import { connectUpstream } from './tunnel.js';

/** Idle pooled connections close after this long: below the 5 s keep-alive of Node and Apache servers. */
const IDLE_POOLED_MS = 4000;

/** What a forwarded request passes to the agent besides the usual request options. */
export interface UpstreamTarget {
  readonly fenceKey: string;
  readonly fenceAddresses: readonly ResolvedAddress[];
}

export interface UpstreamPool {
  readonly agent: Agent;
  /** The request options that select the pool of `host:port` and connect to `addresses`. */
  target(host: string, port: number, addresses: readonly ResolvedAddress[]): UpstreamTarget;
  /** The addresses an idle connection to `host:port` was decided with, if there is one. */
  idleAddresses(host: string, port: number): readonly ResolvedAddress[] | undefined;
}

const keyOf = (host: string, port: number): string => `${host}|${port}`;

/** A pool whose new connections are made by connectUpstream; `opened` sees each of them. */
export function createUpstreamPool(connectTimeoutMs: number, opened: (s: Socket) => void): UpstreamPool {
  // Loaded lazily, like node:http in http-proxy.ts (the CLI's startup snapshot cannot hold it).
  const { Agent: HttpAgent } = process.getBuiltinModule('node:http');
  const decided = new Map<string, readonly ResolvedAddress[]>();
  class UpstreamAgent extends HttpAgent {
    override getName(options?: ClientRequestArgs): string {
      return (options as UpstreamTarget).fenceKey;
    }

    // Answers through the callback (the agent's documented asynchronous form).
    override createConnection(options: ClientRequestArgs, done?: (err: Error | null, stream: Duplex) => void): undefined {
      const { fenceKey, fenceAddresses } = options as UpstreamTarget;
      connectUpstream(fenceAddresses, Number(options.port), connectTimeoutMs).then(
        (socket) => {
          decided.set(fenceKey, fenceAddresses);
          opened(socket);
          done?.(null, socket);
        },
        (e: Error) => done?.(e, undefined as unknown as Duplex),
      );
      return undefined;
    }
  }
  const agent = new UpstreamAgent({ keepAlive: true, timeout: IDLE_POOLED_MS, scheduling: 'lifo' });
  return {
    agent,
    target: (host, port, addresses) => ({ fenceKey: keyOf(host, port), fenceAddresses: addresses }),
    idleAddresses: (host, port) => {
      const key = keyOf(host, port);
      if (agent.freeSockets[key]?.length) return decided.get(key);
      if (!agent.sockets[key]?.length) decided.delete(key);
      return undefined;
    },
  };
}
