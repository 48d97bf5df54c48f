/** Pure pieces of the HTTP proxy: hop-by-hop headers, request targets, raw replies. */

export const BLOCKED_BODY = 'Connection blocked by network allowlist';
/** The allowlist let the name through; the address it resolves to is the problem. */
export const GUARD_BODY = 'Connection blocked by the address guard';

const HOP_BY_HOP = [
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
];

/**
 * The end-to-end headers of a message, as a flat raw list (`message.rawHeaders` order and case
 * kept): hop-by-hop headers and every header the Connection header names are removed, as are the
 * names in `drop` (e.g. `host`, which the proxy sets itself).
 */
export function endToEndHeaders(raw: readonly string[], drop: readonly string[] = []): string[] {
  const removed = new Set([...HOP_BY_HOP, ...drop]);
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() !== 'connection') continue;
    for (const token of raw[i + 1]!.split(',')) removed.add(token.trim().toLowerCase());
  }
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (!removed.has(raw[i]!.toLowerCase())) out.push(raw[i]!, raw[i + 1]!);
  }
  return out;
}

export interface Authority {
  readonly host: string;
  readonly port: number;
}

/** Parses a CONNECT target `host:port` or `[v6]:port`; the port is required. */
export function parseAuthority(text: string): Authority | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:/?#@[\]]+)):(\d{1,5})$/.exec(text);
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return undefined;
  return { host: m[1] ?? m[2]!, port };
}

export interface ForwardTarget extends Authority {
  /** `host[:port]` for the Host header. */
  readonly hostHeader: string;
  /** Path and query for the request line. */
  readonly path: string;
}

/** Parses an absolute-form `http://host[:port]/path` request target; anything else is undefined. */
export function parseForwardTarget(target: string): ForwardTarget | undefined {
  if (!/^http:\/\/[^/\\]/i.test(target)) return undefined;
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return undefined;
  }
  if (url.hostname === '' || url.username !== '' || url.password !== '') return undefined;
  const port = url.port === '' ? 80 : Number(url.port);
  return { host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port, hostHeader: url.host, path: `${url.pathname}${url.search}` };
}

/** Longest authority and Host value a grant carries (bridge-http.h HTTPFWD_NAME_MAX). */
const GRANT_NAME_MAX = 255;

/**
 * The raw authority of an absolute-URI target the bridge forwards on its own (bridge-http.c accepts
 * exactly this shape: a plain authority, then nothing or a path or query of visible ASCII without
 * `#` or `\`), or undefined: such a request stays with this proxy.
 */
export function grantableAuthority(target: string, hostHeader: string): string | undefined {
  const m = /^http:\/\/([A-Za-z0-9._~:[\]-]+)(?:[/?][\x21\x22\x24-\x5b\x5d-\x7e]*)?$/i.exec(target);
  if (!m || m[1]!.length > GRANT_NAME_MAX || hostHeader.length > GRANT_NAME_MAX || !/^[\x21-\x7e]+$/.test(hostHeader)) return undefined;
  return m[1];
}

const REASONS: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  403: 'Forbidden',
  408: 'Request Timeout',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
};

const reasonPhrase = (status: number): string => REASONS[status] ?? 'Error';

/**
 * Fence's own answers also carry their reason as a header: `curl -I` and clients that show only the
 * head then see why, not just a status. Only the body's first line, as visible ASCII.
 */
export const reasonHeader = (body: string): string => body.split('\n', 1)[0]!.replace(/[^\x20-\x7e]/g, '?');

/** A complete raw HTTP/1.1 reply that closes the connection (for sockets the HTTP server let go of). */
export function rawReply(status: number, body: string): string {
  return (
    `HTTP/1.1 ${status} ${reasonPhrase(status)}\r\n` +
    'Content-Type: text/plain; charset=utf-8\r\n' +
    `X-Fence-Reason: ${reasonHeader(body)}\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    'Connection: close\r\n\r\n' +
    body
  );
}

/**
 * The raw head of a response relayed as is: the status line, the given headers (end-to-end ones,
 * in their received order and case) and `Connection: close`, so the client sends its next request
 * on a new connection (the one this head starts no longer reaches the proxy).
 */
export function closingResponseHead(status: number, message: string, headers: readonly string[]): string {
  let head = `HTTP/1.1 ${status} ${message}\r\n`;
  for (let i = 0; i + 1 < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
  return `${head}Connection: close\r\n\r\n`;
}
