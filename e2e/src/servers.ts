/** Real servers on the host's loopback for the network tests. */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttp, type Server } from 'node:http';
import { createServer as createHttps } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';

export const BIG = 100 * 1024 * 1024;
const CHUNK = Buffer.alloc(1024 * 1024);
for (let i = 0; i < CHUNK.length; i++) CHUNK[i] = (i * 31) & 0xff;

/** sha256 of the BIG body the servers send. */
export const BIG_SHA256 = (() => {
  const h = createHash('sha256');
  for (let i = 0; i < BIG / CHUNK.length; i++) h.update(CHUNK);
  return h.digest('hex');
})();

function handler(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) {
  if (req.url !== '/big') return void res.end(`hello from ${req.headers.host}\n`);
  res.writeHead(200, { 'content-length': BIG });
  let sent = 0;
  const pump = () => {
    while (sent < BIG) {
      sent += CHUNK.length;
      if (!res.write(CHUNK)) return void res.once('drain', pump);
    }
    res.end();
  };
  pump();
}

const listen = (s: Server) => new Promise<number>((r) => s.listen(0, '127.0.0.1', () => r((s.address() as AddressInfo).port)));

export async function httpServer(): Promise<{ port: number; close: () => void }> {
  const s = createHttp(handler);
  const port = await listen(s);
  return { port, close: () => s.close() };
}

/** An HTTPS server for "localhost" with a test CA made by openssl; `ca` is the CA file path. */
export async function httpsServer(): Promise<{ port: number; ca: string; close: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'fence-e2e-tls-'));
  const sh = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  sh(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=fence test CA']);
  sh(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'srv.key', '-out', 'srv.csr', '-subj', '/CN=localhost']);
  execFileSync('sh', ['-c', 'printf "subjectAltName=DNS:localhost" > ext.cnf'], { cwd: dir });
  sh(['x509', '-req', '-in', 'srv.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'srv.pem', '-days', '2', '-extfile', 'ext.cnf']);
  const s = createHttps({ key: readFileSync(join(dir, 'srv.key')), cert: readFileSync(join(dir, 'srv.pem')) }, handler);
  const port = await listen(s);
  // The CA must be readable inside the sandbox (not under the private /tmp): copy it next to the caller's files.
  return { port, ca: join(dir, 'ca.pem'), close: () => (s.close(), rmSync(dir, { recursive: true, force: true })) };
}

/** A UDP server on 127.0.0.1 that counts datagrams. */
export async function udpServer(): Promise<{ port: number; received: () => number; close: () => void }> {
  const s = createSocket('udp4');
  let n = 0;
  s.on('message', () => n++);
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  return { port: s.address().port, received: () => n, close: () => s.close() };
}
