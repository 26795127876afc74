// Node-side key handling for the CLI and tests: OpenSSH private key files and randomness. NOT sandbox-safe
// (node:crypto); workflow code imports ./index, which leaves this module out.
import { createPrivateKey, randomBytes } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519';
import { base64 } from '@scure/base';
import type { Proof } from './proof';
import { ED25519_KEY_TYPE, ed25519Blob, formatPublicKey, parseKeyBlob } from './ssh-key';
import { SIGNING_NAMESPACE, signSshSig } from './sshsig';
import { canonicalStatement, parseStatement, type Statement } from './statement';
import { bytesEqual, concatBytes, fromUtf8, sshString, uint32, utf8, WireReader } from './wire';

export interface KeyPair {
  /** Unencrypted OpenSSH private key file text ("-----BEGIN OPENSSH PRIVATE KEY-----"). */
  privateKeyPem: string;
  /** "ssh-ed25519 AAAA… comment" */
  publicKeyLine: string;
}

export interface PrivateKey {
  /** The 32-byte Ed25519 seed. */
  secretKey: Uint8Array;
  publicKeyLine: string;
}

const AUTH_MAGIC = utf8('openssh-key-v1\0');
const BEGIN = '-----BEGIN OPENSSH PRIVATE KEY-----';
const END = '-----END OPENSSH PRIVATE KEY-----';
const ENCRYPTED_HINT =
  'use an unencrypted key file for the CLI, or sign the statement yourself with ' +
  '`ssh-keygen -Y sign -f KEY -n geofailover FILE` and pass the resulting signature';
const ED25519_ONLY = 'only ssh-ed25519 keys are supported (`ssh-keygen -t ed25519` makes one)';

/** A new Ed25519 key pair, written as ssh-keygen writes it (loadable by `ssh-keygen -Y sign -f`). */
export function generateKeyPair(comment: string): KeyPair {
  if (/[\r\n]/.test(comment)) throw new TypeError('a key comment must be one line');
  const seed = new Uint8Array(randomBytes(32));
  const publicKey = ed25519.getPublicKey(seed);
  const blob = ed25519Blob(publicKey);
  // Two equal random words let a decrypting reader detect a wrong passphrase; ssh-keygen checks them even unencrypted.
  const check = uint32(randomBytes(4).readUInt32BE(0));
  let secret = concatBytes(
    check,
    check,
    sshString(ED25519_KEY_TYPE),
    sshString(publicKey),
    sshString(concatBytes(seed, publicKey)),
    sshString(comment),
  );
  const padding: number[] = [];
  for (let i = 1; (secret.length + padding.length) % 8 !== 0; i++) padding.push(i);
  secret = concatBytes(secret, Uint8Array.from(padding));
  const file = concatBytes(
    AUTH_MAGIC,
    sshString('none'), // cipher
    sshString('none'), // kdf
    sshString(new Uint8Array(0)), // kdf options
    uint32(1),
    sshString(blob),
    sshString(secret),
  );
  const b64 = base64.encode(file);
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 70) lines.push(b64.slice(i, i + 70));
  return {
    privateKeyPem: `${BEGIN}\n${lines.join('\n')}\n${END}\n`,
    publicKeyLine: formatPublicKey(publicKey, comment),
  };
}

function keyError(detail: string): Error {
  return new Error(`cannot read the private key: ${detail}`);
}

/**
 * Reads an unencrypted ssh-ed25519 private key: OpenSSH's own format (what ssh-keygen writes) or PKCS#8 PEM.
 * @throws Error saying what to do for encrypted keys, other key types, public keys and anything else.
 */
export function readPrivateKey(text: string): PrivateKey {
  const trimmed = text.trim();
  if (/^(ssh-|ecdsa-|sk-)\S+ AAAA/.test(trimmed)) {
    throw keyError('this is a public key; give the private key file (the one without .pub)');
  }
  if (trimmed.startsWith('-----BEGIN ENCRYPTED PRIVATE KEY-----') || /Proc-Type: 4,ENCRYPTED/.test(trimmed)) {
    throw keyError(`it is encrypted with a passphrase; ${ENCRYPTED_HINT}`);
  }
  if (trimmed.startsWith('-----BEGIN PRIVATE KEY-----')) return readPkcs8(trimmed);
  if (/^-----BEGIN (RSA|EC|DSA) PRIVATE KEY-----/.test(trimmed)) throw keyError(ED25519_ONLY);
  if (!trimmed.startsWith(BEGIN) || !trimmed.endsWith(END)) {
    throw keyError(`expected an OpenSSH private key file (${BEGIN})`);
  }
  let data: Uint8Array;
  try {
    data = base64.decode(trimmed.slice(BEGIN.length, -END.length).replace(/\s+/g, ''));
  } catch {
    throw keyError('the key file is damaged (its body is not base64)');
  }
  const r = new WireReader(data);
  const magic = r.bytes(AUTH_MAGIC.length);
  if (!magic || !bytesEqual(magic, AUTH_MAGIC)) throw keyError('the key file is not in openssh-key-v1 format');
  const cipher = r.text();
  const kdf = r.text();
  const kdfOptions = r.string();
  const count = r.uint32();
  const publicBlob = r.string();
  const secret = r.string();
  if (cipher === undefined || kdf === undefined || !kdfOptions || count === undefined || !publicBlob || !secret) {
    throw keyError('the key file is truncated');
  }
  if (cipher !== 'none' || kdf !== 'none') throw keyError(`it is encrypted with a passphrase; ${ENCRYPTED_HINT}`);
  if (count !== 1) throw keyError(`the file holds ${count} keys; give a file with exactly one`);
  const pub = parseKeyBlob(publicBlob);
  if (!pub.ok) throw keyError(ED25519_ONLY);

  const s = new WireReader(secret);
  const check1 = s.uint32();
  const check2 = s.uint32();
  if (check1 === undefined || check1 !== check2) throw keyError('the key file is damaged (check words differ)');
  const type = s.string();
  if (!type || fromUtf8(type) !== ED25519_KEY_TYPE) throw keyError(ED25519_ONLY);
  const publicKey = s.string();
  const pair = s.string();
  const comment = s.text();
  if (!publicKey || !pair || comment === undefined || pair.length !== 64) {
    throw keyError('the key file is damaged (the ed25519 key is malformed)');
  }
  const seed = pair.slice(0, 32);
  if (!bytesEqual(ed25519.getPublicKey(seed), publicKey) || !bytesEqual(publicKey, pub.publicKey)) {
    throw keyError('the key file is damaged (its private and public halves do not match)');
  }
  return { secretKey: seed, publicKeyLine: formatPublicKey(publicKey, comment.replace(/[\r\n]+/g, ' ') || undefined) };
}

function readPkcs8(pem: string): PrivateKey {
  let key;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch (error) {
    throw keyError(`the PEM key cannot be read (${(error as Error).message})`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw keyError(ED25519_ONLY);
  const jwk = key.export({ format: 'jwk' });
  const seed = new Uint8Array(Buffer.from(jwk.d ?? '', 'base64url'));
  if (seed.length !== 32) throw keyError('the PEM ed25519 key is malformed');
  return { secretKey: seed, publicKeyLine: formatPublicKey(ed25519.getPublicKey(seed)) };
}

/** 16 random bytes as hex: the statement nonce. */
export function newNonce(): string {
  return randomBytes(16).toString('hex');
}

/**
 * Signs the canonical text of `statement` (namespace geofailover).
 * @throws Error when the statement would not pass parseStatement, so nothing unverifiable is ever signed.
 */
export function signStatement(statement: Statement, privateKey: Pick<PrivateKey, 'secretKey'> | Uint8Array): Proof {
  const text = canonicalStatement(statement);
  const parsed = parseStatement(text);
  if (!parsed.ok) throw new Error(`refusing to sign an invalid statement: ${parsed.reason}`);
  const secretKey = privateKey instanceof Uint8Array ? privateKey : privateKey.secretKey;
  return { statement: text, signature: signSshSig({ message: text, secretKey, namespace: SIGNING_NAMESPACE }) };
}
