#!/usr/bin/env node
// Stable bin entry: runs the compiled server (configured from the environment).
await import('../dist/main.js');
