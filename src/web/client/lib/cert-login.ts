/** Certificate login in the page, as `bidtool login` does it: sign the platform's nonce with the signing key. */
import { post } from './api';
import type { KeyKit } from './keys';
import { toBase64 } from './pem';
import { saveSession, type Session } from './session';

export async function certificateLogin(kit: KeyKit): Promise<Session> {
  if (!kit.signing) throw new Error('未找到签名私钥与签名证书（signing.key.pem、signing.cert.pem） / the signing key and certificate are needed');
  const challenge = await post<{ challengeId: string; nonce: string }>('/auth/challenge');
  const signature = await crypto.subtle.sign('RSASSA-PKCS1-v1_5', kit.signing.key, new TextEncoder().encode(challenge.nonce));
  const session = await post<Session>('/auth/certificate-login', {
    challengeId: challenge.challengeId,
    certificatePem: kit.signing.cert.pem,
    signature: toBase64(signature),
  });
  saveSession(session);
  return session;
}

export async function passwordLogin(username: string, password: string): Promise<Session> {
  const session = await post<Session>('/auth/password-login', { username, password });
  saveSession(session);
  return session;
}
