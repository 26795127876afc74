/**
 * The workflow bundle the build made (dist/workflows.bundle.js, scripts/build.mjs): the installed package's
 * workers load it instead of bundling src/workflows at start-up. From the sources there is none.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';

export const PREBUILT_WORKFLOW_BUNDLE = path.join(__dirname, 'workflows.bundle.js');

/** `{ codePath }` for Worker.create's `workflowBundle`, when the build made one. */
export function prebuiltWorkflowBundle(): { codePath: string } | undefined {
  return existsSync(PREBUILT_WORKFLOW_BUNDLE) ? { codePath: PREBUILT_WORKFLOW_BUNDLE } : undefined;
}
