import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { parseUpstreamProxy } from '@fence/core';
import { openTunnel } from '../src/upstream.js';

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

/** A raw upstream proxy that answers the first bytes it gets with `answer`. */
async function upstream(answer: string): Promise<{ url: string; got: () => string }> {
  let got = '';
  const server = createServer((s: Socket) => {
    s.on('error', () => undefined).once('data', (d: Buffer) => {
      got = d.toString('latin1');
      s.end(answer);
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, got: () => got };
}

const forwarded = (url: string) =>
  ({ allowed: true, host: 'grey.example', port: 443, addresses: [], reason: '', upstream: parseUpstreamProxy(url) }) as const;

const read = (s: Socket): Promise<string> =>
  new Promise((resolve) => {
    let text = '';
    s.on('data', (d: Buffer) => (text += d.toString())).on('end', () => resolve(text));
    s.resume();
  });

describe('openTunnel through the upstream proxy', () => {
  it('sends CONNECT with the credentials and keeps the bytes that follow the 200', async () => {
    const up = await upstream('HTTP/1.1 200 Connection Established\r\nX-Via: test\r\n\r\nfirst server bytes');
    const socket = await openTunnel(forwarded(up.url.replace('http://', 'http://me:pw@')), 2000);
    expect(up.got()).toBe(`CONNECT grey.example:443 HTTP/1.1\r\nHost: grey.example:443\r\nProxy-Authorization: Basic ${Buffer.from('me:pw').toString('base64')}\r\n\r\n`);
    expect(await read(socket)).toBe('first server bytes');
  });

  it('refuses a tunnel the upstream did not grant, naming its answer', async () => {
    const up = await upstream('HTTP/1.1 407 Proxy Authentication Required\r\n\r\n');
    await expect(openTunnel(forwarded(up.url), 2000)).rejects.toMatchObject({
      code: 'EPROXY',
      message: 'the upstream proxy answered "HTTP/1.1 407 Proxy Authentication Required"',
    });
  });

  it('fails when the upstream closes before answering', async () => {
    const up = await upstream('');
    await expect(openTunnel(forwarded(up.url), 2000)).rejects.toMatchObject({ code: 'EPROXY', message: 'the upstream proxy closed the connection before answering CONNECT' });
  });
});
