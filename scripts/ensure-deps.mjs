// Installs the npm dependencies when they are missing or older than package-lock.json, so that a fresh
// clone needs exactly one command for each of the main jobs (`npm run drill`, `npm test`). Plain Node
// with no dependencies: it runs before they exist. A no-op (a few milliseconds) once they are installed.
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const mtime = (file) => {
  try {
    return statSync(path.join(root, file)).mtimeMs;
  } catch {
    return undefined;
  }
};

const installed = mtime('node_modules/.package-lock.json');
const wanted = mtime('package-lock.json');
if (installed === undefined || (wanted !== undefined && installed < wanted)) {
  process.stderr.write('installing npm dependencies (npm ci)…\n');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const result = spawnSync(npm, ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: ['ignore', 2, 2] });
  if (result.status !== 0) {
    process.stderr.write(`npm ci failed (exit ${result.status ?? result.signal}); run it yourself to see why\n`);
    process.exit(result.status ?? 1);
  }
}
