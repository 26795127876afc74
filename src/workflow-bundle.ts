/**
 * The workflow bundle the build made (dist/workflows.bundle.js, scripts/build.mjs): the installed package's
 * workers load it instead of bundling src/workflows at start-up. From the sources there is none.
 */
import { existsSync } from 'node:fs';
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
