/**
 * The bidder's key files, read in the page and nowhere else: `bidtool enroll` writes signing.key.pem,
 * signing.cert.pem, encryption.key.pem and encryption.cert.pem (PKCS#8 and X.509, PEM). Each private key is
 * imported into WebCrypto as non-extractable and checked against its certificate; the file's text is dropped.
 * Nothing here is stored, logged or sent: only signatures and, at the opening, one unwrapped content key leave.
 */
import { bytesOf, childrenOf, readTlv } from './der';
import { derToPem, pemBlocks } from './pem';

export interface CertificateInfo {
  pem: string;
  der: Uint8Array;
  /** the issuer Name, DER */
  issuer: Uint8Array;
  /** the serialNumber INTEGER, DER (tag and length included) */
  serial: Uint8Array;
  spki: Uint8Array;
}

export interface KeyKit {
  signing?: { key: CryptoKey; cert: CertificateInfo };
  encryption?: { key: CryptoKey; cert: CertificateInfo };
}

export class KeyFileError extends Error {}

export function parseCertificate(pem: string, der: Uint8Array): CertificateInfo {
  const cert = readTlv(der, 0);
  const tbs = childrenOf(der, childrenOf(der, cert)[0]);
  const i = tbs[0].tag === 0xa0 ? 1 : 0;
  return { pem, der, serial: bytesOf(der, tbs[i]), issuer: bytesOf(der, tbs[i + 2]), spki: bytesOf(der, tbs[i + 5]) };
}

async function modulusOfSpki(spki: Uint8Array): Promise<string | undefined> {
  const key = await crypto.subtle.importKey('spki', spki as BufferSource, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, true, ['verify']);
  return (await crypto.subtle.exportKey('jwk', key)).n;
}

async function modulusOfPkcs8(pkcs8: Uint8Array): Promise<string | undefined> {
  const key = await crypto.subtle.importKey('pkcs8', pkcs8 as BufferSource, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, true, ['sign']);
  return (await crypto.subtle.exportKey('jwk', key)).n;
}

type Kind = 'signing' | 'encryption';

function kindOf(name: string): Kind | undefined {
  if (/sign/i.test(name)) return 'signing';
  if (/encrypt|enc\b/i.test(name)) return 'encryption';
  return undefined;
}

/** Reads the chosen files (a whole keys folder, or just the ones needed) into a kit of usable keys. */
export async function readKeyFiles(files: Iterable<File>): Promise<KeyKit> {
  const keys: Partial<Record<Kind, Uint8Array>> = {};
  const certs: Partial<Record<Kind, CertificateInfo>> = {};
  for (const file of files) {
    if (file.size > 64 * 1024) continue; // a bid or a document picked by mistake: not a key file
    const kind = kindOf(file.name);
    const text = await file.text();
    for (const block of pemBlocks(text)) {
      if (block.label === 'RSA PRIVATE KEY' || block.label === 'ENCRYPTED PRIVATE KEY') {
        throw new KeyFileError(`${file.name}：私钥须为未加密的 PKCS#8 格式（bidtool 生成的格式） / the key must be unencrypted PKCS#8, as bidtool writes it`);
      }
      if (block.label === 'PRIVATE KEY' && kind) keys[kind] = block.der;
      if (block.label === 'CERTIFICATE' && kind) {
        certs[kind] ??= parseCertificate(derToPem(block.der, 'CERTIFICATE'), block.der);
      }
    }
  }
  const kit: KeyKit = {};
  for (const kind of ['signing', 'encryption'] as const) {
    const pkcs8 = keys[kind];
    const cert = certs[kind];
    if (!pkcs8 || !cert) continue;
    if ((await modulusOfPkcs8(pkcs8)) !== (await modulusOfSpki(cert.spki))) {
      throw new KeyFileError(`${kind === 'signing' ? '签名' : '加密'}私钥与证书不匹配 / the ${kind} key does not match its certificate`);
    }
    const algorithm = kind === 'signing' ? { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } : { name: 'RSA-OAEP', hash: 'SHA-256' };
    const key = await crypto.subtle.importKey('pkcs8', pkcs8 as BufferSource, algorithm, false, kind === 'signing' ? ['sign'] : ['decrypt']);
    pkcs8.fill(0);
    kit[kind] = { key, cert };
  }
  return kit;
}

export const FILE_HINT = '选择 bidtool enroll 生成的密钥文件夹中的文件：signing.key.pem、signing.cert.pem（登录、签名），encryption.key.pem、encryption.cert.pem（解密） / pick the files bidtool enroll wrote';
