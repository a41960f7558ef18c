// @ts-check
// The floor: what no real backend can beat. POST /login does only the code2Session round trip
// to the emulator and returns a random token (no store); GET /me returns a fixed body.
/* global fetch, process -- Node's globals: the eslint config declares none for .mjs */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';

const [apiOrigin, appid, secret] = process.argv.slice(2);
const FIXED_ME = JSON.stringify({ user: { id: 'floor', createdAt: '2026-01-01T00:00:00.000Z' } });

const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/me') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(FIXED_ME);
    return;
  }
  if (req.method === 'POST' && req.url === '/login') {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', async () => {
      try {
        const { code } = JSON.parse(body);
        const url = `${apiOrigin}/sns/jscode2session?appid=${appid}&secret=${secret}&js_code=${encodeURIComponent(code)}&grant_type=authorization_code`;
        const answer = JSON.parse(await (await fetch(url)).text());
        if (answer.errcode) throw new Error(String(answer.errcode));
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ token: randomBytes(32).toString('base64url') }));
      } catch {
        res.writeHead(400).end('{}');
      }
    });
    return;
  }
  res.writeHead(404).end();
});
// The bench waits for the listening line (LISTENING_LINE in @wxlogin/test-kit).
server.listen(0, '127.0.0.1', () => {
  const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
  process.stdout.write(`listening on http://127.0.0.1:${port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
