// OpenSSH SSHSIG signatures (PROTOCOL.sshsig), Ed25519 only: what `ssh-keygen -Y sign` writes and
// `ssh-keygen -Y verify` checks. Sandbox-safe: pure functions over Uint8Array, no randomness (Ed25519 is
// deterministic), no clock.
import { ed25519 } from '@noble/curves/ed25519';
import { sha256, sha512 } from '@noble/hashes/sha2';
import { base64 } from '@scure/base';
import { ED25519_KEY_TYPE, ed25519Blob, fingerprintOf, parseKeyBlob } from './ssh-key';
import { concatBytes, fromUtf8, kindOf, quote, sshString, uint32, utf8, WireReader } from './wire';

/** The SSHSIG namespace of every geofailover decision: a signature made for anything else never verifies. */
export const SIGNING_NAMESPACE = 'geofailover';
/** ssh-keygen's Ed25519 signature is about 300 characters armored; this leaves room for line-ending variants. */
export const MAX_ARMORED_SIGNATURE = 4096;

const MAGIC = utf8('SSHSIG');
const VERSION = 1;
const BEGIN = '-----BEGIN SSH SIGNATURE-----';
const END = '-----END SSH SIGNATURE-----';
const HASHES = { sha512, sha256 } as const;
type HashAlgorithm = keyof typeof HASHES;

export interface SignSshSigInput {
  message: Uint8Array | string;
  /** The 32-byte Ed25519 seed (the first half of OpenSSH's 64-byte private key). */
  secretKey: Uint8Array;
  namespace: string;
}

export interface VerifySshSigInput {
  message: Uint8Array | string;
  armored: unknown;
  namespace: string;
}

export type VerifySshSigResult =
  { ok: true; publicKeyBlob: Uint8Array; fingerprint: string } | { ok: false; reason: string };

function messageBytes(message: Uint8Array | string): Uint8Array {
  return typeof message === 'string' ? utf8(message) : message;
}

/** The bytes the Ed25519 signature covers. */
function signedData(namespace: string, hash: HashAlgorithm, message: Uint8Array): Uint8Array {
  return concatBytes(
    MAGIC,
    sshString(namespace),
    sshString(new Uint8Array(0)), // reserved
    sshString(hash),
    sshString(HASHES[hash](message)),
  );
}

/** Base64 in 70-column lines between the markers, as ssh-keygen writes it. */
function armor(blob: Uint8Array): string {
  const b64 = base64.encode(blob);
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 70) lines.push(b64.slice(i, i + 70));
  return `${BEGIN}\n${lines.join('\n')}\n${END}\n`;
}

/** Signs like `ssh-keygen -Y sign -n NAMESPACE` with an ssh-ed25519 key and sha512; returns the armored text. */
export function signSshSig({ message, secretKey, namespace }: SignSshSigInput): string {
  if (!(secretKey instanceof Uint8Array) || secretKey.length !== 32) {
    throw new TypeError('an Ed25519 secret key is a 32-byte seed');
  }
  if (typeof namespace !== 'string' || namespace === '') throw new TypeError('an SSHSIG namespace is required');
  const publicKey = ed25519.getPublicKey(secretKey);
  const signature = ed25519.sign(signedData(namespace, 'sha512', messageBytes(message)), secretKey);
  const blob = concatBytes(
    MAGIC,
    uint32(VERSION),
    sshString(ed25519Blob(publicKey)),
    sshString(namespace),
    sshString(new Uint8Array(0)),
    sshString('sha512'),
    sshString(concatBytes(sshString(ED25519_KEY_TYPE), sshString(signature))),
  );
  return armor(blob);
}

function fail(reason: string): { ok: false; reason: string } {
  return { ok: false, reason };
}

/** The binary signature inside the armor, or a reason. Mirrors ssh-keygen: markers, then base64 in any line layout. */
function dearmor(armored: unknown): Uint8Array | string {
  if (typeof armored !== 'string') return `the signature must be armored text, not ${kindOf(armored)}`;
  if (armored.length > MAX_ARMORED_SIGNATURE) {
    return `the signature is longer than ${MAX_ARMORED_SIGNATURE} characters, so it is not one ssh-ed25519 SSHSIG`;
  }
  const text = armored.trim();
  if (!text.startsWith(BEGIN)) return `the signature does not start with ${BEGIN}`;
  if (!text.endsWith(END)) return `the signature does not end with ${END} (is it truncated?)`;
  const body = text.slice(BEGIN.length, text.length - END.length).replace(/[\r\n\t ]+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body)) return 'the signature body is not base64';
  try {
    return base64.decode(body);
  } catch {
    return 'the signature body is not valid base64 (is it truncated?)';
  }
}

/**
 * Checks an armored SSHSIG over `message` for `namespace`, like `ssh-keygen -Y check-novalidate`: it says
 * which key signed; whether that key may sign is the caller's decision. Never throws.
 */
export function verifySshSig(input: VerifySshSigInput): VerifySshSigResult {
  try {
    if (input === null || typeof input !== 'object') return fail('verifySshSig needs { message, armored, namespace }');
    const { message, armored, namespace } = input;
    if (typeof message !== 'string' && !(message instanceof Uint8Array)) {
      return fail(`the signed message must be text or bytes, not ${kindOf(message)}`);
    }
    if (typeof namespace !== 'string' || namespace === '') return fail('no signature namespace was given to check');
    const blob = dearmor(armored);
    if (typeof blob === 'string') return fail(blob);

    const r = new WireReader(blob);
    const magic = r.bytes(MAGIC.length);
    if (!magic || fromUtf8(magic) !== 'SSHSIG') return fail('the signature is not an SSHSIG (wrong magic)');
    const version = r.uint32();
    if (version !== VERSION) return fail(`the SSHSIG version is ${version ?? 'missing'}, not 1`);
    const keyBlob = r.string();
    const gotNamespace = r.string();
    const reserved = r.string();
    const hashName = r.string();
    const sigBlob = r.string();
    if (!keyBlob || !gotNamespace || !reserved || !hashName || !sigBlob) return fail('the signature is truncated');
    if (r.remaining !== 0) return fail('the signature has trailing bytes after the signature field');

    const key = parseKeyBlob(keyBlob);
    if (!key.ok) return fail(`the signing key is unusable: ${key.reason}`);
    const ns = fromUtf8(gotNamespace);
    if (ns !== namespace) {
      return fail(`the signature was made for namespace ${quote(ns ?? '(not UTF-8)')}, not ${quote(namespace)}`);
    }
    if (reserved.length !== 0) return fail('the SSHSIG reserved field is not empty');
    const hash = fromUtf8(hashName);
    if (hash !== 'sha512' && hash !== 'sha256') {
      return fail(`the signature hash is ${quote(hash ?? '(not UTF-8)')}; only sha512 and sha256 are accepted`);
    }

    const s = new WireReader(sigBlob);
    const sigType = s.string();
    const sig = s.string();
    if (!sigType || !sig || s.remaining !== 0) return fail('the signature field is malformed');
    const sigTypeName = fromUtf8(sigType);
    if (sigTypeName !== ED25519_KEY_TYPE) {
      return fail(`the signature type is ${quote(sigTypeName ?? '(not UTF-8)')}, not ssh-ed25519`);
    }
    if (sig.length !== 64) return fail('the Ed25519 signature is not 64 bytes');

    // zip215: false is RFC 8032's strict check: non-canonical point and scalar encodings, which no honest
    // signer produces, are refused rather than accepted in a second form.
    let valid = false;
    try {
      valid = ed25519.verify(sig, signedData(namespace, hash, messageBytes(message)), key.publicKey, {
        zip215: false,
      });
    } catch {
      valid = false;
    }
    if (!valid) return fail('the signature does not match the signed text (it was changed after signing, or forged)');
    return { ok: true, publicKeyBlob: keyBlob, fingerprint: fingerprintOf(keyBlob) };
  } catch {
    // Unreachable by design; a verifier must answer, not crash the workflow task.
    return fail('the signature could not be checked');
  }
}
