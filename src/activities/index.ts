import type { ArmClients } from '../azure/clients';
import { createMembershipActivities } from './membership';
import type { GeofailoverActivities } from './types';

export interface ActivityDependencies {
  arm: ArmClients;
}

/** Every activity the main worker registers, built from injected clients (real Azure or the emulator). */
export function createActivities(deps: ActivityDependencies): GeofailoverActivities {
  return { ...createMembershipActivities(deps) };
}
