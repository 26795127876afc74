/**
 * The workflow code workers and the audit's replay run. An installed package has the bundle its build made
 * (dist/workflows.bundle.js, scripts/build.mjs). From the sources (a clone), src/workflows is bundled once and kept
 * in node_modules/.cache/geofailover/ under a hash of the sources and the lock file, so later workers, drills and
 * audits start without the few seconds bundling takes.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const PREBUILT_WORKFLOW_BUNDLE = path.join(__dirname, 'workflows.bundle.js');

/** Names a workflow bundle built elsewhere (e.g. once per test run) for workers started from the sources. */
export const WORKFLOW_BUNDLE_ENV = 'GEOFAILOVER_WORKFLOW_BUNDLE';

/** `{ codePath }` for Worker.create's `workflowBundle`: GEOFAILOVER_WORKFLOW_BUNDLE's file, else the build's. */
export function prebuiltWorkflowBundle(env: NodeJS.ProcessEnv = process.env): { codePath: string } | undefined {
  const named = env[WORKFLOW_BUNDLE_ENV];
  if (named && existsSync(named)) return { codePath: named };
  return existsSync(PREBUILT_WORKFLOW_BUNDLE) ? { codePath: PREBUILT_WORKFLOW_BUNDLE } : undefined;
}

const PACKAGE_ROOT = path.resolve(__dirname, '..');
const SOURCES = path.join(PACKAGE_ROOT, 'src');
const CACHE_DIR = path.join(PACKAGE_ROOT, 'node_modules', '.cache', 'geofailover');

/** Every source file's path and content, and the lock file: any change that could change the bundle changes it. */
function sourcesHash(): string {
  const hash = createHash('sha256');
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (/\.(ts|json|js|mjs)$/.test(entry.name))
        hash.update(`${path.relative(SOURCES, file)}\0`).update(readFileSync(file));
    }
  };
  walk(SOURCES);
  const lock = path.join(PACKAGE_ROOT, 'package-lock.json');
  if (existsSync(lock)) hash.update(readFileSync(lock));
  return hash.digest('hex').slice(0, 16);
}

let fromSources: Promise<{ codePath: string }> | undefined;

/**
 * The bundle of src/workflows as a file: from the cache when the sources are unchanged, else bundled now and cached
 * (written under a temporary name and renamed, so processes bundling at once never read half a file).
 */
export function sourcesWorkflowBundle(): Promise<{ codePath: string }> {
  fromSources ??= (async () => {
    const codePath = path.join(CACHE_DIR, `workflows-${sourcesHash()}.bundle.js`);
    if (existsSync(codePath)) return { codePath };
    const { bundleWorkflowCode, DefaultLogger } = await import('@temporalio/worker');
    const { code } = await bundleWorkflowCode({
      workflowsPath: require.resolve('./workflows'),
      logger: new DefaultLogger('ERROR'),
    });
    mkdirSync(CACHE_DIR, { recursive: true });
    const partial = `${codePath}.${process.pid}.partial`;
    writeFileSync(partial, code);
    renameSync(partial, codePath);
    return { codePath };
  })();
  fromSources.catch(() => (fromSources = undefined));
  return fromSources;
}

/** The bundle a worker or a replay runs: the build's or the named one, else the sources' (cached). */
export async function workflowBundleFile(env: NodeJS.ProcessEnv = process.env): Promise<{ codePath: string }> {
  return prebuiltWorkflowBundle(env) ?? (await sourcesWorkflowBundle());
}
