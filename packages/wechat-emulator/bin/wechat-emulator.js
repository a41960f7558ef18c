#!/usr/bin/env node
// Stable bin entry: exists before the build, so installs can link it; runs the compiled CLI.
await import('../dist/cli.js');
