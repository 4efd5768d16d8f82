/**
 * The platform's own keys: the root CA that issues every user and opening certificate, the time-stamping (TSA)
 * certificate for receipts, the document-signing certificate (电子签章) that signs the PDFs the platform issues
 * (开标记录表, 中标通知书, …), and the secret that signs login tokens. Created at first start (first writer wins when
 * several instances start at once), stored in PostgreSQL with private material sealed by PLATFORM_KEY_PASSPHRASE,
 * so every API instance and worker shares them.
 */
import crypto from 'node:crypto';
import { createRootCa, generateRsaKeyPair, issueCertificate, parseCertificate, randomSerialHex, type CaMaterial } from '../../crypto/pki';
import type { Db } from '../db';
import type { Clock } from '../shared/clock';
import { DAY_MS } from '../shared/clock';
import { identityRepository as repo } from './identity.repository';

export interface PlatformKeys {
  ca: CaMaterial;
  tsa: CaMaterial;
  /** Signs the documents the platform issues: an RSA key with a 'signing' certificate from the platform CA. */
  signer: CaMaterial;
  tokenSecret: Uint8Array;
}

function sealKeyPem(pem: string, passphrase: string): string {
  return crypto.createPrivateKey(pem).export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase }) as string;
}

function openKeyPem(sealed: string, passphrase: string): string {
  return crypto.createPrivateKey({ key: sealed, format: 'pem', passphrase }).export({ type: 'pkcs8', format: 'pem' }) as string;
}

export function sealSecret(secret: Buffer, passphrase: string): string {
  const salt = crypto.randomBytes(16);
  const key = crypto.scryptSync(passphrase, salt, 32);
  const iv = crypto.randomBytes(12);
  const c = crypto.createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([c.update(secret), c.final()]);
  return ['v1', salt, iv, c.getAuthTag(), body].map((p) => (typeof p === 'string' ? p : p.toString('base64'))).join('.');
}

export function openSecret(sealed: string, passphrase: string): Buffer {
  const [, salt, iv, tag, body] = sealed.split('.').map((p, i) => (i === 0 ? Buffer.alloc(0) : Buffer.from(p, 'base64')));
  const key = crypto.scryptSync(passphrase, salt, 32);
  const d = crypto.createDecipheriv('aes-256-gcm', key, iv);
  d.setAuthTag(tag);
  return Buffer.concat([d.update(body), d.final()]);
}

const CA_VALIDITY_DAYS = 3650;

export async function loadPlatformKeys(db: Db, clock: Clock, opts: { passphrase: string; platformName: string }): Promise<PlatformKeys> {
  const { passphrase, platformName } = opts;
  const now = clock.now();
  // The CA's validity starts a day early so certificates issued "now" on a clock moved back in tests still chain.
  const notBefore = new Date(now.getTime() - DAY_MS);

  if (!(await repo.getPlatformKey(db, 'ca'))) {
    const ca = createRootCa(
      { commonName: `${platformName} 根证书 (Root CA)`, organizationName: platformName, countryName: 'CN' },
      { notBefore, validityDays: CA_VALIDITY_DAYS },
    );
    await repo.insertPlatformKeyIfAbsent(db, 'ca', ca.certificatePem, sealKeyPem(ca.privateKeyPem, passphrase));
  }
  const caRow = (await repo.getPlatformKey(db, 'ca'))!;
  const ca: CaMaterial = { certificatePem: caRow.certificatePem!, privateKeyPem: openKeyPem(caRow.secretEnc, passphrase) };

  // Certificates issued by the CA for the platform itself, each created the first time it is missing (an existing
  // deployment gains a new one at its next start). They never outlive the CA.
  const caNotAfter = parseCertificate(ca.certificatePem).notAfter.getTime();
  const issued = async (name: string, usage: 'tsa' | 'signing', commonName: string): Promise<CaMaterial> => {
    if (!(await repo.getPlatformKey(db, name))) {
      const keys = generateRsaKeyPair();
      const certificatePem = issueCertificate({
        ca,
        publicKeyPem: keys.publicKeyPem,
        subject: { commonName, organizationName: platformName, countryName: 'CN' },
        usage,
        serialHex: randomSerialHex(),
        notBefore,
        notAfter: new Date(Math.min(notBefore.getTime() + (CA_VALIDITY_DAYS - 1) * DAY_MS, caNotAfter)),
      });
      await repo.insertPlatformKeyIfAbsent(db, name, certificatePem, sealKeyPem(keys.privateKeyPem, passphrase));
    }
    const row = (await repo.getPlatformKey(db, name))!;
    return { certificatePem: row.certificatePem!, privateKeyPem: openKeyPem(row.secretEnc, passphrase) };
  };
  const tsa = await issued('tsa', 'tsa', `${platformName} 时间戳服务 (TSA)`);
  const signer = await issued('signer', 'signing', `${platformName} 电子签章 (document signing)`);

  if (!(await repo.getPlatformKey(db, 'token'))) {
    await repo.insertPlatformKeyIfAbsent(db, 'token', null, sealSecret(crypto.randomBytes(32), passphrase));
  }
  const tokenRow = (await repo.getPlatformKey(db, 'token'))!;
  return { ca, tsa, signer, tokenSecret: new Uint8Array(openSecret(tokenRow.secretEnc, passphrase)) };
}
