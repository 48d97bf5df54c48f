/**
 * The HTTP proxy: CONNECT tunnels and absolute-URI (`GET http://host/path`) requests, filtered by
 * filterTarget(). Bodies are streamed, never buffered; keep-alive is kept with the client; every
 * malformed request gets a status and a close, never a crash.
 */
import type { IncomingMessage, RequestOptions, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { filterTarget, isPolicyBlock, systemResolver, type FilterDecision, type Resolver } from './filter.js';
import {
  BLOCKED_BODY,
  GUARD_BODY,
  closingResponseHead,
  endToEndHeaders,
  grantableAuthority,
  parseAuthority,
  parseForwardTarget,
  rawReply,
  reasonHeader,
} from './http-message.js';
import { SocketSet, trackedService, type TunnelProxy } from './listener.js';
import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_IDLE_TIMEOUT_MS,
  decisionReporter,
  formatTarget,
  type Decision,
  type ProxyOptions,
} from './options.js';
import { closeAfter, connectUpstream, describeError, grant, handOff, splice, type FdSender } from './tunnel.js';
import { createUpstreamPool } from './upstream-pool.js';
import { connectToUpstream, openTunnel, through, unreachable } from './upstream.js';

export interface HttpProxyOptions extends ProxyOptions {
  /** Time allowed for a request's headers to arrive (default 30 s); then 408 and close. */
  readonly headersTimeoutMs?: number;
  /**
   * Every allowed request is reported with its status (-d shows them): this proxy then relays each
   * one itself, granting none to the bridge (which reports nothing).
   */
  readonly reportEveryRequest?: boolean;
}

/** Request headers beyond this size get 431 and a close. */
export const MAX_HEADER_SIZE = 64 * 1024;

const CONNECTED = Buffer.from('HTTP/1.1 200 Connection Established\r\n\r\n');

const statusOf = (d: FilterDecision): number => (d.allowed ? 200 : d.code === 'bad-target' ? 400 : isPolicyBlock(d) ? 403 : 502);
/** The refusal's real reason: the allowlist said no, or the address guard did (the name was allowed). */
const bodyOf = (d: FilterDecision): string =>
  d.allowed
    ? BLOCKED_BODY
    : isPolicyBlock(d)
      ? `${d.code === 'local-address' ? GUARD_BODY : BLOCKED_BODY}: ${d.reason}\n`
      : `fence: ${formatTarget(d.host, d.port)}: ${d.reason}\n`;

/** A response body at least this long is relayed by the bridge, not by Node (when it can be handed off). */
const HANDOFF_MIN_BODY = 1024 * 1024;

/** A response whose body the bridge can relay as is: length-delimited (its framing is the upstream's own) and long. */
const longBody = (method: string, incoming: IncomingMessage): boolean =>
  method !== 'HEAD' && incoming.headers['transfer-encoding'] === undefined && Number(incoming.headers['content-length']) >= HANDOFF_MIN_BODY;

const EMPTY = new Uint8Array(0);

/**
 * A grant's request is re-sent by the bridge from its first byte, out of the last 256 KiB it sent
 * (bridge.c BRIDGE_BUF): so only a request with a short body (or none) that arrived with little
 * behind it, and no `Expect` (this server may already have answered `100 Continue`).
 */
const GRANT_MAX_BODY = 64 * 1024;
const GRANT_MAX_READ = 128 * 1024;
const grantableRequest = (req: IncomingMessage): boolean =>
  (req.httpVersion === '1.1' || req.httpVersion === '1.0') &&
  req.headers['transfer-encoding'] === undefined &&
  req.headers.expect === undefined &&
  Number(req.headers['content-length'] ?? 0) <= GRANT_MAX_BODY &&
  req.socket.bytesRead <= GRANT_MAX_READ;

/**
 * Hands a forwarded response to the bridge at the other end of `client`: the response head (with
 * `Connection: close`: the connection will no longer reach this proxy) and the body bytes Node has
 * already read are written to the client, then the upstream socket is passed to the bridge, which
 * relays the rest of the body and the client's close natively. The upstream stays paused meanwhile,
 * so these writes converge; a body that completes first is simply finished here.
 */
function handBody(client: Socket, incoming: IncomingMessage, send: FdSender): void {
  const upstream = incoming.socket;
  const both = (): void => {
    client.destroy();
    upstream.destroy();
  };
  let head: Buffer | undefined = Buffer.from(
    closingResponseHead(incoming.statusCode ?? 502, incoming.statusMessage ?? '', endToEndHeaders(incoming.rawHeaders)),
    'latin1',
  );
  const step = (): void => {
    upstream.pause();
    // What the socket holds goes through the parser into `incoming` (read() emits it as 'data').
    while (upstream.readableLength > 0 && upstream.read() !== null);
    const chunks: Buffer[] = head ? [head] : [];
    head = undefined;
    for (let c: Buffer | null; (c = incoming.read() as Buffer | null) !== null; ) chunks.push(c);
    upstream.pause();
    if (incoming.complete) {
      // The upstream connection goes back to the pool: it must flow again for its next request.
      upstream.resume();
      return void client.end(Buffer.concat(chunks));
    }
    if (chunks.length > 0) return void client.write(Buffer.concat(chunks), (err) => (err ? both() : step()));
    if (!handOff(client, upstream, EMPTY, send)) both();
  };
  step();
}

/** A complete plain-text reply (with its length, so clients need no chunked decoding). */
function respond(res: ServerResponse, status: number, body: string, close = false): void {
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'X-Fence-Reason': reasonHeader(body),
    ...(close ? { Connection: 'close' } : {}),
  });
  res.end(body);
}

/** Creates the HTTP proxy; start() listens, stop() closes it and every open connection. */
export function createHttpProxy(options: HttpProxyOptions): TunnelProxy {
  // Loaded here, not at import: a run without network access never needs node:http, and the CLI's
  // startup snapshot cannot hold it (Node 20's http module does not load in the snapshot builder).
  const { createServer, request } = process.getBuiltinModule('node:http');
  const connectTimeout = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const idleTimeout = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  const headersTimeout = options.headersTimeoutMs ?? 30_000;
  const report = decisionReporter('http', options);
  const sockets = new SocketSet();
  const pool = createUpstreamPool(connectTimeout, (s) => sockets.add(s));
  const resolve = options.resolve ?? systemResolver;
  let handoff: FdSender | undefined;

  // Every answer Fence itself refused with (403, 400, 502) is a block, shown by -m with its reason.
  const decided = (method: string, url: string, d: FilterDecision, status: number, reason = d.reason, refused = !d.allowed): void => {
    const action: Decision['action'] = refused ? 'block' : 'allow';
    report({ action, host: d.host, port: d.port, reason, detail: `${method} ${status} ${d.host} ${url}${refused ? ` (${reason})` : ''}` });
  };

  async function tunnel(req: IncomingMessage, client: Socket, head: Buffer): Promise<void> {
    client.on('error', () => client.destroy());
    const target = parseAuthority(req.url ?? '');
    if (!target) return closeAfter(client, rawReply(400, 'fence: CONNECT needs a host:port target\n'));
    const url = `https://${formatTarget(target.host, target.port)}`;
    const d = await filterTarget(target.host, target.port, options.rules, options.resolve);
    if (!d.allowed) {
      decided('CONNECT', url, d, statusOf(d));
      return closeAfter(client, rawReply(statusOf(d), bodyOf(d)));
    }
    let upstream: Socket;
    try {
      upstream = await openTunnel(d, connectTimeout);
    } catch (e) {
      decided('CONNECT', url, d, 502, unreachable(d, e), true);
      return closeAfter(client, rawReply(502, `fence: cannot connect to ${formatTarget(d.host, d.port)}${through(d)}: ${describeError(e)}\n`));
    }
    sockets.add(upstream);
    decided('CONNECT', url, d, 200);
    if (client.destroyed) return void upstream.destroy();
    if (head.length === 0 && handoff && handOff(client, upstream, CONNECTED, handoff)) return;
    client.write(CONNECTED);
    if (head.length > 0) upstream.write(head);
    splice(client, upstream, idleTimeout);
  }

  /**
   * Hands an allowed request, and its connection's later requests for the same authority, to the
   * bridge (see grant in tunnel.ts). Returns the upstream socket it connected when the handoff did
   * not happen (the caller relays the request over it), or undefined when it did or answered itself.
   */
  async function grantToBridge(
    req: IncomingMessage,
    res: ServerResponse,
    d: FilterDecision & { allowed: true },
    authority: string,
    hostHeader: string,
    send: FdSender,
    granted: () => void,
  ): Promise<Socket | undefined> {
    const method = req.method ?? 'GET';
    const url = req.url ?? '';
    let upstream: Socket;
    try {
      upstream = await connectUpstream(d.addresses, d.port, connectTimeout);
    } catch (e) {
      decided(method, url, d, 502, unreachable(d, e), true);
      req.resume();
      respond(res, 502, `fence: cannot connect to ${formatTarget(d.host, d.port)}: ${describeError(e)}\n`);
      return undefined;
    }
    sockets.add(upstream);
    if (res.destroyed) return void upstream.destroy();
    if (!grant(req.socket, upstream, authority, hostHeader, send)) return upstream;
    granted();
    report({ action: 'allow', host: d.host, port: d.port, reason: d.reason, detail: `${method} bridge ${d.host} ${url} (later requests for ${authority} on this connection too)` });
    return undefined;
  }

  /** `settleFirst`: given for a connection's first request, told whether it was granted to the bridge. */
  async function forward(req: IncomingMessage, res: ServerResponse, settleFirst?: (granted: boolean) => void): Promise<void> {
    const method = req.method ?? 'GET';
    const url = req.url ?? '';
    const target = parseForwardTarget(url);
    if (!target) {
      return respond(res, 400, 'fence: this is a proxy; send an absolute http:// URI, or CONNECT host:port for https\n', true);
    }
    // An idle connection to the same name and port stands in for the lookup (see upstream-pool.ts).
    const lookup: Resolver = async (host) => pool.idleAddresses(host, target.port) ?? resolve(host);
    const d = await filterTarget(target.host, target.port, options.rules, lookup);
    if (!d.allowed) {
      decided(method, url, d, statusOf(d));
      req.resume();
      return respond(res, statusOf(d), bodyOf(d));
    }
    if (res.destroyed) return;
    // The first request of a connection (the bridge's offset 0) can be granted to the bridge.
    const send = settleFirst && !d.upstream && !options.reportEveryRequest && grantableRequest(req) ? handoff : undefined;
    const authority = send ? grantableAuthority(url, target.hostHeader) : undefined;
    const connectedForGrant =
      send && settleFirst && authority !== undefined ? await grantToBridge(req, res, d, authority, target.hostHeader, send, () => settleFirst(true)) : undefined;
    if (authority !== undefined && connectedForGrant === undefined) return;
    let connected = false;
    let handed = false;
    // Forwarded (defaultAction "proxy"): to the upstream proxy itself, which gets the absolute URI
    // as any proxy would; not pooled, as the pool's connections go to the decided addresses.
    let viaUpstream: Socket | undefined;
    if (d.upstream) {
      try {
        viaUpstream = await connectToUpstream(d.upstream, connectTimeout);
      } catch (e) {
        decided(method, url, d, 502, unreachable(d, e), true);
        req.resume();
        return respond(res, 502, `fence: cannot connect to ${formatTarget(d.host, d.port)}${through(d)}: ${describeError(e)}\n`);
      }
      sockets.add(viaUpstream);
      if (res.destroyed) return void viaUpstream.destroy();
    }
    const direct = viaUpstream ?? connectedForGrant;
    const auth = d.upstream?.authorization ? ['Proxy-Authorization', d.upstream.authorization] : [];
    const outgoing = request({
      ...(direct ? { createConnection: () => direct } : { agent: pool.agent, ...pool.target(d.host, d.port, d.addresses) }),
      host: d.host,
      port: d.port,
      method,
      path: d.upstream ? url : target.path,
      headers: [...endToEndHeaders(req.rawHeaders, ['host']), 'Host', target.hostHeader, ...auth],
      setHost: false,
      maxHeaderSize: MAX_HEADER_SIZE,
    } as RequestOptions);
    outgoing.on('socket', () => (connected = true));
    outgoing.on('response', (incoming) => {
      decided(method, url, d, incoming.statusCode ?? 0);
      incoming.on('error', () => handed || res.destroy());
      incoming.on('aborted', () => handed || res.destroy());
      if (handoff && !direct && req.complete && outgoing.writableFinished && longBody(method, incoming)) {
        handed = true;
        return handBody(req.socket, incoming, handoff);
      }
      res.writeHead(incoming.statusCode ?? 502, incoming.statusMessage, endToEndHeaders(incoming.rawHeaders));
      incoming.pipe(res);
    });
    outgoing.on('error', (e) => {
      if (handed) return;
      if (res.headersSent || res.destroyed) return void res.destroy();
      decided(method, url, d, 502, unreachable(d, e), true);
      req.resume();
      const where = `${formatTarget(d.host, d.port)}${through(d)}`;
      respond(res, 502, connected ? `fence: ${where} failed: ${describeError(e)}\n` : `fence: cannot connect to ${where}: ${describeError(e)}\n`, connected);
    });
    res.on('close', () => {
      if (!res.writableFinished && !handed) outgoing.destroy();
    });
    req.pipe(outgoing);
  }

  const server = createServer({
    maxHeaderSize: MAX_HEADER_SIZE,
    headersTimeout: headersTimeout,
    requestTimeout: 0,
    keepAliveTimeout: 30_000,
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(headersTimeout / 2))),
  });
  server.timeout = idleTimeout;
  // A client that half-closes after its request (`printf 'GET …' | socat -t3 -`) still gets the answer.
  (server as typeof server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
  // Sockets with a response under way: a parse error there must not write a second reply into it.
  const answering = new WeakSet<Socket>();
  // Whether a connection's first request was granted to the bridge: the bridge then answers the
  // requests behind it (or gives them back on a new connection), so they are not this proxy's to
  // decide or relay (no request is decided twice, nor sent upstream twice).
  const grantedAway = new WeakMap<Socket, Promise<boolean>>();
  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    // A CONNECT pipelined behind a request the parser already passed on: when that request is
    // granted, the bridge gives this CONNECT back after its answer, and it is decided there.
    const first = grantedAway.get(client);
    const open = (): Promise<void> => tunnel(req, client, head);
    (first ? first.then((granted) => (granted ? undefined : open())) : open()).catch(() => client.destroy());
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    answering.add(req.socket);
    res.once('close', () => answering.delete(req.socket));
    const first = grantedAway.get(req.socket);
    if (first === undefined) {
      let settle: (granted: boolean) => void = () => undefined;
      grantedAway.set(req.socket, new Promise<boolean>((r) => (settle = r)));
      return void forward(req, res, settle)
        .catch(() => res.destroy())
        .finally(() => settle(false));
    }
    first.then((granted) => (granted ? undefined : forward(req, res))).catch(() => res.destroy());
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    if (err.code === 'ECONNRESET' || err.code === 'EPIPE') return void socket.destroy();
    // Met while a request is answered: no second reply goes into its stream. When that request is
    // granted, the bridge gives these bytes back after its answer (and they get their status then);
    // until the grant is settled the socket stays, as the bridge needs it passed.
    const first = grantedAway.get(socket);
    if (answering.has(socket)) return void (first ?? Promise.resolve(false)).finally(() => socket.destroy());
    closeAfter(socket, rawReply(status, `fence: ${err.code ?? 'bad request'}\n`));
  });
  // Assigned, not spread: openSockets is a getter.
  return Object.assign(trackedService('http-proxy', server, options.listen, sockets), { enableHandoff: (send: FdSender) => void (handoff = send) });
}
