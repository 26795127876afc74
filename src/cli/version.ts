/**
 * `geofailover --version`: the package version and, when known, the git commit it was built from — recorded
 * in dist/build-info.json by the build, or asked of the clone's own git when run from the sources.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** The package root: this file is src/cli/version.ts, or dist/cli/version.js once built. */
const ROOT = path.resolve(__dirname, '..', '..');
/** Written by the build (scripts/build.mjs) into dist/. */
export const BUILD_INFO_FILE = path.join(__dirname, '..', 'build-info.json');

export interface BuildInfo {
  version: string;
  /** the git commit (abbreviated), when known */
  commit?: string;
}

function readJson(file: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

function gitCommit(): string | undefined {
  // Only the clone's own repository: a package installed inside someone else's repository is not at their commit.
  if (!existsSync(path.join(ROOT, '.git'))) return undefined;
  try {
    const out = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 5000,
    }).trim();
    return /^[0-9a-f]{7,40}$/.test(out) ? out : undefined;
  } catch {
    return undefined;
  }
}

/** The version, and the commit from the build (or, with `git`, from the clone's git). */
export function buildInfo(options: { git?: boolean } = {}): BuildInfo {
  const version = readJson(path.join(ROOT, 'package.json'))?.version;
  const built = readJson(BUILD_INFO_FILE)?.commit;
  const commit = typeof built === 'string' && built ? built : options.git ? gitCommit() : undefined;
  return { version: typeof version === 'string' ? version : 'unknown', ...(commit ? { commit } : {}) };
}

/** `0.2.0 (commit 0123456789ab)`, or `0.2.0` when the commit is not known. */
export function versionText(info: BuildInfo): string {
  return info.commit ? `${info.version} (commit ${info.commit})` : info.version;
}
