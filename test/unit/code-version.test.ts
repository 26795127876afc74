// The code version a report and `--version` name: from a clone, HEAD's commit read from .git's files (no `git`
// process) is what `git rev-parse --short=12 HEAD` says, for a branch, a packed ref and a detached HEAD.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { headCommitFromFiles } from '../../src/audit/code-version';

const ROOT = path.resolve(__dirname, '../..');
const SHA = '0123456789abcdef0123456789abcdef01234567';

describe('code version: the commit from .git without git', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'geofailover-code-version-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is what git rev-parse --short=12 HEAD says in this clone', function () {
    if (!existsSync(path.join(ROOT, '.git'))) this.skip();
    const git = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    assert.equal(headCommitFromFiles(path.join(ROOT, '.git')), git);
  });

  it('reads a loose branch ref, a packed one, and a detached HEAD', () => {
    writeFileSync(path.join(dir, 'HEAD'), 'ref: refs/heads/main\n');
    mkdirSync(path.join(dir, 'refs', 'heads'), { recursive: true });
    writeFileSync(path.join(dir, 'refs', 'heads', 'main'), `${SHA}\n`);
    assert.equal(headCommitFromFiles(dir), SHA.slice(0, 12));
    rmSync(path.join(dir, 'refs', 'heads', 'main'));
    writeFileSync(
      path.join(dir, 'packed-refs'),
      `# pack-refs with: peeled fully-peeled sorted\n${SHA} refs/heads/main\n`,
    );
    assert.equal(headCommitFromFiles(dir), SHA.slice(0, 12));
    writeFileSync(path.join(dir, 'HEAD'), `${SHA}\n`);
    assert.equal(headCommitFromFiles(dir), SHA.slice(0, 12));
  });

  it('leaves anything else to git: a .git file (worktree), a missing ref, a ref outside refs/', () => {
    const file = path.join(dir, 'dotgit-file');
    writeFileSync(file, 'gitdir: /elsewhere\n');
    assert.equal(headCommitFromFiles(file), undefined);
    writeFileSync(path.join(dir, 'HEAD'), 'ref: refs/heads/none\n');
    assert.equal(headCommitFromFiles(dir), undefined);
    writeFileSync(path.join(dir, 'HEAD'), 'ref: refs/../../etc/passwd\n');
    assert.equal(headCommitFromFiles(dir), undefined);
  });
});
