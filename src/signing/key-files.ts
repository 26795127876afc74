// Key files for people who have none yet (the drill, `geofailover emulator --write-config`): one Ed25519 key
// pair each, written as ssh-keygen writes them, so `--key DIR/NAME.key` and `ssh-keygen -Y sign -f` both work.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { generateKeyPair } from './node-keys';

export interface PersonKeyFile {
  /** the private key file (mode 600) */
  keyFile: string;
  publicKeyLine: string;
}

/** Writes NAME.key and NAME.key.pub for each name into `dir`; name → files. */
export function writePeopleKeys(dir: string, names: readonly string[]): Record<string, PersonKeyFile> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const out: Record<string, PersonKeyFile> = {};
  for (const name of names) {
    const pair = generateKeyPair(`${name}@geofailover`);
    const keyFile = path.join(dir, `${name}.key`);
    writeFileSync(keyFile, pair.privateKeyPem, { mode: 0o600 });
    writeFileSync(`${keyFile}.pub`, `${pair.publicKeyLine}\n`);
    out[name] = { keyFile, publicKeyLine: pair.publicKeyLine };
  }
  return out;
}

/** The configuration's people → keys view of written key files. */
export function peopleKeys(files: Record<string, PersonKeyFile>): Record<string, string[]> {
  return Object.fromEntries(Object.entries(files).map(([name, f]) => [name, [f.publicKeyLine]]));
}
