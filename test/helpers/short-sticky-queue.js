'use strict';
// Preloaded (NODE_OPTIONS=--require) into the `geofailover worker` processes the tests spawn and SIGKILL: a workflow
// task the server hands to a killed worker's sticky queue moves to the normal queue after 2 s instead of the SDK's
// 10 s default, so each crash of the crash matrix does not wait 10 s for it. Only the test's workers change; a live
// worker always has a sticky poll waiting, so this costs nothing while it runs.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a plain CommonJS preload, before tsx
const { Worker } = require('@temporalio/worker');

const create = Worker.create;
Worker.create = function createWithShortStickyQueue(options) {
  return create.call(this, { stickyQueueScheduleToStartTimeout: '2s', ...options });
};
