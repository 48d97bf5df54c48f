'use strict';
// The HTTP forward transformer (src/bridge-http.c) on exact bytes, through its test driver.
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { describe, it } = require('node:test');
const { helper } = require('./helpers.js');

const driver = helper && path.join(path.dirname(helper), 'bridge-http-test');
const skip = !(driver && fs.existsSync(driver)) && 'bridge-http-test is not built (npm run build)';

/** Runs the driver for the grant `localhost:8080` (Host `localhost:8080`): upstream bytes and its final state. */
function forward(input, { chunk = 1 << 20, responses, authority = 'localhost:8080', host = 'localhost:8080' } = {}) {
  const args = [authority, host, String(chunk)];
  if (responses !== undefined) {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bridge-http-')), 'responses');
    fs.writeFileSync(file, responses);
    args.push(file);
  }
  const r = spawnSync(driver, args, { input: Buffer.from(input, 'latin1') });
  assert.equal(r.status, 0, String(r.stderr));
  const [, req, rest, pending, lost] = /^req=(\S+) rest=(\d+) pending=(\d+) lost=(\d)\n$/.exec(String(r.stderr));
  return { out: r.stdout.toString('latin1'), req, rest: Number(rest), pending: Number(pending), lost: lost === '1' };
}

describe('bridge-http: the request stream', { skip }, () => {
  it('rewrites the request line to origin form and sets the granted Host', () => {
    const r = forward('GET http://LocalHost:8080/a/b?c=d HTTP/1.1\r\nHost: evil.example\r\nAccept: */*\r\n\r\n');
    assert.equal(r.out, 'GET /a/b?c=d HTTP/1.1\r\nHost: localhost:8080\r\nAccept: */*\r\n\r\n');
    assert.deepEqual([r.req, r.rest, r.pending], ['head', 0, 1]);
  });

  it('gives an empty path and a bare query the root path', () => {
    const r = forward('GET http://localhost:8080 HTTP/1.0\r\n\r\nGET http://localhost:8080?q HTTP/1.1\r\n\r\n');
    assert.equal(r.out, 'GET / HTTP/1.0\r\nHost: localhost:8080\r\n\r\nGET /?q HTTP/1.1\r\nHost: localhost:8080\r\n\r\n');
  });

  it('drops hop-by-hop and proxy headers and those Connection names, keeping Connection: close', () => {
    const head =
      'GET http://localhost:8080/ HTTP/1.1\r\nProxy-Connection: keep-alive\r\nProxy-Authorization: Basic eA==\r\nKeep-Alive: 5\r\n' +
      'TE: trailers\r\nTrailer: X\r\nUpgrade: websocket\r\nConnection: X-Secret, close\r\nX-Secret: 1\r\nX-Kept:  v  \r\n\r\n';
    assert.equal(forward(head).out, 'GET / HTTP/1.1\r\nHost: localhost:8080\r\nX-Kept:  v  \r\nConnection: close\r\n\r\n');
  });

  it('frames a Content-Length body and forwards the next request behind it, whatever the read sizes', () => {
    const input = 'POST http://localhost:8080/p HTTP/1.1\r\nContent-Length:  5 \r\n\r\nhelloGET http://localhost:8080/n HTTP/1.1\r\n\r\n';
    const want = 'POST /p HTTP/1.1\r\nHost: localhost:8080\r\nContent-Length: 5\r\n\r\nhelloGET /n HTTP/1.1\r\nHost: localhost:8080\r\n\r\n';
    for (const chunk of [1, 2, 7, 1000]) assert.equal(forward(input, { chunk }).out, want, `chunk ${chunk}`);
  });

  it('passes canonical chunks through, and the request after the last chunk', () => {
    const input = 'PUT http://localhost:8080/u HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n3\r\nabc\r\nA\r\n0123456789\r\n0\r\n\r\nGET http://localhost:8080/ HTTP/1.1\r\n\r\n';
    const want = 'PUT /u HTTP/1.1\r\nHost: localhost:8080\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nA\r\n0123456789\r\n0\r\n\r\nGET / HTTP/1.1\r\nHost: localhost:8080\r\n\r\n';
    for (const chunk of [1, 5, 1000]) assert.equal(forward(input, { chunk }).out, want, `chunk ${chunk}`);
  });

  it('stops at a request for another authority, leaving it whole for the proxy', () => {
    const other = 'GET http://localhost:8081/ HTTP/1.1\r\n\r\n';
    const r = forward(`GET http://localhost:8080/ HTTP/1.1\r\n\r\n${other}GET http://localhost:8080/ HTTP/1.1\r\n\r\n`, { chunk: 3 });
    assert.equal(r.out, 'GET / HTTP/1.1\r\nHost: localhost:8080\r\n\r\n');
    assert.equal(r.req, 'other');
    assert.ok(r.rest >= other.length, `the other request is kept (${r.rest} bytes)`);
  });

  it('gives back what it does not forward plainly: userinfo, backslash, fragment, a CONNECT, folding, bare LF, double framing', () => {
    const first = 'GET http://localhost:8080/ HTTP/1.1\r\n\r\n';
    for (const next of [
      'GET http://x@localhost:8080/ HTTP/1.1\r\n\r\n',
      'GET http://localhost:8080\\@evil/ HTTP/1.1\r\n\r\n',
      'GET http://localhost:8080/#f HTTP/1.1\r\n\r\n',
      'GET http://localhost:8080/ HTTP/2.0\r\n\r\n',
      'GET https://localhost:8080/ HTTP/1.1\r\n\r\n',
      'GET /local HTTP/1.1\r\nHost: localhost:8080\r\n\r\n',
      'CONNECT localhost:8080 HTTP/1.1\r\n\r\n',
      'GET http://localhost:8080/ HTTP/1.1\r\nX: a\r\n b\r\n\r\n',
      'GET http://localhost:8080/ HTTP/1.1\r\nX: a\nY: b\r\n\r\n',
      'POST http://localhost:8080/ HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n',
      'POST http://localhost:8080/ HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n',
      'POST http://localhost:8080/ HTTP/1.1\r\nContent-Length: -1\r\n\r\n',
      'POST http://localhost:8080/ HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n',
      `GET http://localhost:8080/ HTTP/1.1\r\nX: ${'a'.repeat(70000)}\r\n\r\n`,
    ]) {
      const r = forward(first + next);
      assert.deepEqual([r.out, r.req, r.rest], ['GET / HTTP/1.1\r\nHost: localhost:8080\r\n\r\n', 'other', next.length], JSON.stringify(next.slice(0, 60)));
    }
  });

  it('refuses (closes) when the first request is not the granted one: it is never given back', () => {
    const r = forward('GET http://localhost:8081/ HTTP/1.1\r\n\r\n');
    assert.deepEqual([r.out, r.req], ['', 'bad']);
  });

  it('closes on chunks it cannot frame exactly: extensions, trailers, a missing CRLF', () => {
    for (const body of ['3;ext=1\r\nabc\r\n0\r\n\r\n', '3\r\nabc\r\n0\r\nX-Trailer: 1\r\n\r\n', '3\r\nabcX\r\n0\r\n\r\n']) {
      const r = forward(`PUT http://localhost:8080/ HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n${body}`);
      assert.equal(r.req, 'bad', JSON.stringify(body));
    }
  });
});

describe('bridge-http: following the responses', { skip }, () => {
  const get = (n, method = 'GET') => `${method} http://localhost:8080/${n} HTTP/1.1\r\n\r\n`;

  it('counts interim, chunked (with extensions and trailers), HEAD, 204 and 304 responses', () => {
    const requests = get(1) + get(2, 'HEAD') + get(3) + get(4) + get(5);
    const responses =
      'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n0\r\nT: 1\r\n\r\n' +
      'HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n' +
      'HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n' +
      'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc';
    for (const chunk of [1, 4, 1000]) {
      const r = forward(requests, { chunk, responses });
      assert.deepEqual([r.pending, r.lost], [0, false], `chunk ${chunk}`);
    }
  });

  it('knows a response is still under way', () => {
    const r = forward(get(1) + get(2), { responses: 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nab' });
    assert.deepEqual([r.pending, r.lost], [1, true]); // the EOF cut the second one: lost
  });

  it('ends a response delimited by the close at EOF', () => {
    const r = forward(get(1), { responses: 'HTTP/1.0 200 OK\r\n\r\nuntil the end' });
    assert.deepEqual([r.pending, r.lost], [0, false]);
  });

  it('loses track of a response nobody asked for, or with conflicting lengths', () => {
    assert.equal(forward('', { responses: 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n' }).lost, true);
    assert.equal(forward(get(1), { responses: 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab' }).lost, true);
  });
});
