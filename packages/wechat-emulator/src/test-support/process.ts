/** The emulator's own tests: one emulator process per test file, reset before each test. */
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { type EmulatorProcess, startEmulatorProcess } from '../control-client.js';

export function useEmulatorProcess(
  options: Parameters<typeof startEmulatorProcess>[0],
): () => EmulatorProcess {
  let emu: EmulatorProcess | undefined;
  beforeAll(async () => {
    emu = await startEmulatorProcess(options);
  });
  afterAll(async () => {
    await emu?.stop();
  });
  const current = (): EmulatorProcess => {
    if (!emu) throw new Error('emulator not started');
    return emu;
  };
  beforeEach(async () => {
    await current().control.reset();
  });
  return current;
}
