import { generate } from 'selfsigned';

export interface CertificateAuthority {
  /** CA certificate, PEM. Clients trust this. */
  cert: string;
  key: string;
}

export interface ServerCertificate {
  cert: string;
  key: string;
}

const ONE_DAY_MS = 24 * 60 * 60 * 1000;
/**
 * ECDSA P-256 keys: an emulator start issues half a dozen certificates (CA, HTTPS, each database's TLS), and an RSA
 * key costs ~150 ms of CPU to generate where P-256 costs under 1 ms; every TLS client here accepts either.
 */
const KEY = { keyType: 'ec', curve: 'P-256' } as const;

/** A throwaway CA for one emulator lifetime; clients trust it instead of disabling TLS checks. */
export async function createCertificateAuthority(
  commonName = 'geofailover emulator CA',
): Promise<CertificateAuthority> {
  const now = Date.now();
  const pems = await generate([{ name: 'commonName', value: commonName }], {
    algorithm: 'sha256',
    ...KEY,
    notBeforeDate: new Date(now - ONE_DAY_MS),
    notAfterDate: new Date(now + 30 * ONE_DAY_MS),
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}

/** A server certificate signed by the CA, valid for the given DNS names and IP addresses. */
export async function issueServerCertificate(
  ca: CertificateAuthority,
  names: { dns?: string[]; ips?: string[] },
): Promise<ServerCertificate> {
  const dns = names.dns ?? [];
  const ips = names.ips ?? [];
  const now = Date.now();
  const pems = await generate([{ name: 'commonName', value: dns[0] ?? ips[0] ?? 'localhost' }], {
    algorithm: 'sha256',
    ...KEY,
    notBeforeDate: new Date(now - ONE_DAY_MS),
    notAfterDate: new Date(now + 30 * ONE_DAY_MS),
    ca: { key: ca.key, cert: ca.cert },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          ...dns.map((value) => ({ type: 2 as const, value })),
          ...ips.map((ip) => ({ type: 7 as const, ip })),
        ],
      },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}
