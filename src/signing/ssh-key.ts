// OpenSSH public key lines ("ssh-ed25519 AAAA… comment"), Ed25519 only. Sandbox-safe.
import { sha256 } from '@noble/hashes/sha2';
import { base64 } from '@scure/base';
import { bytesEqual, concatBytes, fromUtf8, quote, kindOf, sshString, WireReader } from './wire';

export const ED25519_KEY_TYPE = 'ssh-ed25519';
/** Longer than any ssh-ed25519 line with a reasonable comment; bounds the work done on untrusted input. */
export const MAX_PUBLIC_KEY_LINE = 1024;

export interface SshPublicKey {
  algorithm: 'ssh-ed25519';
  /** The raw 32-byte Ed25519 key. */
  publicKey: Uint8Array;
  /** The SSH wire encoding (string "ssh-ed25519", string key): what fingerprints and SSHSIG carry. */
  blob: Uint8Array;
  comment?: string;
  /** As `ssh-keygen -l` prints it: "SHA256:" + unpadded base64 of sha256(blob). */
  fingerprint: string;
}

export type ParsePublicKeyResult = { ok: true; key: SshPublicKey } | { ok: false; reason: string };

export function fingerprintOf(blob: Uint8Array): string {
  return `SHA256:${base64.encode(sha256(blob)).replace(/=+$/, '')}`;
}

export function ed25519Blob(publicKey: Uint8Array): Uint8Array {
  return concatBytes(sshString(ED25519_KEY_TYPE), sshString(publicKey));
}

/** The 32-byte key inside an ssh-ed25519 blob, or a reason it is not one. */
export function parseKeyBlob(blob: Uint8Array): { ok: true; publicKey: Uint8Array } | { ok: false; reason: string } {
  const r = new WireReader(blob);
  const type = r.string();
  if (type === undefined) return { ok: false, reason: 'the key blob is truncated' };
  const typeName = fromUtf8(type) ?? '(not UTF-8)';
  if (typeName !== ED25519_KEY_TYPE) {
    return { ok: false, reason: `the key type is ${quote(typeName)}; only ssh-ed25519 keys are supported` };
  }
  const key = r.string();
  if (key === undefined || key.length !== 32) return { ok: false, reason: 'the ssh-ed25519 key is not 32 bytes' };
  if (r.remaining !== 0) return { ok: false, reason: 'the key blob has trailing bytes' };
  return { ok: true, publicKey: key };
}

/** Parses one OpenSSH public key line; never throws. */
export function parsePublicKey(line: unknown): ParsePublicKeyResult {
  if (typeof line !== 'string') return { ok: false, reason: `a public key must be a string, not ${kindOf(line)}` };
  if (line.length > MAX_PUBLIC_KEY_LINE) {
    return { ok: false, reason: `the public key line is longer than ${MAX_PUBLIC_KEY_LINE} characters` };
  }
  const m = /^(\S+)\s+(\S+)(?:\s+(.*))?$/.exec(line.trim());
  if (!m) return { ok: false, reason: 'a public key line must be "ssh-ed25519 AAAA… [comment]" on one line' };
  const [, type, data, comment] = m as unknown as [string, string, string, string | undefined];
  if (type !== ED25519_KEY_TYPE) {
    return {
      ok: false,
      reason: `the key type is ${quote(type)}; only ssh-ed25519 keys are supported (ssh-keygen -t ed25519 makes one)`,
    };
  }
  let blob: Uint8Array;
  try {
    blob = base64.decode(data);
  } catch {
    return { ok: false, reason: 'the key data is not valid base64' };
  }
  const parsed = parseKeyBlob(blob);
  if (!parsed.ok) return parsed;
  const key: SshPublicKey = {
    algorithm: ED25519_KEY_TYPE,
    publicKey: parsed.publicKey,
    blob,
    fingerprint: fingerprintOf(blob),
  };
  if (comment) key.comment = comment;
  return { ok: true, key };
}

/** "ssh-ed25519 AAAA… comment", as in an id_ed25519.pub file. */
export function formatPublicKey(publicKey: Uint8Array, comment?: string): string {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32) {
    throw new TypeError('an Ed25519 public key is 32 bytes');
  }
  if (comment !== undefined && /[\r\n]/.test(comment)) throw new TypeError('a key comment must be one line');
  const line = `${ED25519_KEY_TYPE} ${base64.encode(ed25519Blob(publicKey))}`;
  return comment ? `${line} ${comment}` : line;
}

/** Same key, regardless of comment. */
export function sameKey(a: SshPublicKey, b: SshPublicKey): boolean {
  return bytesEqual(a.blob, b.blob);
}
