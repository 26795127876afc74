// What a first `npm run drill` prints before the drill (scripts/ensure-deps.mjs) and what `npm run tools` prints
// (scripts/ensure-tools.mjs), on a machine with no Temporal CLI: a stand-in `go` on PATH "builds" one in a moment
// while printing Go's download noise. The plan with expected times comes first; the build is announced as one-time
// with its cache path and how to skip it; progress lines say the elapsed time; the noise goes to the setup log, not
// the terminal; a second run is silent; ensure-tools' LAST stdout line is still its JSON. Spawned: these are scripts.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');

/** A `go` whose `install` writes a working `temporal` 1.5.1 into $GOBIN after 1.5 s, with Go's usual noise. */
const FAKE_GO = `#!/bin/sh
i=0
while [ $i -lt 60 ]; do echo "go: downloading example.com/module$i v0.0.$i"; i=$((i+1)); done
sleep 1.5
printf '#!/bin/sh\\necho "temporal version 1.5.1 (Server 1.28.0, UI 2.39.0)"\\n' > "$GOBIN/temporal"
chmod +x "$GOBIN/temporal"
`;

describe('first run: setup before the drill, and npm run tools', function () {
  this.timeout(60_000);
  let dir = '';
  let env: NodeJS.ProcessEnv = {};

  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'geofailover-first-run-'));
    const bin = path.join(dir, 'bin');
    mkdirSync(bin);
    writeFileSync(path.join(bin, 'go'), FAKE_GO);
    chmodSync(path.join(bin, 'go'), 0o755);
    env = {
      PATH: [bin, path.dirname(process.execPath), '/usr/bin', '/bin'].join(path.delimiter),
      HOME: dir,
      GEOFAILOVER_CACHE_DIR: path.join(dir, 'cache'),
      GEOFAILOVER_PROGRESS_MS: '500',
      ...(process.env.REDIS_SERVER_PATH ? { REDIS_SERVER_PATH: process.env.REDIS_SERVER_PATH } : {}),
    };
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const script = (name: string, args: string[] = []) =>
    spawnSync(process.execPath, [path.join(ROOT, 'scripts', name), ...args], { env, encoding: 'utf8', cwd: ROOT });

  it('prints the plan and expected times, one line per tool, progress, and setup time; the noise goes to the log', () => {
    const cache = path.join(dir, 'cache');
    const first = script('ensure-deps.mjs', ['--drill']);
    const show = `--- stderr\n${first.stderr}\n--- stdout\n${first.stdout}`;
    assert.equal(first.status, 0, show);
    const err = first.stderr;
    const at = (re: RegExp): number => {
      const m = re.exec(err);
      assert.ok(m, `${re} in\n${show}`);
      return m.index;
    };
    const plan = at(/first run: setting up, once \(later runs skip this\), then the drill:/);
    at(/- Temporal CLI 1\.5\.1, built from source with Go\s+about 6–7 min/);
    at(new RegExp(`the Temporal CLI is cached at ${cache}/bin/temporal for every later run`));
    at(/skip it with TEMPORAL_CLI_PATH=\/path\/to\/temporal npm run drill/);
    at(/- the drill itself\s+about 20 s/);
    const logLine = at(new RegExp(`tool output \\(npm, apt-get, go\\) goes to ${cache}/setup\\.log`));
    const announced = at(/temporal: no Temporal CLI 1\.5\.1\+ found; building it with .*go, once only/);
    at(/temporal: building, \d+\.\d s so far \(once only; go's output in /);
    const built = at(new RegExp(`temporal: built ${cache}/bin/temporal, version 1\\.5\\.1, in \\d+\\.\\d s`));
    const done = at(/setup: done in \d+\.\d s \(Temporal CLI \d+\.\d s\); now the drill/);
    assert.ok(plan < logLine && logLine < announced && announced < built && built < done, 'in that order');
    assert.doesNotMatch(err, /go: downloading/, 'no build noise on the terminal');
    assert.match(readFileSync(path.join(cache, 'setup.log'), 'utf8'), /go: downloading example\.com\/module59/);
    const setup = JSON.parse(readFileSync(path.join(cache, 'last-setup.json'), 'utf8'));
    assert.deepEqual(Object.keys(setup).sort(), ['finishedAt', 'ms', 'parts']);
    assert.equal(first.stdout, '', 'nothing on stdout');

    // Set up once: the next run says nothing at all.
    const again = script('ensure-deps.mjs', ['--drill']);
    assert.equal(again.status, 0, again.stderr);
    assert.equal(again.stderr, '');
  });

  it('npm run tools: one line per tool, and the JSON as the last stdout line', () => {
    const run = script('ensure-tools.mjs');
    assert.equal(run.status, 0, run.stderr);
    const lines = run.stdout.trimEnd().split('\n');
    const json = JSON.parse(lines[lines.length - 1]!) as { temporal: string; redisServer: string };
    assert.equal(json.temporal, path.join(dir, 'cache', 'bin', 'temporal'));
    assert.ok(existsSync(json.redisServer));
    assert.match(run.stderr, /^temporal: found \(cache\) .*, version 1\.5\.1, in \d+\.\d s$/m);
    assert.match(run.stderr, /^redis-server: found \(.*\) .*, in \d+\.\d s$/m);
    assert.equal(run.stderr.trimEnd().split('\n').length, 2, `one line per tool:\n${run.stderr}`);
  });
});
