import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { JWK } from 'jose';

/** A client key pair made in the test: the PEM the strategy signs with, the JWK the server verifies with. */
export interface ClientKeyPair {
  privateKeyPem: string;
  publicJwk: JWK;
}

/** An RSA (2048) or EC (P-256, P-384) key pair, the private key as PEM in the encoding asked (PKCS#8, PKCS#1, SEC1). */
export function clientKeyPair(
  kind: 'rsa' | 'P-256' | 'P-384',
  encoding: 'pkcs8' | 'pkcs1' | 'sec1' = 'pkcs8',
  kid?: string,
): ClientKeyPair {
  const { privateKey, publicKey } =
    kind === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: kind });
  return { privateKeyPem: pem(privateKey, encoding), publicJwk: { ...publicKey.export({ format: 'jwk' }), ...(kid && { kid }) } };
}

function pem(key: KeyObject, type: 'pkcs8' | 'pkcs1' | 'sec1'): string {
  return key.export({ format: 'pem', type }) as string;
}
