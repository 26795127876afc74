import https from 'node:https';
import type { TokenCredential } from '@azure/core-auth';

/** A raw ARM response: status, lower-cased headers, parsed JSON body (undefined when empty). */
export interface ArmHttpResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
  text: string;
}

export interface ArmHttpClient {
  /** `pathOrUrl`: an absolute URL on the same host (polling URLs) or a path with its query. */
  request(method: string, pathOrUrl: string, body?: unknown): Promise<ArmHttpResponse>;
}

/**
 * Plain HTTPS requests to the emulator, for tests that need the exact wire response (the SDK's mappers drop
 * properties they do not know). TLS is verified against `caPem`; no keep-alive.
 */
export function createArmHttpClient(baseUrl: string, caPem: string, credential: TokenCredential): ArmHttpClient {
  return {
    async request(method, pathOrUrl, body) {
      const url = new URL(pathOrUrl, baseUrl);
      if (url.origin !== new URL(baseUrl).origin) {
        throw new Error(`refusing to send the emulator's token to ${url.origin}`);
      }
      // ARM's audience: the emulator's tenant issues it (test/helpers/emulator.ts emulatorCredential)
      const token = await credential.getToken('https://management.azure.com/.default');
      if (!token) throw new Error('the credential gave no token');
      const payload = body === undefined ? undefined : JSON.stringify(body);
      return new Promise<ArmHttpResponse>((resolve, reject) => {
        const req = https.request(
          url,
          {
            method,
            ca: caPem,
            agent: false,
            headers: {
              Authorization: `Bearer ${token.token}`,
              Accept: 'application/json',
              'x-ms-client-request-id': `test-${Date.now()}-${Math.random().toString(16).slice(2)}`,
              ...(payload !== undefined
                ? { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(payload) }
                : {}),
            },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => {
              const text = Buffer.concat(chunks).toString('utf8');
              let parsed: unknown;
              try {
                parsed = text === '' ? undefined : JSON.parse(text);
              } catch {
                parsed = text;
              }
              const headers: Record<string, string> = {};
              for (const [k, v] of Object.entries(res.headers)) {
                if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
              }
              resolve({ status: res.statusCode ?? 0, headers, body: parsed, text });
            });
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        req.end(payload);
      });
    },
  };
}
