/**
 * A DNS server for the host side of a run: it answers A queries for the given names with
 * 127.0.0.1 and nothing else, on port 53 of a random address in 127.0.0.0/8 (port 53 is what a
 * resolv.conf can name; the random address keeps concurrent suites apart). Needs root.
 */
import { createSocket } from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const TYPE_A = 1;

/** The reply to one query: A 127.0.0.1 for a known name, an empty answer for its other types, NXDOMAIN otherwise. */
function reply(query: Buffer, names: ReadonlySet<string>): Buffer | undefined {
  if (query.length < 12) return undefined;
  const labels: string[] = [];
  let at = 12;
  while (at < query.length && query[at] !== 0) {
    labels.push(query.subarray(at + 1, at + 1 + query[at]!).toString('latin1'));
    at += 1 + query[at]!;
  }
  const end = at + 5;
  if (end > query.length) return undefined;
  const type = query.readUInt16BE(at + 1);
  const known = names.has(labels.join('.').toLowerCase());
  const withA = known && type === TYPE_A;
  const head = Buffer.from(query.subarray(0, 12));
  head.writeUInt16BE(known ? 0x8180 : 0x8183, 2);
  head.writeUInt16BE(1, 4);
  head.writeUInt16BE(withA ? 1 : 0, 6);
  head.writeUInt32BE(0, 8);
  const answer = withA ? Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, 1]) : Buffer.alloc(0);
  return Buffer.concat([head, query.subarray(12, end), answer]);
}

export async function dnsServer(dir: string, names: readonly string[]): Promise<{ resolvConf: string; close: () => void }> {
  const known = new Set(names);
  const socket = createSocket('udp4');
  socket.on('message', (query, from) => {
    const r = reply(query, known);
    if (r) socket.send(r, from.port, from.address);
  });
  const address = `127.${50 + Math.floor(Math.random() * 50)}.${Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(53, address, () => resolve());
  });
  const resolvConf = join(dir, 'resolv.conf');
  writeFileSync(resolvConf, `nameserver ${address}\n`);
  return { resolvConf, close: () => socket.close() };
}
