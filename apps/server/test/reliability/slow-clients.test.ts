/**
 * Slow and hostile connections against the real server process: clients that trickle their
 * headers or their body (slowloris) are cut at HEADERS_TIMEOUT_MS / REQUEST_TIMEOUT_MS while
 * everyone else is served, and connections beyond MAX_CONNECTIONS are closed at once instead of
 * eating the process's file descriptors.
 */
import { request } from 'node:http';
import { type Socket, connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { useStack } from '../support/stack.js';

const stack = useStack();

const SETTINGS = {
  HEADERS_TIMEOUT_MS: '1000',
  REQUEST_TIMEOUT_MS: '2000',
  IDLE_TIMEOUT_MS: '5000',
  MAX_CONNECTIONS: '60',
};

interface Slow {
  socket: Socket;
  openedAt: number;
  /** When the server closed it; undefined while open. */
  closedAt?: number;
}

/** A raw connection that keeps sending `next()` every `everyMs` until the server closes it. */
function trickle(url: string, first: string, next: () => string, everyMs = 250): Slow {
  const { hostname, port } = new URL(url);
  const slow: Slow = { socket: connect(Number(port), hostname), openedAt: Date.now() };
  slow.socket.on('error', () => undefined);
  slow.socket.on('close', () => (slow.closedAt ??= Date.now()));
  slow.socket.on('data', () => undefined);
  slow.socket.write(first);
  const timer = setInterval(() => {
    if (slow.closedAt !== undefined || slow.socket.destroyed) clearInterval(timer);
    else slow.socket.write(next());
  }, everyMs);
  return slow;
}

/** One request on a fresh connection (no pooling), answered or not within 2 s. */
function probe(url: string): Promise<number | 'failed'> {
  return new Promise((resolve) => {
    const req = request(`${url}/healthz`, { agent: false, timeout: 2_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve('failed'));
    req.end();
  });
}

async function waitUntil(check: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!check() && Date.now() < end) await sleep(50);
}

describe('slow clients', () => {
  it('cuts header and body tricklers at their deadlines while other clients are served', async () => {
    const { server } = await stack.extraServer(SETTINGS);
    const headerTricklers = Array.from({ length: 20 }, () =>
      trickle(server.url, 'GET /healthz HTTP/1.1\r\nHost: x\r\n', () => 'X-Slow: 1\r\n'),
    );
    const bodyTricklers = Array.from({ length: 20 }, () =>
      trickle(
        server.url,
        'POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{',
        () => ' ',
      ),
    );
    const all = [...headerTricklers, ...bodyTricklers];

    // Everyone else keeps being answered during the attack.
    const probes: (number | 'failed')[] = [];
    const started = Date.now();
    while (Date.now() - started < 4_000) {
      probes.push(await probe(server.url));
      await sleep(150);
    }
    await waitUntil(() => all.every((s) => s.closedAt !== undefined), 3_000);

    expect(probes.length).toBeGreaterThan(10);
    expect(probes.filter((p) => p !== 200)).toEqual([]);
    // Deadline + Node's 1 s check interval + slack; never left open.
    const headerLife = headerTricklers.map((s) => (s.closedAt ?? Infinity) - s.openedAt);
    const bodyLife = bodyTricklers.map((s) => (s.closedAt ?? Infinity) - s.openedAt);
    expect(Math.max(...headerLife)).toBeLessThan(1_000 + 2_000);
    expect(Math.max(...bodyLife)).toBeLessThan(2_000 + 2_000);
    // ...and not before (the deadlines are what cut them, not something else).
    expect(Math.min(...headerLife)).toBeGreaterThanOrEqual(900);
    expect(Math.min(...bodyLife)).toBeGreaterThanOrEqual(1_900);
  }, 20_000);

  it('closes connections beyond MAX_CONNECTIONS at once, and serves again when they go', async () => {
    const { server } = await stack.extraServer(SETTINGS);
    // 80 connections that send nothing at all.
    const idle = Array.from({ length: 80 }, () => trickle(server.url, '', () => '', 60_000));
    await sleep(500);
    const closedAtOnce = idle.filter((s) => s.closedAt !== undefined).length;
    expect(closedAtOnce).toBe(20);
    // The 60 admitted ones are cut by the header deadline; then the server answers again.
    await waitUntil(() => idle.every((s) => s.closedAt !== undefined), 4_000);
    expect(idle.filter((s) => s.closedAt === undefined)).toHaveLength(0);
    expect(await probe(server.url)).toBe(200);
  }, 20_000);
});
