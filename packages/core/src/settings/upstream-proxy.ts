/**
 * `network.upstreamProxy`: an HTTP proxy (`http://[user:password@]host[:port]`) that receives the
 * requests no list decides when `network.defaultAction` is "proxy". Pure: the schema validates
 * with it and the proxies parse with it, so both agree on one reading.
 */

export interface UpstreamProxy {
  /** Host name or IP literal (IPv6 without brackets). */
  readonly host: string;
  readonly port: number;
  /** `Basic …` for the URL's user and password, sent as Proxy-Authorization; absent without them. */
  readonly authorization?: string;
  /** The URL without its password, for messages. */
  readonly display: string;
}

/** Why `value` is not a usable upstream proxy URL, or undefined when it is. */
export function upstreamProxyProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `"${value}" is not a URL; write "http://host:port" (e.g. "http://127.0.0.1:8080")`;
  }
  if (url.protocol !== 'http:') {
    return `"${url.protocol}" is not supported; only an HTTP proxy ("http://host:port") can be the upstream (TLS to the proxy and SOCKS upstreams are not)`;
  }
  if (url.hostname === '') return 'names no host; write "http://host:port"';
  if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '') {
    return `"${value}" has a path, query or fragment; write only "http://host:port"`;
  }
  return undefined;
}

/** The parts of a valid upstream proxy URL (check with upstreamProxyProblem first). */
export function parseUpstreamProxy(value: string): UpstreamProxy {
  const url = new URL(value);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = url.port === '' ? 80 : Number(url.port);
  const user = decodeURIComponent(url.username);
  const authorization =
    url.username === '' && url.password === ''
      ? undefined
      : `Basic ${Buffer.from(`${user}:${decodeURIComponent(url.password)}`).toString('base64')}`;
  const shown = `http://${url.username === '' ? '' : `${url.username}${url.password === '' ? '' : ':***'}@`}${url.host}`;
  return { host, port, ...(authorization ? { authorization } : {}), display: shown };
}
