import { createServer } from 'node:net';

/** A port of the host's 127.0.0.1 nothing listened on a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((done, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
    server.on('error', reject);
  });
}
