import { describe, expect, it } from 'vitest';
import { BLOCKED_BODY, closingResponseHead, endToEndHeaders, grantableAuthority, parseAuthority, parseForwardTarget, rawReply, reasonHeader } from '../src/http-message.js';

describe('endToEndHeaders', () => {
  it('drops hop-by-hop headers and those named by Connection, keeping order and case', () => {
    const raw = [
      'Host', 'a', 'Connection', 'keep-alive, X-Hop', 'Keep-Alive', 'timeout=5', 'X-Hop', '1', 'Proxy-Authorization', 'x',
      'Proxy-Connection', 'keep-alive', 'TE', 'trailers', 'Trailer', 'X', 'Transfer-Encoding', 'chunked', 'Upgrade', 'websocket',
      'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2', 'X-Keep', 'yes',
    ];
    expect(endToEndHeaders(raw, ['host'])).toEqual(['Set-Cookie', 'a=1', 'Set-Cookie', 'b=2', 'X-Keep', 'yes']);
  });
});

describe('parseAuthority', () => {
  it('parses host:port and [v6]:port', () => {
    expect(parseAuthority('example.com:443')).toEqual({ host: 'example.com', port: 443 });
    expect(parseAuthority('[::1]:8443')).toEqual({ host: '::1', port: 8443 });
    expect(parseAuthority('10.0.0.1:80')).toEqual({ host: '10.0.0.1', port: 80 });
  });

  it('rejects targets without a valid port or with junk', () => {
    for (const bad of ['example.com', 'example.com:0', 'example.com:65536', 'example.com:', '::1:443', 'a b:1', 'http://x:1', 'user@x:1', '']) {
      expect(parseAuthority(bad), bad).toBeUndefined();
    }
  });
});

describe('parseForwardTarget', () => {
  it('parses an absolute http URI with its default port', () => {
    expect(parseForwardTarget('http://Example.com/a/b?q=1')).toEqual({ host: 'example.com', port: 80, hostHeader: 'example.com', path: '/a/b?q=1' });
    expect(parseForwardTarget('http://[::1]:8080/')).toEqual({ host: '::1', port: 8080, hostHeader: '[::1]:8080', path: '/' });
  });

  it('refuses origin-form, other schemes and credentials', () => {
    for (const bad of ['/path', 'https://example.com/', 'ftp://x/', 'http://u:p@x/', 'http:///x', '*']) {
      expect(parseForwardTarget(bad), bad).toBeUndefined();
    }
  });
});

describe('grantableAuthority', () => {
  it('gives the raw authority of a target the bridge forwards on its own', () => {
    expect(grantableAuthority('http://Example.com:8080/a?b=c', 'example.com:8080')).toBe('Example.com:8080');
    expect(grantableAuthority('http://[::1]:80', '[::1]')).toBe('[::1]:80');
    expect(grantableAuthority('HTTP://example.com?q', 'example.com')).toBe('example.com');
  });

  it('keeps with the proxy what the bridge would not forward plainly', () => {
    for (const target of ['http://u@example.com/', 'http://example.com\\@evil/', 'http://example.com/#f', 'http://example.com/a b', 'http://exämple.com/', 'http://example.com%2e/']) {
      expect(grantableAuthority(target, 'example.com'), target).toBeUndefined();
    }
    expect(grantableAuthority(`http://${'a'.repeat(256)}/`, 'a')).toBeUndefined();
  });
});

describe('reasonHeader', () => {
  it('keeps the first line of the body, as visible ASCII', () => {
    expect(reasonHeader('fence: b\u00fccher.example: refused\nmore\n')).toBe('fence: b?cher.example: refused');
  });
});

describe('rawReply', () => {
  it('builds a closing reply with the exact body length', () => {
    const r = rawReply(403, BLOCKED_BODY);
    expect(r.startsWith('HTTP/1.1 403 Forbidden\r\n')).toBe(true);
    expect(r).toContain('Content-Length: 39\r\n');
    expect(r).toContain('Connection: close\r\n');
    expect(r).toContain(`X-Fence-Reason: ${BLOCKED_BODY}\r\n`);
    expect(r.endsWith('\r\n\r\nConnection blocked by network allowlist')).toBe(true);
  });
});

describe('closingResponseHead', () => {
  it('keeps the status and the headers in order and case, and closes the connection', () => {
    const head = closingResponseHead(200, 'OK', ['Content-Length', '5', 'set-cookie', 'a=1', 'set-cookie', 'b=2']);
    expect(head).toBe('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nset-cookie: a=1\r\nset-cookie: b=2\r\nConnection: close\r\n\r\n');
  });
});
