import { describe, expect, it } from 'vitest';
import { spawnUntilListening } from './process.js';

const env = { PATH: process.env.PATH ?? '' };

describe('spawnUntilListening', () => {
  it('resolves with the URL of the listening line, keeps the output, and stops the process', async () => {
    const server = await spawnUntilListening({
      name: 'a listener',
      env,
      args: [
        '-e',
        `const s = require('node:http').createServer((q, r) => r.end('hi'));
         s.listen(0, '127.0.0.1', () => {
           console.error('starting');
           console.log('listening on http://127.0.0.1:' + s.address().port);
           setTimeout(() => console.log('later line'), 50);
         });
         process.on('SIGTERM', () => s.close(() => process.exit(3)));`,
      ],
    });
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await (await fetch(server.url)).text()).toBe('hi');
    expect(await server.waitForOutput('later line')).toContain('starting');
    expect(await server.stop()).toBe(3);
  });

  it('rejects with what the process printed when it exits before listening', async () => {
    await expect(
      spawnUntilListening({
        name: 'a failure',
        env,
        args: ['-e', 'console.error("bad config"); process.exit(2)'],
      }),
    ).rejects.toThrow(/a failure exited with 2 before listening:\nbad config/);
  });

  it('kills a process that never listens, after the timeout', async () => {
    await expect(
      spawnUntilListening({
        name: 'a sleeper',
        env,
        args: ['-e', 'console.log("waiting"); setTimeout(() => {}, 60_000)'],
        timeoutMs: 300,
      }),
    ).rejects.toThrow(/a sleeper did not start within 300 ms:\nwaiting/);
  });
});
