#!/usr/bin/env node
// Compiles the mini-program offline the way WeChat DevTools does (miniprogram-ci, TypeScript
// compiler plugin) and prints the compiled files as JSON; with a path argument it also writes
// every compiled file's text there (JSON { name: text }), for the test to read what it compiled. The project's attributes, which
// miniprogram-ci would fetch from WeChat with an upload key, are given locally instead, so no key
// and no WeChat account is needed. miniprogram-ci still asks servicewechat.com for an extension
// allow-list and carries on when that fails; it also leaves handles open, hence the explicit exit.
const path = require('node:path');
const ci = require('miniprogram-ci');

const projectPath = path.join(__dirname, '..');
const LOCAL_ATTR = {
  platform: false,
  appType: 0,
  isSandbox: false,
  released: false,
  setting: {},
  gameApp: false,
  allowPlugin: false,
};

(async () => {
  const project = new ci.Project({
    appid: 'wx0000000000mpapp0',
    type: 'miniProgram',
    projectPath,
    privateKey: 'local-compile-only',
    ignores: ['node_modules/**/*', 'test/**/*', 'scripts/**/*', 'cloudfunctions/**/*'],
  });
  project.attr = async () => LOCAL_ATTR;
  const result = await ci.getCompiledResult({
    project,
    version: '0.0.0',
    setting: { useCompilerPlugins: ['typescript'], es6: true },
    onProgressUpdate: () => undefined,
  });
  process.stdout.write(`COMPILED ${JSON.stringify(Object.keys(result).sort())}\n`);
  const out = process.argv[2];
  if (out) {
    const texts = {};
    for (const [name, content] of Object.entries(result)) {
      texts[name] = typeof content === 'string' ? content : Buffer.from(content).toString('utf8');
    }
    require('node:fs').writeFileSync(out, JSON.stringify(texts));
  }
  process.exit(0);
})().catch((error) => {
  process.stderr.write(`compile failed: ${error && (error.stack || error.message || error)}\n`);
  process.exit(1);
});
