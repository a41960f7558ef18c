/** Test wiring: the real server process (bin/wxlogin-server.js) and a reader for its data file. */
import { spawn } from 'node:child_process';
import { type ListeningProcess, spawnUntilListening } from '@wxlogin/test-kit';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { StoreCollection } from '@wxlogin/wechat-core';
import { SqliteStore } from '@wxlogin/wechat-core/sqlite';

const SERVER_BIN = fileURLToPath(new URL('../../bin/wxlogin-server.js', import.meta.url));

/** The server process: its URL, pid, output (JSON log lines and plain lines), and stop. */
export type ServerProcess = ListeningProcess;

/**
 * Starts the server with exactly these variables (plus PATH) and waits for "listening on";
 * `wrapper` is a command the server runs under (e.g. setpriv, so file permissions bite root).
 */
export function startServerProcess(
  env: Record<string, string>,
  wrapper: readonly string[] = [],
): Promise<ServerProcess> {
  return spawnUntilListening({
    name: 'server',
    args: [SERVER_BIN],
    env: { PATH: process.env.PATH ?? '', PORT: '0', LOG_LEVEL: 'info', ...env },
    wrapper,
  });
}

/** Runs the server expecting it to refuse to start; resolves with its exit code and output. */
export function runServerToExit(
  env: Record<string, string>,
): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [SERVER_BIN], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  return new Promise((resolve) =>
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    }),
  );
}

/**
 * The documents of one embedded-store collection, as the repositories see them, read through a
 * connection of this process to the server's SQLite file (the store lets processes share it).
 */
export async function readEmbeddedCollection(
  dataDir: string,
  name: StoreCollection,
): Promise<Record<string, unknown>[]> {
  const all = await exportEmbedded(dataDir);
  return all[name] as Record<string, unknown>[];
}

async function exportEmbedded(dataDir: string): Promise<Record<StoreCollection, unknown[]>> {
  const store = await SqliteStore.open({ dataDir, sweepIntervalMs: 0 });
  try {
    return await store.exportDocuments();
  } finally {
    await store.close();
  }
}

export async function storeCounts(
  dataDir: string,
): Promise<{ users: number; identities: number; sessions: number }> {
  const all = await exportEmbedded(dataDir);
  return {
    users: all.users.length,
    identities: all.identities.length,
    sessions: all.sessions.length,
  };
}

/** Resident memory of a process in bytes (Linux /proc). */
export async function residentBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+) kB/m.exec(status);
  return match ? Number(match[1]) * 1024 : Number.NaN;
}
