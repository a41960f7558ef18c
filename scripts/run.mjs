#!/usr/bin/env node
// Entry point for the root npm scripts. A fresh machine has only Node and npm, so this
// bootstraps the pinned pnpm through npx (corepack is not reliable here), installs from
// the lockfile, then runs the requested task with progress lines on stderr.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const rootPackage = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const pnpmSpec = String(rootPackage.packageManager); // "pnpm@x.y.z"
const bin = (name) => join(root, 'node_modules', '.bin', name);
// node_modules/.bin first: turbo runs each task through the pinned pnpm installed there.
const env = {
  ...process.env,
  PATH: [join(root, 'node_modules', '.bin'), process.env.PATH].join(delimiter),
  TURBO_TELEMETRY_DISABLED: '1',
  DO_NOT_TRACK: '1',
};

function step(title) {
  process.stderr.write(`\n▶ ${title}\n`);
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', env, ...options });
  if (result.error) {
    process.stderr.write(`✖ could not run ${command}: ${result.error.message}\n`);
    process.exit(1);
  }
  if (result.status !== 0) {
    process.stderr.write(`✖ ${[command, ...args].join(' ')} failed (exit ${result.status})\n`);
    process.exit(result.status ?? 1);
  }
}

function install() {
  step(`install dependencies (${pnpmSpec}, frozen lockfile)`);
  const frozen = existsSync(join(root, 'pnpm-lock.yaml')) ? ['--frozen-lockfile'] : [];
  run('npx', ['--yes', pnpmSpec, 'install', ...frozen, '--reporter=append-only']);
}

function turbo(...tasks) {
  step(`turbo run ${tasks.join(' ')}`);
  run(bin('turbo'), ['run', ...tasks, '--output-logs=errors-only', '--log-order=grouped']);
}

const task = process.argv[2];
switch (task) {
  case 'build':
    install();
    turbo('build');
    break;
  case 'format':
    install();
    run(bin('prettier'), ['--write', '.']);
    break;
  case 'test':
    install();
    turbo('build', 'typecheck', 'lint');
    step('prettier --check');
    run(bin('prettier'), ['--check', '--log-level=warn', '.']);
    step('vitest run (every workspace project)');
    run(bin('vitest'), ['run']);
    break;
  case 'bench':
    install();
    turbo('build');
    step('benchmarks (emulator, server, floor; BENCH_SECONDS a run)');
    run(process.execPath, [join(root, 'apps', 'server', 'bench', 'run.mjs')]);
    break;
  case 'start': {
    install();
    turbo('build');
    step('start the local stack');
    const child = spawn(process.execPath, [join(root, 'scripts', 'start-stack.mjs')], {
      cwd: root,
      stdio: 'inherit',
      env,
    });
    // The stack handles Ctrl-C itself; this process only waits for it to finish.
    for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
    child.on('exit', (code) => process.exit(code ?? 0));
    break;
  }
  default:
    process.stderr.write(
      `usage: node scripts/run.mjs <start|test|build|bench|format> (got ${task})\n`,
    );
    process.exit(2);
}
