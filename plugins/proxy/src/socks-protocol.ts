/**
 * SOCKS5 wire format (RFC 1928), pure: incremental parsers that say "need more bytes" on a
 * truncated message, and reply encoding. Only no-authentication and CONNECT are offered.
 */
import { parseIp } from './address-guard.js';

export const SOCKS_VERSION = 5;
export const METHOD_NO_AUTH = 0x00;
export const METHOD_NONE_ACCEPTABLE = 0xff;

export const Reply = {
  SUCCEEDED: 0x00,
  GENERAL_FAILURE: 0x01,
  NOT_ALLOWED: 0x02,
  NETWORK_UNREACHABLE: 0x03,
  HOST_UNREACHABLE: 0x04,
  CONNECTION_REFUSED: 0x05,
  TTL_EXPIRED: 0x06,
  COMMAND_NOT_SUPPORTED: 0x07,
  ADDRESS_TYPE_NOT_SUPPORTED: 0x08,
} as const;
export type ReplyCode = (typeof Reply)[keyof typeof Reply];

const CMD_CONNECT = 0x01;
const ATYP_IPV4 = 0x01;
const ATYP_DOMAIN = 0x03;
const ATYP_IPV6 = 0x04;

export type Parsed<T> =
  | { readonly kind: 'incomplete' }
  /** Not SOCKS5 (or not a message at all): close without a reply. */
  | { readonly kind: 'invalid' }
  /** A well-formed request the server refuses with this reply code. */
  | { readonly kind: 'refuse'; readonly code: ReplyCode }
  | ({ readonly kind: 'ok'; readonly used: number } & T);

/** Client greeting: VER NMETHODS METHODS... */
export function parseGreeting(buf: Uint8Array): Parsed<{ readonly noAuth: boolean }> {
  if (buf.length < 1) return { kind: 'incomplete' };
  if (buf[0] !== SOCKS_VERSION) return { kind: 'invalid' };
  if (buf.length < 2) return { kind: 'incomplete' };
  const used = 2 + buf[1]!;
  if (buf.length < used) return { kind: 'incomplete' };
  return { kind: 'ok', used, noAuth: buf.subarray(2, used).includes(METHOD_NO_AUTH) };
}

/** Formats 16 bytes as an IPv6 address with the longest run of zero groups compressed. */
export function formatIPv6(bytes: Uint8Array): string {
  const groups = Array.from({ length: 8 }, (_, i) => ((bytes[2 * i]! << 8) | bytes[2 * i + 1]!).toString(16));
  let best = { start: -1, len: 0 };
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > best.len && j - i > 1) best = { start: i, len: j - i };
    i = j;
  }
  if (best.start < 0) return groups.join(':');
  return `${groups.slice(0, best.start).join(':')}::${groups.slice(best.start + best.len).join(':')}`;
}

/** Request: VER CMD RSV ATYP DST.ADDR DST.PORT */
export function parseRequest(buf: Uint8Array): Parsed<{ readonly host: string; readonly port: number }> {
  if (buf.length < 1) return { kind: 'incomplete' };
  if (buf[0] !== SOCKS_VERSION) return { kind: 'invalid' };
  if (buf.length < 4) return { kind: 'incomplete' };
  if (buf[1] !== CMD_CONNECT) return { kind: 'refuse', code: Reply.COMMAND_NOT_SUPPORTED };
  let host: string;
  let end: number;
  switch (buf[3]) {
    case ATYP_IPV4:
      end = 4 + 4;
      if (buf.length < end + 2) return { kind: 'incomplete' };
      host = Array.from(buf.subarray(4, end)).join('.');
      break;
    case ATYP_IPV6:
      end = 4 + 16;
      if (buf.length < end + 2) return { kind: 'incomplete' };
      host = formatIPv6(buf.subarray(4, end));
      break;
    case ATYP_DOMAIN: {
      if (buf.length < 5) return { kind: 'incomplete' };
      end = 5 + buf[4]!;
      if (buf.length < end + 2) return { kind: 'incomplete' };
      host = Buffer.from(buf.subarray(5, end)).toString('latin1');
      // An empty name or one with bytes no host name has cannot be resolved or matched.
      if (!/^[\x21-\x7e]+$/.test(host)) return { kind: 'refuse', code: Reply.HOST_UNREACHABLE };
      break;
    }
    default:
      return { kind: 'refuse', code: Reply.ADDRESS_TYPE_NOT_SUPPORTED };
  }
  const port = (buf[end]! << 8) | buf[end + 1]!;
  return { kind: 'ok', used: end + 2, host, port };
}

/** Reply: VER REP RSV ATYP BND.ADDR BND.PORT (an IPv4 zero address unless `bound` is an IP). */
export function encodeReply(code: ReplyCode, bound?: { readonly address: string; readonly port: number }): Uint8Array {
  const ip = bound ? parseIp(bound.address) : undefined;
  const addr = ip ?? [0, 0, 0, 0];
  const port = ip ? bound!.port : 0;
  return Uint8Array.from([SOCKS_VERSION, code, 0, addr.length === 4 ? ATYP_IPV4 : ATYP_IPV6, ...addr, port >> 8, port & 0xff]);
}

/** The reply code for a failed upstream connection. */
export function replyForError(code: string): ReplyCode {
  switch (code) {
    case 'ECONNREFUSED':
      return Reply.CONNECTION_REFUSED;
    case 'ENETUNREACH':
      return Reply.NETWORK_UNREACHABLE;
    case 'EHOSTUNREACH':
    case 'ETIMEDOUT':
      return Reply.HOST_UNREACHABLE;
    default:
      return Reply.GENERAL_FAILURE;
  }
}
