#!/usr/bin/env node
'use strict';
// A clone runs its TypeScript sources through tsx (no build step, and never a stale dist/); the installed
// package has no sources and runs the compiled dist/ with plain Node.
const fs = require('node:fs');
const path = require('node:path');

// Node ≥ 22.1 caches compiled code between runs: faster start-up for every command.
require('node:module').enableCompileCache?.();

const sources = path.join(__dirname, '..', 'src', 'cli', 'main.ts');
function hasTsx() {
  try {
    require.resolve('tsx/cjs');
    return true;
  } catch {
    return false;
  }
}
if (fs.existsSync(sources) && hasTsx()) {
  require('tsx/cjs');
  require(sources);
} else {
  require('../dist/cli/main.js');
}
