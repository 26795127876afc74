// Finds, builds or installs the external tools the tests and drills need: the Temporal CLI (dev server)
// and redis-server. Plain Node ESM with no npm dependencies, because it runs before `npm ci`.
// Used by the drill (src/drill/toolchain.ts; dist/toolchain/tools.mjs in the package, copied by the build), by
// scripts/ensure-tools.mjs (`npm run tools`, through scripts/tools.mjs) and by the mocha global fixture.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const TEMPORAL_CLI_VERSION = '1.5.1';
const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal';
// The release flags from the CLI's .goreleaser.yml; without -X the binary reports 0.0.0-DEV.
const TEMPORAL_CLI_LDFLAGS = `-s -w -X github.com/temporalio/cli/temporalcli.Version=${TEMPORAL_CLI_VERSION}`;
const GO_FALLBACK_PATHS = ['/usr/local/go/bin/go'];
const REDIS_FALLBACK_DIRS = ['/usr/bin', '/usr/sbin'];
// src/toolchain/ in a clone, dist/toolchain/ in the package: two levels below the root either way.
const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Thrown when a tool cannot be found, built or installed; the message says what to do. */
export class ToolError extends Error {
  name = 'ToolError';
}

/** What a first run costs, for the plan printed up front (measured on a 2-core machine). */
export const EXPECTED = {
  npmCi: 'about 1 min',
  apt: 'about 30 s',
  temporalBuild: 'about 6–7 min',
  temporalDownload: 'about 30 s',
  drill: 'about 20 s',
};

/** Where built tools live: outside the clone, so repeated clones (CI) reuse them. */
export function cacheDir(env = process.env) {
  if (env.GEOFAILOVER_CACHE_DIR) return path.resolve(env.GEOFAILOVER_CACHE_DIR);
  return path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'geofailover');
}

function isExecutableFile(file) {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function onPath(name, env = process.env) {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (dir && isExecutableFile(path.join(dir, name))) return path.join(dir, name);
  }
  return undefined;
}

function elapsed(startedAt) {
  return `${((performance.now() - startedAt) / 1000).toFixed(1)} s`;
}

/** 75_000 → "1 min 15 s", 9_400 → "9.4 s": progress lines a person reads. */
export function formatMs(ms) {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.round((ms % 60_000) / 1000);
  return seconds ? `${minutes} min ${seconds} s` : `${minutes} min`;
}

/**
 * The file the tools' own output (npm, apt-get, go) goes to, so a first run shows one line per tool instead of
 * hundreds of lines of download noise: GEOFAILOVER_SETUP_LOG, else setup.log in the cache dir.
 */
export function setupLogFile(env = process.env) {
  return env.GEOFAILOVER_SETUP_LOG ? path.resolve(env.GEOFAILOVER_SETUP_LOG) : path.join(cacheDir(env), 'setup.log');
}

/** The last lines of the setup log, for an error that says what went wrong. */
export function logTail(logFile, lines = 15) {
  try {
    const text = fs.readFileSync(logFile, 'utf8').trimEnd().split('\n');
    return text
      .slice(-lines)
      .map((l) => `    ${l}`)
      .join('\n');
  } catch {
    return '';
  }
}

function parseVersion(text) {
  const m = /(\d+)\.(\d+)\.(\d+)/.exec(text ?? '');
  return m ? { text: m[0], parts: m.slice(1).map(Number) } : undefined;
}

function atLeast(parts, min) {
  const wanted = min.split('.').map(Number);
  for (let i = 0; i < wanted.length; i++) {
    if (parts[i] !== wanted[i]) return parts[i] > wanted[i];
  }
  return true;
}

/** `temporal --version` of a binary, or undefined when it does not run. */
function temporalVersion(file) {
  const r = spawnSync(file, ['--version'], { encoding: 'utf8', timeout: 30_000 });
  return r.status === 0 ? parseVersion(r.stdout) : undefined;
}

/** Checks one candidate; returns the tool, or a reason it was passed over. */
function checkTemporal(file, source) {
  if (!isExecutableFile(file)) return { rejected: `${source}: ${file} is not an executable file` };
  const version = temporalVersion(file);
  if (!version) return { rejected: `${source}: ${file} --version did not report a version` };
  if (!atLeast(version.parts, TEMPORAL_CLI_VERSION)) {
    return { rejected: `${source}: ${file} is version ${version.text}, older than ${TEMPORAL_CLI_VERSION}` };
  }
  return { tool: { path: file, version: version.text, source } };
}

/** The path a built or downloaded Temporal CLI is cached at. */
export function cachedTemporalPath(env = process.env) {
  return path.join(cacheDir(env), 'bin', 'temporal');
}

/**
 * Looks for a Temporal CLI >= 1.5.1 without building: TEMPORAL_CLI_PATH, then `temporal` on PATH, then the
 * cache dir. Returns `{ tool?, rejected[] }`.
 * @throws ToolError when TEMPORAL_CLI_PATH is set but unusable (an explicit choice is never silently ignored).
 */
function findTemporalCli(env = process.env) {
  if (env.TEMPORAL_CLI_PATH) {
    const { tool, rejected } = checkTemporal(path.resolve(env.TEMPORAL_CLI_PATH), 'TEMPORAL_CLI_PATH');
    if (tool) return { tool, rejected: [] };
    throw new ToolError(
      `${rejected}. Point TEMPORAL_CLI_PATH at a Temporal CLI ${TEMPORAL_CLI_VERSION} or newer, or unset it.`,
    );
  }
  const rejected = [];
  for (const [file, source] of [
    [onPath('temporal', env), 'PATH'],
    [cachedTemporalPath(env), 'cache'],
  ]) {
    if (!file || !fs.existsSync(file)) continue;
    const r = checkTemporal(file, source);
    if (r.tool) return { tool: r.tool, rejected };
    rejected.push(r.rejected);
  }
  return { tool: undefined, rejected };
}

function findGo(env = process.env) {
  return onPath('go', env) ?? GO_FALLBACK_PATHS.find(isExecutableFile);
}

/**
 * Runs a command with its output appended to `logFile` (the setup log; stdout stays clean for the JSON result line,
 * and a person sees one line per tool). `heartbeat(ms)` is called every 30 s while it runs.
 */
export function run(file, args, { env = process.env, cwd, heartbeat, logFile = setupLogFile(env) } = {}) {
  return new Promise((resolve) => {
    const startedAt = performance.now();
    fs.mkdirSync(path.dirname(logFile), { recursive: true });
    const fd = fs.openSync(logFile, 'a');
    fs.writeSync(fd, `\n--- ${new Date().toISOString()} $ ${[file, ...args].join(' ')}\n`);
    const child = spawn(file, args, { env, cwd, stdio: ['ignore', fd, fd] });
    // Every 30 s; GEOFAILOVER_PROGRESS_MS changes it (tests).
    const every = Number(env.GEOFAILOVER_PROGRESS_MS) || 30_000;
    const timer = heartbeat && setInterval(() => heartbeat(performance.now() - startedAt), every);
    const done = (result) => {
      clearInterval(timer);
      fs.closeSync(fd);
      resolve(result);
    };
    child.on('error', (error) => done({ ok: false, detail: error.message }));
    child.on('exit', (code, signal) =>
      done({ ok: code === 0, detail: signal ? `killed by ${signal}` : `exit code ${code}` }),
    );
  });
}

/** Moves a freshly made binary into the cache atomically, so a concurrent run never sees half a file. */
function installIntoCache(file, env) {
  const dest = cachedTemporalPath(env);
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  fs.chmodSync(file, 0o755);
  fs.renameSync(file, dest); // the file is made under cacheDir(), so this stays on one file system
  return dest;
}

async function buildTemporalCli(go, env, log) {
  const root = cacheDir(env);
  fs.mkdirSync(root, { recursive: true });
  const gobin = fs.mkdtempSync(path.join(root, 'build-'));
  const logFile = setupLogFile(env);
  try {
    log(
      `temporal: no Temporal CLI ${TEMPORAL_CLI_VERSION}+ found; building it with ${go}, once only ` +
        `(${EXPECTED.temporalBuild} on 2 cores), cached at ${cachedTemporalPath(env)} for every later run; ` +
        `skip the build with TEMPORAL_CLI_PATH=/path/to/temporal (or a temporal on PATH)`,
    );
    const result = await run(
      go,
      ['install', '-ldflags', TEMPORAL_CLI_LDFLAGS, `${TEMPORAL_CLI_MODULE}@v${TEMPORAL_CLI_VERSION}`],
      {
        env: { ...env, CGO_ENABLED: '0', GOBIN: gobin },
        logFile,
        heartbeat: (ms) => log(`temporal: building, ${formatMs(ms)} so far (once only; go's output in ${logFile})`),
      },
    );
    if (!result.ok) {
      throw new ToolError(
        `go install ${TEMPORAL_CLI_MODULE}@v${TEMPORAL_CLI_VERSION} failed (${result.detail}); its output is in ${logFile}:\n` +
          `${logTail(logFile)}\n` +
          'It needs Go 1.21 or newer (the module asks for Go 1.25, which Go fetches from the module proxy) and the Go module proxy.',
      );
    }
    const built = checkTemporal(path.join(gobin, 'temporal'), 'build');
    if (!built.tool) throw new ToolError(`the build finished but ${built.rejected}`);
    return { ...built.tool, path: installIntoCache(built.tool.path, env), source: 'built' };
  } finally {
    fs.rmSync(gobin, { recursive: true, force: true });
  }
}

/** Lets @temporalio/testing download the CLI (needs internet and node_modules), then keeps a copy in the cache. */
async function downloadTemporalCli(env, log) {
  if (!fs.existsSync(path.join(REPO_ROOT, 'node_modules', '@temporalio', 'testing'))) {
    // An installed package has no dev dependencies; a clone may not have run npm ci yet.
    const clone = fs.existsSync(path.join(REPO_ROOT, '.git'));
    throw new ToolError(
      `no Temporal CLI ${TEMPORAL_CLI_VERSION}+ found and Go is missing, so it cannot be built. ` +
        `Install the Temporal CLI (https://docs.temporal.io/cli) and put it on PATH or set TEMPORAL_CLI_PATH to it, ` +
        `install Go 1.21+ (e.g. into /usr/local/go) to build it, or set TEMPORAL_ADDRESS to a Temporal server to use` +
        (clone
          ? `; or run \`npm ci\` first so that @temporalio/testing can download the CLI (needs internet), then run \`npm run tools\` again.`
          : '.'),
    );
  }
  const downloadDir = path.join(cacheDir(env), 'download');
  fs.mkdirSync(downloadDir, { recursive: true });
  log(
    `temporal: no Temporal CLI and no Go; downloading it with @temporalio/testing into ${downloadDir}, once only ` +
      `(${EXPECTED.temporalDownload}); skip it with TEMPORAL_CLI_PATH=/path/to/temporal`,
  );
  // A child process, so the SDK's native runtime never lives in the caller (the test process installs its own).
  const script = `
    const { TestWorkflowEnvironment } = require('@temporalio/testing');
    TestWorkflowEnvironment.createLocal({ server: { executable: { type: 'cached-download', downloadDir: ${JSON.stringify(downloadDir)} } } })
      .then((env) => env.teardown())
      .catch((err) => { console.error(err); process.exitCode = 1; });`;
  const result = await run(process.execPath, ['-e', script], { env, cwd: REPO_ROOT, logFile: setupLogFile(env) });
  // The download can succeed even when the SDK's 5 s start-up check fails on a slow machine: look for the file.
  const downloaded = fs
    .readdirSync(downloadDir)
    .filter((name) => name.startsWith('temporal-') && isExecutableFile(path.join(downloadDir, name)))
    .map((name) => path.join(downloadDir, name))
    .sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs)[0];
  if (!downloaded) {
    throw new ToolError(
      `@temporalio/testing could not download the Temporal CLI (${result.detail}; output in ${setupLogFile(env)}). ` +
        `Install Go 1.21+ so the CLI can be built from Go modules, or set TEMPORAL_CLI_PATH.`,
    );
  }
  const checked = checkTemporal(downloaded, 'download');
  if (!checked.tool) throw new ToolError(`the downloaded CLI is unusable: ${checked.rejected}`);
  return { ...checked.tool, path: installIntoCache(downloaded, env), source: 'downloaded' };
}

/**
 * Finds a Temporal CLI >= 1.5.1, else builds v1.5.1 from Go modules into the cache dir, else (no Go) lets
 * @temporalio/testing download it. Returns `{ path, version, source, seconds }`.
 * @throws ToolError with what to install when all of that fails.
 */
export async function ensureTemporalCli({ env = process.env, log = logToStderr } = {}) {
  const startedAt = performance.now();
  const found = findTemporalCli(env);
  for (const reason of found.rejected) log(`temporal: passed over ${reason}`);
  let tool = found.tool;
  if (!tool) {
    const go = findGo(env);
    tool = go ? await buildTemporalCli(go, env, log) : await downloadTemporalCli(env, log);
  }
  const verb = tool.source === 'built' || tool.source === 'downloaded' ? tool.source : `found (${tool.source})`;
  log(`temporal: ${verb} ${tool.path}, version ${tool.version}, in ${elapsed(startedAt)}`);
  return { ...tool, seconds: (performance.now() - startedAt) / 1000 };
}

function redisVersion(file) {
  const r = spawnSync(file, ['--version'], { encoding: 'utf8', timeout: 30_000 });
  return r.status === 0 ? parseVersion(r.stdout)?.text : undefined;
}

/**
 * Looks for redis-server: REDIS_SERVER_PATH, then PATH, /usr/bin, /usr/sbin.
 * @throws ToolError when REDIS_SERVER_PATH is set but unusable.
 */
function findRedisServer(env = process.env) {
  if (env.REDIS_SERVER_PATH) {
    const file = path.resolve(env.REDIS_SERVER_PATH);
    const version = isExecutableFile(file) ? redisVersion(file) : undefined;
    if (version) return { path: file, version, source: 'REDIS_SERVER_PATH' };
    throw new ToolError(`REDIS_SERVER_PATH: ${file} is not a working redis-server. Fix the path or unset it.`);
  }
  const candidates = [
    [onPath('redis-server', env), 'PATH'],
    ...REDIS_FALLBACK_DIRS.map((dir) => [path.join(dir, 'redis-server'), dir]),
  ];
  for (const [file, source] of candidates) {
    if (!file || !isExecutableFile(file)) continue;
    const version = redisVersion(file);
    if (version) return { path: file, version, source };
  }
  return undefined;
}

async function aptInstallRedis(env, log) {
  // The package's own service (systemd unit or init script) is never used: the emulator starts its own
  // redis-servers on free ports. A temporary policy-rc.d keeps dpkg from starting it on port 6379.
  const policy = '/usr/sbin/policy-rc.d';
  const ownPolicy = !fs.existsSync(policy);
  if (ownPolicy)
    fs.writeFileSync(policy, '#!/bin/sh\n# written by geofailover ensure-tools during apt-get install\nexit 101\n', {
      mode: 0o755,
    });
  try {
    const aptEnv = { ...env, DEBIAN_FRONTEND: 'noninteractive' };
    // openssh-client: ssh-keygen, for the tests that check our SSHSIG signatures against OpenSSH's.
    const install = ['install', '-y', 'redis-server', 'openssh-client'];
    const logFile = setupLogFile(env);
    log(
      `redis-server: not found; installing Debian's redis-server with apt-get (${EXPECTED.apt}; output in ${logFile})`,
    );
    const heartbeat = (ms) => log(`redis-server: installing, ${formatMs(ms)} so far`);
    let result = await run('apt-get', install, { env: aptEnv, logFile, heartbeat });
    if (!result.ok) {
      log(`redis-server: apt-get install failed (${result.detail}); running apt-get update and trying again`);
      await run('apt-get', ['update'], { env: aptEnv, logFile, heartbeat });
      result = await run('apt-get', install, { env: aptEnv, logFile, heartbeat });
    }
    return result;
  } finally {
    if (ownPolicy) fs.rmSync(policy, { force: true });
  }
}

/**
 * Finds redis-server, else installs Debian's `redis-server` when running as root with apt-get.
 * Returns `{ path, version, source, seconds }`.
 * @throws ToolError saying exactly what to install when neither works.
 */
export async function ensureRedisServer({ env = process.env, log = logToStderr } = {}) {
  const startedAt = performance.now();
  let tool = findRedisServer(env);
  if (!tool) {
    const canApt = process.getuid?.() === 0 && onPath('apt-get', env);
    if (!canApt) {
      throw new ToolError(
        'redis-server not found (looked at REDIS_SERVER_PATH, PATH, /usr/bin, /usr/sbin). ' +
          "Install it: `sudo apt-get install -y redis-server` on Debian/Ubuntu (or your platform's redis package, Redis 7+), " +
          'or set REDIS_SERVER_PATH to a redis-server binary.',
      );
    }
    const result = await aptInstallRedis(env, log);
    tool = findRedisServer(env);
    if (!tool) {
      throw new ToolError(
        `apt-get install -y redis-server did not provide redis-server (${result.detail}); its output is in ` +
          `${setupLogFile(env)}:\n${logTail(setupLogFile(env))}`,
      );
    }
    tool = { ...tool, source: 'apt-get' };
  }
  const verb = tool.source === 'apt-get' ? 'installed with apt-get' : `found (${tool.source})`;
  log(`redis-server: ${verb} ${tool.path}, version ${tool.version}, in ${elapsed(startedAt)}`);
  return { ...tool, seconds: (performance.now() - startedAt) / 1000 };
}

/**
 * What a first run still has to set up, without doing any of it (fast: it only looks): `redis` is 'found', 'apt' or
 * 'missing'; `temporal` is 'found', 'build', 'download', 'missing' or 'not needed' (`temporalCli: false`).
 */
export function plannedTools({ env = process.env, temporalCli = true } = {}) {
  let redis = 'found';
  try {
    if (!findRedisServer(env)) redis = process.getuid?.() === 0 && onPath('apt-get', env) ? 'apt' : 'missing';
  } catch {
    redis = 'missing';
  }
  let temporal = 'not needed';
  if (temporalCli) {
    try {
      temporal = findTemporalCli(env).tool
        ? 'found'
        : findGo(env)
          ? 'build'
          : fs.existsSync(path.join(REPO_ROOT, 'node_modules', '@temporalio', 'testing')) ||
              fs.existsSync(path.join(REPO_ROOT, '.git'))
            ? 'download'
            : 'missing';
    } catch {
      temporal = 'missing';
    }
  }
  return { redis, temporal };
}

export function logToStderr(line) {
  process.stderr.write(`${line}\n`);
}
