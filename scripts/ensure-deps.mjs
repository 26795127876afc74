// Sets up what a fresh clone needs before `npm run drill` or `npm test`: the npm dependencies when they are missing or
// older than package-lock.json, and for the drill also its tools (redis-server, and the Temporal CLI unless
// TEMPORAL_ADDRESS names a server). A first run prints its plan with the expected times up front, one line per tool
// and a progress line every 30 s; the tools' own output (npm, apt-get, go) goes to a log file whose path it prints.
// Plain Node with no dependencies: it runs before they exist. A no-op (well under a second) once all is set up.
import { statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tools from '../src/toolchain/tools.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const env = process.env;
const forDrill = env.npm_lifecycle_event === 'drill' || process.argv.includes('--drill');
const log = (line) => process.stderr.write(`${line}\n`);
const mtime = (file) => {
  try {
    return statSync(path.join(root, file)).mtimeMs;
  } catch {
    return undefined;
  }
};

const installed = mtime('node_modules/.package-lock.json');
const wanted = mtime('package-lock.json');
const needsNpm = installed === undefined || (wanted !== undefined && installed < wanted);
const planned = forDrill ? tools.plannedTools({ env, temporalCli: !env.TEMPORAL_ADDRESS }) : undefined;
const logFile = tools.setupLogFile(env);

// The plan, before anything takes time.
const steps = [];
if (needsNpm) steps.push(['npm dependencies (npm ci)', tools.EXPECTED.npmCi]);
if (planned?.redis === 'apt') steps.push(["redis-server (Debian's package, apt-get)", tools.EXPECTED.apt]);
if (planned?.temporal === 'build') {
  steps.push([`Temporal CLI ${tools.TEMPORAL_CLI_VERSION}, built from source with Go`, tools.EXPECTED.temporalBuild]);
}
if (planned?.temporal === 'download') {
  steps.push([`Temporal CLI ${tools.TEMPORAL_CLI_VERSION}, downloaded`, tools.EXPECTED.temporalDownload]);
}
if (steps.length > 0 && forDrill) {
  log('first run: setting up, once (later runs skip this), then the drill:');
  const width = Math.max(...steps.map(([what]) => what.length), 'the drill itself'.length);
  for (const [what, time] of steps) log(`  - ${what.padEnd(width)}  ${time}`);
  if (planned?.temporal === 'build' || planned?.temporal === 'download') {
    log(`    (the Temporal CLI is cached at ${tools.cachedTemporalPath(env)} for every later run;`);
    log('     skip it with TEMPORAL_CLI_PATH=/path/to/temporal npm run drill, or set TEMPORAL_ADDRESS to a server)');
  }
  log(`  - ${'the drill itself'.padEnd(width)}  ${tools.EXPECTED.drill}`);
  log(`tool output (npm, apt-get, go) goes to ${logFile}`);
}

const startedAt = performance.now();
const parts = [];
try {
  if (needsNpm) {
    if (!forDrill) log(`installing npm dependencies (npm ci, ${tools.EXPECTED.npmCi}; output in ${logFile})…`);
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const began = performance.now();
    const result = await tools.run(npm, ['ci', '--no-audit', '--no-fund'], {
      cwd: root,
      logFile,
      heartbeat: (ms) => log(`npm: installing, ${tools.formatMs(ms)} so far`),
    });
    if (!result.ok) {
      log(`npm ci failed (${result.detail}); its output is in ${logFile}:\n${tools.logTail(logFile)}`);
      process.exit(1);
    }
    const ms = performance.now() - began;
    parts.push(`npm ci ${tools.formatMs(ms)}`);
    log(`npm: dependencies installed in ${tools.formatMs(ms)}`);
  }
  if (planned && (planned.redis !== 'found' || planned.temporal === 'build' || planned.temporal === 'download')) {
    // One line per tool (found, installed or built, with its time); the drill finds them in the cache at once.
    const [redis, temporal] = await Promise.all([
      tools.ensureRedisServer({ env, log }),
      planned.temporal === 'not needed' ? undefined : tools.ensureTemporalCli({ env, log }),
    ]);
    if (planned.redis !== 'found') parts.push(`redis-server ${tools.formatMs(redis.seconds * 1000)}`);
    if (temporal && planned.temporal !== 'found') parts.push(`Temporal CLI ${tools.formatMs(temporal.seconds * 1000)}`);
  }
} catch (e) {
  log(`setup: ${e instanceof tools.ToolError ? e.message : (e?.stack ?? e)}`);
  process.exit(1);
}

if (parts.length > 0) {
  const ms = performance.now() - startedAt;
  log(`setup: done in ${tools.formatMs(ms)} (${parts.join(', ')})${forDrill ? '; now the drill' : ''}`);
  // The drill reports the setup before it apart from its own time.
  try {
    writeFileSync(
      path.join(tools.cacheDir(env), 'last-setup.json'),
      JSON.stringify({ finishedAt: new Date().toISOString(), ms: Math.round(ms), parts }),
    );
  } catch {
    // only a report
  }
}
