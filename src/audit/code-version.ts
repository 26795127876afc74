/**
 * Which code wrote an evidence report and replayed its history: the package version and, when known, the git
 * commit (from the build's dist/build-info.json, else the clone's own git). The audit does not depend on the CLI,
 * so it reads these itself.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
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

/** The package root: the first directory above this file whose package.json is geofailover's (source or build). */
function packageRoot(): string | undefined {
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if (readJson(path.join(dir, 'package.json'))?.name === 'geofailover') return dir;
  }
  return undefined;
}

function gitCommit(root: string): string | undefined {
  // Only the clone's own repository: a package installed inside someone else's repository is not at their commit.
  if (!existsSync(path.join(root, '.git'))) return undefined;
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

let known: CodeVersion | undefined;

/** geofailover's version and commit, read once per process. */
export function codeVersion(): CodeVersion {
  if (known) return known;
  const root = packageRoot();
  const version = root ? readJson(path.join(root, 'package.json'))?.version : undefined;
  const built = root ? readJson(path.join(root, 'dist', 'build-info.json'))?.commit : undefined;
  const commit = typeof built === 'string' && built ? built : root ? gitCommit(root) : undefined;
  known = { version: typeof version === 'string' ? version : '0.0.0', ...(commit ? { commit } : {}) };
  return known;
}
