/** Test wiring: the real server process (bin/wxlogin-server.js) and a reader for its data file. */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { StoreCollection } from '@wxlogin/wechat-core';
import { SqliteStore } from '@wxlogin/wechat-core/sqlite';

const SERVER_BIN = fileURLToPath(new URL('../../bin/wxlogin-server.js', import.meta.url));

export interface ServerProcess {
  url: string;
  pid: number;
  /** Everything the process printed so far (JSON log lines and plain lines). */
  output(): string;
  /**
   * Waits (up to 2 s) until the output matches, and returns it. A log line is written after the
   * answer it belongs to, and reaches this process through a pipe: read it only through this.
   */
  waitForOutput(pattern: RegExp | string): Promise<string>;
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts the server with exactly these variables (plus PATH) and waits for "listening on";
 * `wrapper` is a command the server runs under (e.g. setpriv, so file permissions bite root).
 */
export function startServerProcess(
  env: Record<string, string>,
  wrapper: readonly string[] = [],
): Promise<ServerProcess> {
  const [command = process.execPath, ...args] = [...wrapper, process.execPath, SERVER_BIN];
  const child = spawn(command, args, {
    env: { PATH: process.env.PATH ?? '', PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start within 10 s:\n${output}`));
    }, 10_000);
    const onData = () => {
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (!match?.[1]) return;
      clearTimeout(timer);
      child.stdout.off('data', onData);
      resolve({
        url: match[1],
        pid: child.pid ?? -1,
        output: () => output,
        waitForOutput: async (pattern) => {
          const seen = () =>
            typeof pattern === 'string' ? output.includes(pattern) : pattern.test(output);
          for (let i = 0; i < 100 && !seen(); i += 1)
            await new Promise((resolve) => setTimeout(resolve, 20));
          return output;
        },
        stop: (signal = 'SIGTERM') => {
          if (child.exitCode === null) child.kill(signal);
          return exited;
        },
      });
    };
    child.stdout.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening:\n${output}`));
    });
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
