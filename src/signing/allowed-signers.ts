// An OpenSSH allowed_signers file for auditors: `ssh-keygen -Y verify -f allowed_signers -I NAME
// -n geofailover -s SIG < STATEMENT` then checks any proof without this program. Sandbox-safe.
import { formatPublicKey, parsePublicKey } from './ssh-key';
import { SIGNING_NAMESPACE } from './sshsig';
import { ACTOR_PATTERN } from './statement';

/**
 * One line per key: `NAME namespaces="geofailover" ssh-ed25519 AAAA…`, people sorted by name (stable diffs).
 * Key comments are dropped: they identify nothing, the principal name does.
 * @throws Error naming the person when a name or key line is unusable.
 */
export function allowedSigners(people: Record<string, readonly string[]>): string {
  const lines: string[] = [];
  for (const name of Object.keys(people).sort()) {
    if (!ACTOR_PATTERN.test(name)) {
      throw new Error(`allowed_signers: ${JSON.stringify(name.slice(0, 80))} is not a valid person name`);
    }
    for (const line of people[name] ?? []) {
      const key = parsePublicKey(line);
      if (!key.ok) throw new Error(`allowed_signers: a key of ${name} is unusable: ${key.reason}`);
      lines.push(`${name} namespaces="${SIGNING_NAMESPACE}" ${formatPublicKey(key.key.publicKey)}`);
    }
  }
  return lines.map((l) => `${l}\n`).join('');
}
