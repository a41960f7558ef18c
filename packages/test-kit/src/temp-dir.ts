import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TempDir {
  readonly path: string;
  /** Removes the folder and everything in it; safe to call twice. */
  remove(): Promise<void>;
}

/** A fresh folder under the OS temp dir, named `wxlogin-<label>-…` so a leftover says whose it is. */
export async function tempDir(label: string): Promise<TempDir> {
  const path = await mkdtemp(join(tmpdir(), `wxlogin-${label}-`));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}
