/**
 * Which code runs: the package version and, when known, the git commit — recorded in dist/build-info.json by the
 * build, else asked of the clone's own git when run from the sources. The evidence report names it for the replay,
 * and `geofailover --version` prints it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

export interface CodeVersion {
  version: string;
  commit?: string;
}

function readJson(file: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

const FULL_SHA = /^[0-9a-f]{40}$/;

/**
 * HEAD's commit read from the repository's files (HEAD, then its branch's ref, loose or packed), without starting
 * `git`: a plain clone's common case. Undefined for anything else (a worktree, a submodule, an odd ref): ask git.
 */
export function headCommitFromFiles(dotGit: string): string | undefined {
  try {
    if (!statSync(dotGit).isDirectory()) return undefined;
    const head = readFileSync(path.join(dotGit, 'HEAD'), 'utf8').trim();
    if (FULL_SHA.test(head)) return head.slice(0, 12);
    const ref = /^ref: (refs\/[\w./-]+)$/.exec(head)?.[1];
    if (!ref || ref.split('/').includes('..')) return undefined;
    let sha: string | undefined;
    try {
      sha = readFileSync(path.join(dotGit, ref), 'utf8').trim();
    } catch {
      sha = readFileSync(path.join(dotGit, 'packed-refs'), 'utf8')
        .split('\n')
        .find((line) => line.endsWith(` ${ref}`))
        ?.split(' ')[0];
    }
    return sha && FULL_SHA.test(sha) ? sha.slice(0, 12) : undefined;
  } catch {
    return undefined;
  }
}

function gitCommit(root: string): string | undefined {
  // Only the clone's own repository: a package installed inside someone else's repository is not at their commit.
  const dotGit = path.join(root, '.git');
  if (!existsSync(dotGit)) return undefined;
  const fromFiles = headCommitFromFiles(dotGit);
  if (fromFiles) return fromFiles;
  try {
    const out = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 5000,
    }).trim();
    return /^[0-9a-f]{7,40}$/.test(out) ? out : undefined;
  } catch {
    return undefined;
  }
}

/** The package root: this file is src/audit/code-version.ts, or dist/audit/code-version.js once built. */
const ROOT = path.resolve(__dirname, '..', '..');
/** Written by the build (scripts/build.mjs) into dist/; from the sources there is none (a stale dist/ is not read). */
export const BUILD_INFO_FILE = path.join(__dirname, '..', 'build-info.json');

const known = new Map<boolean, CodeVersion>();

/** geofailover's version, and the commit from the build or (with `git`, the default) the clone's git; once per process. */
export function codeVersion(options: { git?: boolean } = {}): CodeVersion {
  const git = options.git ?? true;
  const cached = known.get(git);
  if (cached) return cached;
  const version = readJson(path.join(ROOT, 'package.json'))?.version;
  const built = readJson(BUILD_INFO_FILE)?.commit;
  const commit = typeof built === 'string' && built ? built : git ? gitCommit(ROOT) : undefined;
  const info = { version: typeof version === 'string' ? version : 'unknown', ...(commit ? { commit } : {}) };
  known.set(git, info);
  return info;
}
