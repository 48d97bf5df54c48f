import { describe, expect, it } from 'vitest';
import { encodeReply, formatIPv6, parseGreeting, parseRequest, Reply, replyForError } from '../src/socks-protocol.js';

const b = (...bytes: number[]): Uint8Array => Uint8Array.from(bytes);

describe('parseGreeting', () => {
  it('needs more bytes until the method list is complete', () => {
    expect(parseGreeting(b())).toEqual({ kind: 'incomplete' });
    expect(parseGreeting(b(5))).toEqual({ kind: 'incomplete' });
    expect(parseGreeting(b(5, 2, 0))).toEqual({ kind: 'incomplete' });
    expect(parseGreeting(b(5, 2, 2, 0, 9))).toEqual({ kind: 'ok', used: 4, noAuth: true });
  });

  it('rejects other versions and notices when no-auth is not offered', () => {
    expect(parseGreeting(b(4, 1, 0))).toEqual({ kind: 'invalid' });
    expect(parseGreeting(b(5, 1, 2))).toEqual({ kind: 'ok', used: 3, noAuth: false });
    expect(parseGreeting(b(5, 0))).toEqual({ kind: 'ok', used: 2, noAuth: false });
  });
});

describe('parseRequest', () => {
  it('parses IPv4, domain and IPv6 targets', () => {
    expect(parseRequest(b(5, 1, 0, 1, 127, 0, 0, 1, 0x01, 0xbb))).toEqual({ kind: 'ok', used: 10, host: '127.0.0.1', port: 443 });
    const name = [...Buffer.from('example.com')];
    expect(parseRequest(b(5, 1, 0, 3, name.length, ...name, 0, 80, 0xaa))).toEqual({ kind: 'ok', used: 7 + name.length, host: 'example.com', port: 80 });
    expect(parseRequest(b(5, 1, 0, 4, ...Array(15).fill(0), 1, 0x1f, 0x90))).toEqual({ kind: 'ok', used: 22, host: '::1', port: 8080 });
  });

  it('says incomplete for every truncation of a valid request', () => {
    const full = b(5, 1, 0, 3, 3, 0x61, 0x2e, 0x62, 0, 80);
    for (let n = 0; n < full.length; n++) expect(parseRequest(full.subarray(0, n)).kind, `${n} bytes`).toBe('incomplete');
  });

  it('refuses other commands, address types and unusable names', () => {
    expect(parseRequest(b(5, 2, 0, 1))).toEqual({ kind: 'refuse', code: Reply.COMMAND_NOT_SUPPORTED });
    expect(parseRequest(b(5, 3, 0, 1))).toEqual({ kind: 'refuse', code: Reply.COMMAND_NOT_SUPPORTED });
    expect(parseRequest(b(5, 1, 0, 9))).toEqual({ kind: 'refuse', code: Reply.ADDRESS_TYPE_NOT_SUPPORTED });
    expect(parseRequest(b(5, 1, 0, 3, 0, 0, 80))).toEqual({ kind: 'refuse', code: Reply.HOST_UNREACHABLE });
    expect(parseRequest(b(5, 1, 0, 3, 2, 0x61, 0x00, 0, 80))).toEqual({ kind: 'refuse', code: Reply.HOST_UNREACHABLE });
    expect(parseRequest(b(4, 1, 0, 1))).toEqual({ kind: 'invalid' });
  });
});

describe('formatIPv6', () => {
  it('compresses the longest zero run only', () => {
    const v6 = (...words: number[]): Uint8Array => Uint8Array.from(words.flatMap((w) => [w >> 8, w & 0xff]));
    expect(formatIPv6(v6(0, 0, 0, 0, 0, 0, 0, 1))).toBe('::1');
    expect(formatIPv6(v6(0x2001, 0xdb8, 0, 0, 1, 0, 0, 0))).toBe('2001:db8:0:0:1::');
    expect(formatIPv6(v6(1, 0, 2, 0, 3, 0, 4, 0))).toBe('1:0:2:0:3:0:4:0');
    expect(formatIPv6(v6(0, 0, 0, 0, 0, 0, 0, 0))).toBe('::');
  });
});

describe('encodeReply', () => {
  it('encodes the bound address when known, else zeros', () => {
    expect([...encodeReply(Reply.NOT_ALLOWED)]).toEqual([5, 2, 0, 1, 0, 0, 0, 0, 0, 0]);
    expect([...encodeReply(Reply.SUCCEEDED, { address: '127.0.0.1', port: 1080 })]).toEqual([5, 0, 0, 1, 127, 0, 0, 1, 4, 56]);
    expect(encodeReply(Reply.SUCCEEDED, { address: '::1', port: 1 }).length).toBe(22);
  });

  it('maps connection errors to reply codes', () => {
    expect(replyForError('ECONNREFUSED')).toBe(Reply.CONNECTION_REFUSED);
    expect(replyForError('EHOSTUNREACH')).toBe(Reply.HOST_UNREACHABLE);
    expect(replyForError('ENETUNREACH')).toBe(Reply.NETWORK_UNREACHABLE);
    expect(replyForError('EWHATEVER')).toBe(Reply.GENERAL_FAILURE);
  });
});
