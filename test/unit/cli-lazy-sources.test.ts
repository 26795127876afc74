// From the sources (a clone: no command index), a command that runs loads its own module alone, as the installed
// package does; the top-level help still lists every command, and a typo still gets its suggestion.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { buildProgram, main } from '../../src/cli/main';

const ROOT = path.resolve(__dirname, '../..');

/** The command modules a fresh process loads for `argv` from the sources (no index). */
function commandModulesLoaded(argv: string[]): string[] {
  const probe = `
    const { main } = require('./src/cli/main.ts');
    main(JSON.parse(process.argv[1]), { stdout() {}, stderr() {} }, undefined, undefined).then(() => {
      const loaded = Object.keys(require.cache)
        .map((f) => /src[\\\\/]cli[\\\\/]commands[\\\\/]([\\w-]+)\\.ts$/.exec(f)?.[1])
        .filter(Boolean);
      process.stdout.write(JSON.stringify(loaded.sort()));
    });`;
  const child = spawnSync(process.execPath, ['-r', 'tsx/cjs', '-e', probe, JSON.stringify(argv)], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  assert.equal(child.status, 0, child.stderr);
  return JSON.parse(child.stdout) as string[];
}

describe('CLI from the sources: only the command that runs is loaded', () => {
  it('audit loads the audit command (and what it imports), not drill, emulator or worker', () => {
    const loaded = commandModulesLoaded(['audit', '--verify', path.join(ROOT, 'no-such-package-dir')]);
    assert.ok(loaded.includes('audit'), loaded.join(', '));
    for (const other of ['drill', 'emulator', 'worker', 'start', 'evacuate', 'readiness']) {
      assert.ok(!loaded.includes(other), `${other} is not loaded (loaded: ${loaded.join(', ')})`);
    }
  });

  it('the top-level help still lists every command with its summary', async () => {
    let out = '';
    const code = await main(['--help'], { stdout: (s) => (out += s), stderr: () => {} }, undefined, undefined);
    assert.equal(code, 0);
    const full = buildProgram({ stdout: () => {}, stderr: () => {} }, () => {}).helpInformation();
    assert.ok(out.startsWith(full), out);
    assert.match(out, /audit .*replay a runbook's history/);
    assert.match(out, /emulator/);
  });

  it('a typo next to a command name still gets its suggestion', async () => {
    let err = '';
    const code = await main(['stat', 'audit'], { stdout: () => {}, stderr: (s) => (err += s) }, undefined, undefined);
    assert.equal(code, 2);
    assert.match(err, /unknown command 'stat'[\s\S]*Did you mean status\?/);
  });
});
