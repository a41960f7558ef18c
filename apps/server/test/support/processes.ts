/** Test wiring: the real server process (bin/wxlogin-server.js) and a reader for its data file. */
import { type ListeningProcess, runUntilExit, spawnUntilListening } from '@wxlogin/test-kit';
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
  return runUntilExit({ args: [SERVER_BIN], env: { PATH: process.env.PATH ?? '', ...env } });
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
