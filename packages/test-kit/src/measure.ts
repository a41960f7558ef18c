/** Figures the tests and the bench read off a process or a folder. */
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** Resident memory of a process in bytes (Linux /proc; NaN where there is none). */
export async function residentBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const match = /^VmRSS:\s+(\d+) kB/m.exec(status);
  return match ? Number(match[1]) * 1024 : Number.NaN;
}

/**
 * Bytes of every file under a folder, followed into subfolders (links are not followed); a
 * subfolder named `skip` is left out wherever it is (node_modules: what is installed, not shipped).
 */
export async function folderBytes(dir: string, options: { skip?: string } = {}): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== options.skip) total += await folderBytes(path, options);
    } else if (entry.isFile()) total += (await stat(path)).size;
  }
  return total;
}
