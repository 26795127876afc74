import type { GroupDefinition } from './runbook';

/**
 * A signed statement: `statement` is the exact JSON text that was signed, `signature` an armored SSHSIG
 * (namespace `geofailover`, Ed25519). `ssh-keygen -Y verify -n geofailover` checks it.
 */
export interface Proof {
  statement: string;
  signature: string;
}

/** Roles a person can hold in a group. */
export type Role = 'commander' | 'approver';

/**
 * What the runbook acts under, read from the worker's own configuration by the `loadPolicy` activity at
 * start, so the history shows it (and its digest) and no caller can bring its own approvers.
 */
export interface RunbookPolicy {
  group: GroupDefinition;
  /** person → OpenSSH public key lines; only the people who hold a role in this group */
  people: Record<string, string[]>;
  /** `sha256:<hex>` of the canonical JSON of { group, people }: the same on every worker with the same policy */
  digest: string;
}

export type PolicyLookup =
  | {
      found: true;
      policy: RunbookPolicy;
      /**
       * the origin of the ARM endpoint the worker acts through (its configuration's azure.endpoint), recorded so
       * the evidence tells a drill against the emulator from production; never credentials
       */
      armEndpoint?: string;
    }
  | { found: false; reason: string };

/** The signed statements a destructive activity checks before it calls Azure. */
export interface Authorization {
  /** the commander's signed start of this run */
  request: Proof;
  /** the approvals of the gate that allowed the step (approval-unlink, approval-rejoin) */
  approvals?: Proof[];
}

/** Who signed an accepted decision, as the step log and the evidence show it. */
export interface SignedBy {
  signer: string;
  /** `SHA256:…`, as `ssh-keygen -l` prints it */
  fingerprint: string;
  proof: Proof;
}

/** How long a signed start may be valid: it names no run, so it must not outlive the moment it was made for. */
export const MAX_START_VALIDITY_MS = 15 * 60_000;

/**
 * How long a standing order (a commander's signed `schedule` statement that lets a Temporal Schedule start
 * rehearsals) may be valid: a year of quarterly rehearsals, and then someone signs again.
 */
export const MAX_STANDING_ORDER_VALIDITY_MS = 366 * 24 * 3_600_000;
