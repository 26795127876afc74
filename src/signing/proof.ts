// A signed decision: the statement text and an SSHSIG over exactly that text, checked against the people
// and keys in the worker's configuration. Sandbox-safe and deterministic: nothing is cached across calls,
// so a configuration change takes effect on the next check.
import { parsePublicKey } from './ssh-key';
import { MAX_ARMORED_SIGNATURE, SIGNING_NAMESPACE, verifySshSig } from './sshsig';
import { MAX_STATEMENT_TEXT, parseStatement, type Statement } from './statement';
import { bytesEqual, kindOf, quote } from './wire';

export type Proof = { statement: string; signature: string };

/** Person name → that person's OpenSSH public key lines ("ssh-ed25519 AAAA… comment"). */
export type Keyring = Record<string, readonly string[]>;

export type VerifyProofResult =
  | { ok: true; statement: Statement; signer: string; fingerprint: string }
  | { ok: false; reason: string; actor?: string };

/**
 * Checks that `proof` is a statement signed (namespace geofailover) by one of the keys `keyring` lists for the
 * statement's actor. Says nothing about whether the statement fits the decision: see statementRefusal.
 * Never throws.
 */
export function verifyProof(proof: unknown, keyring: Keyring): VerifyProofResult {
  try {
    if (proof === null || typeof proof !== 'object' || Array.isArray(proof)) {
      return { ok: false, reason: `a proof must be an object {statement, signature}, not ${kindOf(proof)}` };
    }
    const { statement: text, signature } = proof as Record<string, unknown>;
    if (typeof text !== 'string')
      return { ok: false, reason: `the proof's statement must be text, not ${kindOf(text)}` };
    if (typeof signature !== 'string') {
      return { ok: false, reason: `the proof's signature must be text, not ${kindOf(signature)}` };
    }
    if (text.length > MAX_STATEMENT_TEXT) {
      return { ok: false, reason: `the proof's statement is longer than ${MAX_STATEMENT_TEXT} characters` };
    }
    if (signature.length > MAX_ARMORED_SIGNATURE) {
      return { ok: false, reason: `the proof's signature is longer than ${MAX_ARMORED_SIGNATURE} characters` };
    }

    const parsed = parseStatement(text);
    if (!parsed.ok) return { ok: false, reason: parsed.reason };
    const statement = parsed.statement;
    const actor = statement.actor; // matches ACTOR_PATTERN, so at most 64 plain characters
    const lines =
      keyring !== null && typeof keyring === 'object' && Object.prototype.hasOwnProperty.call(keyring, actor)
        ? keyring[actor]
        : undefined;
    if (!Array.isArray(lines)) {
      return { ok: false, actor, reason: `${quote(actor)} is not a person in the worker's configuration` };
    }

    const sig = verifySshSig({ message: text, armored: signature, namespace: SIGNING_NAMESPACE });
    if (!sig.ok) return { ok: false, actor, reason: sig.reason };

    let unreadable = 0;
    for (const line of lines as unknown[]) {
      const key = parsePublicKey(line);
      if (!key.ok) unreadable++;
      else if (bytesEqual(key.key.blob, sig.publicKeyBlob)) {
        return { ok: true, statement, signer: actor, fingerprint: sig.fingerprint };
      }
    }
    const note = unreadable > 0 ? ` (${unreadable} of their configured keys could not be read)` : '';
    return {
      ok: false,
      actor,
      reason: `the statement is signed by key ${sig.fingerprint}, which is not one of ${quote(actor)}'s keys${note}`,
    };
  } catch {
    return { ok: false, reason: 'the proof could not be checked' };
  }
}
