/**
 * What the repo's tests, bench and dev stack share. A server here (the HTTP server, the emulator,
 * the bench floor) prints `listening on <url>` on stdout once it accepts connections: that line is
 * the protocol, and LISTENING_LINE is its one definition.
 */
export {
  LISTENING_LINE,
  type ListeningProcess,
  runUntilExit,
  spawnUntilListening,
} from './process.js';
export { folderBytes, residentBytes } from './measure.js';
export { type TempDir, tempDir } from './temp-dir.js';
