import { type ChildProcess, spawn } from 'node:child_process';

/** The line a server prints on stdout once it accepts connections; group 1 is its URL. */
export const LISTENING_LINE = /listening on (http:\/\/\S+)/;

export interface ListeningProcess {
  url: string;
  pid: number;
  child: ChildProcess;
  /** Everything the process printed so far, stdout and stderr. */
  output(): string;
  /**
   * Waits (up to 2 s) until the output matches, and returns it. A log line is written after the
   * answer it belongs to, and arrives through a pipe: read it only through this.
   */
  waitForOutput(pattern: RegExp | string): Promise<string>;
  /** Sends a signal (SIGTERM by default) and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts `node <args>` (or `command` wrapping it: `[...wrapper, node, ...args]`) and resolves once
 * it prints LISTENING_LINE; rejects with everything it printed if it exits first or takes longer
 * than `timeoutMs` (then it is killed).
 */
export function spawnUntilListening(options: {
  /** For messages: what is being started. */
  name: string;
  args: readonly string[];
  /** The whole environment of the child (nothing is inherited unless passed). */
  env: NodeJS.ProcessEnv;
  /** A command the process runs under (e.g. setpriv). */
  wrapper?: readonly string[];
  timeoutMs?: number;
  /** Keep collecting output after it listens (false: later output is drained, not kept). */
  keepOutput?: boolean;
}): Promise<ListeningProcess> {
  const timeoutMs = options.timeoutMs ?? 20_000;
  const [command = process.execPath, ...args] = [
    ...(options.wrapper ?? []),
    process.execPath,
    ...options.args,
  ];
  const child = spawn(command, args, { env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let listening = false;
  const collect = (chunk: Buffer) => {
    if (!listening || options.keepOutput !== false) output += chunk.toString('utf8');
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${options.name} did not start within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    const onData = () => {
      const url = LISTENING_LINE.exec(output)?.[1];
      if (!url) return;
      listening = true;
      clearTimeout(timer);
      child.stdout.off('data', onData);
      resolve({
        url,
        pid: child.pid ?? -1,
        child,
        output: () => output,
        waitForOutput: async (pattern) => {
          const seen = () =>
            typeof pattern === 'string' ? output.includes(pattern) : pattern.test(output);
          for (let i = 0; i < 100 && !seen(); i += 1)
            await new Promise((done) => setTimeout(done, 20));
          return output;
        },
        stop: (signal = 'SIGTERM') => {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal);
          return exited;
        },
      });
    };
    child.stdout.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${options.name} exited with ${code} before listening:\n${output}`));
    });
  });
}

/**
 * Runs `node <args>` expecting it to end by itself (a server refusing its config, say); resolves
 * with its exit code and everything it printed. Killed after `timeoutMs` (then the code is null).
 */
export function runUntilExit(options: {
  args: readonly string[];
  /** The whole environment of the child (nothing is inherited unless passed). */
  env: NodeJS.ProcessEnv;
  timeoutMs?: number;
}): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, options.args, {
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (chunk: Buffer) => (output += chunk.toString('utf8'));
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 10_000);
  return new Promise((resolve) =>
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    }),
  );
}
