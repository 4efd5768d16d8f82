/** The tender and its opening certificate, as the platform describes them. */
import { parseCertificate, PkiError, type CertificateInfo } from '../../../pki';
import { apiRequest } from '../../http';
import { unexpected } from './shared';

export interface TenderInfo {
  id: string;
  code?: string;
  name?: string;
  status?: string;
  bidDeadline: Date;
  decryptionWindowMinutes?: number;
  sections: Array<{ id: string; name?: string }>;
}

export async function fetchTender(server: string, token: string, tenderId: string): Promise<TenderInfo> {
  const body = await apiRequest<unknown>(server, 'GET', `/api/v1/tenders/${encodeURIComponent(tenderId)}`, { token });
  const t = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const deadline = new Date(String(t.bidDeadline));
  if (typeof t.bidDeadline !== 'string' || Number.isNaN(deadline.getTime())) throw unexpected('tender without bidDeadline');
  const sections = Array.isArray(t.sections)
    ? t.sections.filter((s): s is { id: string; name?: string } => typeof s === 'object' && s !== null && typeof (s as { id?: unknown }).id === 'string')
    : [];
  return {
    id: tenderId,
    code: typeof t.code === 'string' ? t.code : undefined,
    name: typeof t.name === 'string' ? t.name : undefined,
    status: typeof t.status === 'string' ? t.status : undefined,
    bidDeadline: deadline,
    decryptionWindowMinutes: typeof t.decryptionWindowMinutes === 'number' ? t.decryptionWindowMinutes : undefined,
    sections,
  };
}

export async function fetchOpeningCertificate(server: string, token: string, tenderId: string): Promise<{ pem: string; info: CertificateInfo }> {
  const body = await apiRequest<unknown>(server, 'GET', `/api/v1/tenders/${encodeURIComponent(tenderId)}/opening-key`, { token });
  const pem = typeof body === 'object' && body !== null ? (body as { certificatePem?: unknown }).certificatePem : undefined;
  if (typeof pem !== 'string') throw unexpected('opening key without certificatePem');
  try {
    const info = parseCertificate(pem);
    if (info.usage !== 'opening') throw unexpected('the tender’s opening certificate is not an opening certificate');
    return { pem, info };
  } catch (e) {
    if (e instanceof PkiError) throw unexpected(`opening certificate: ${e.message}`);
    throw e;
  }
}

export function tenderTitle(t: TenderInfo): string {
  return [t.code, t.name].filter(Boolean).join(' ') || t.id;
}
