// `npm run build` (and `prepack`): compiles src/ into dist/ and adds what the compiled CLI needs at run time —
//   - the non-TypeScript files under src/ (the emulator's default scenario),
//   - dist/build-info.json: the git commit (`geofailover --version`; GEOFAILOVER_GIT_COMMIT overrides, e.g. in a
//     Docker build, which has no .git),
//   - dist/cli/commands.json: the command index, so `geofailover --help` lists every command without loading them,
//   - dist/workflows.bundle.js: the workflow code bundled once, so a worker starts without bundling it.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SRC = path.join(ROOT, 'src');
const DIST = path.join(ROOT, 'dist');
const require = createRequire(import.meta.url);

function step(name, fn) {
  const started = performance.now();
  const result = fn();
  process.stderr.write(`build: ${name} (${((performance.now() - started) / 1000).toFixed(1)} s)\n`);
  return result;
}

function gitCommit() {
  if (process.env.GEOFAILOVER_GIT_COMMIT) return process.env.GEOFAILOVER_GIT_COMMIT.trim().slice(0, 40);
  if (!fs.existsSync(path.join(ROOT, '.git'))) return undefined;
  try {
    return execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return undefined;
  }
}

function copyAssets(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) copyAssets(file);
    else if (!entry.name.endsWith('.ts')) {
      const target = path.join(DIST, path.relative(SRC, file));
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.copyFileSync(file, target);
    }
  }
}

// A stale file of a removed module must not ship.
step('clean dist/', () => fs.rmSync(DIST, { recursive: true, force: true }));
step('tsc -p tsconfig.build.json', () => {
  try {
    execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
      cwd: ROOT,
      stdio: 'inherit',
    });
  } catch {
    process.stderr.write('build: tsc reported errors (above); nothing was packaged\n');
    process.exit(1);
  }
});
step('assets', () => copyAssets(SRC));
step('build-info.json', () => {
  const commit = gitCommit();
  fs.writeFileSync(path.join(DIST, 'build-info.json'), `${JSON.stringify(commit ? { commit } : {})}\n`);
});
step('cli/commands.json', () => {
  const cli = require(path.join(DIST, 'cli', 'main.js'));
  const program = cli.buildProgram({ stdout: () => {}, stderr: () => {} }, () => {});
  fs.writeFileSync(cli.COMMAND_INDEX_FILE, `${JSON.stringify(cli.commandIndex(program), null, 2)}\n`);
});
const { bundleWorkflowCode, DefaultLogger } = require('@temporalio/worker');
const started = performance.now();
const bundle = await bundleWorkflowCode({
  workflowsPath: path.join(DIST, 'workflows', 'index.js'),
  logger: new DefaultLogger('WARN'),
});
fs.writeFileSync(path.join(DIST, 'workflows.bundle.js'), bundle.code);
process.stderr.write(`build: workflows.bundle.js (${((performance.now() - started) / 1000).toFixed(1)} s)\n`);
