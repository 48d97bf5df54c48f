// A loopback HTTP server for the network bench, in its own process: the bench times commands
// synchronously, which would block a server living in the bench's own event loop.
// Serves /big (SIZE bytes) and /small; prints its port on stdout.
import { createServer } from 'node:http';

const SIZE = Number(process.argv[2]);
const CHUNK = Buffer.alloc(1024 * 1024, 7);
const server = createServer((req, res) => {
  if (req.url === '/small') return res.end('ok');
  res.writeHead(200, { 'content-length': SIZE });
  let sent = 0;
  const pump = () => {
    while (sent < SIZE) {
      sent += CHUNK.length;
      if (!res.write(CHUNK)) return res.once('drain', pump);
    }
    res.end();
  };
  pump();
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
process.stdin.on('end', () => process.exit(0)).resume(); // exits with the bench
