// Where WeChat DevTools looks for cloud functions: apps/miniprogram/project.config.json's
// cloudfunctionRoot, or its default layout while that project does not say.
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** @returns {Promise<string>} absolute path of the cloud functions folder */
export async function cloudfunctionRoot() {
  const project = join(root, 'apps', 'miniprogram', 'project.config.json');
  try {
    const config = JSON.parse(await readFile(project, 'utf8'));
    if (typeof config.cloudfunctionRoot === 'string')
      return join(dirname(project), config.cloudfunctionRoot);
  } catch {
    // no DevTools project yet
  }
  return join(root, 'apps', 'miniprogram', 'cloudfunctions');
}
