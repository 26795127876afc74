import { sha256 } from '@noble/hashes/sha2';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils';
import type { RunbookPolicy } from '../contract/policy';
import { canonicalJson } from './canonical-json';

/** `sha256:<hex>` of the policy's canonical JSON; pure, so the workflow, the worker and the CLI agree. */
export function policyDigest(policy: Pick<RunbookPolicy, 'group' | 'people'>): string {
  return `sha256:${bytesToHex(sha256(utf8ToBytes(canonicalJson({ group: policy.group, people: policy.people }))))}`;
}
