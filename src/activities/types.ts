// The activity interfaces are part of the contract (src/contract/activities.ts); this re-export keeps the
// implementations' `./types` imports short.
export * from '../contract/activities';
