/**
 * Uploads a tender document: the documents route takes the file's own bytes (Content-Type its media type,
 * ?fileName= its name), not a multipart form, so the shared JSON helper does not fit. Refusals come back as the
 * same ApiError the rest of the page shows.
 */
import { API, ApiError } from '../lib/api';
import { clearSession, currentSession } from '../lib/session';

export interface UploadedDocument {
  id: string;
  fileName: string;
  sizeBytes: number;
  sha256: string;
}

export async function uploadTenderDocument(tenderId: string, file: File): Promise<UploadedDocument> {
  const token = currentSession()?.token;
  let res: Response;
  try {
    res = await fetch(`${API}/tenders/${encodeURIComponent(tenderId)}/documents?fileName=${encodeURIComponent(file.name)}`, {
      method: 'POST',
      headers: {
        Accept: 'application/json',
        // the platform refuses an upload without a media type; a file the browser cannot type is sent as bytes
        'Content-Type': file.type || 'application/octet-stream',
        ...(token ? { Authorization: `Bearer ${token}` } : {}),
      },
      body: file,
    });
  } catch {
    throw new ApiError(0, 'NETWORK', '网络连接中断，上传未完成，请重试 (network unreachable, upload not finished)');
  }
  if (!res.ok) {
    let body: { error?: { code?: string; message?: string; details?: unknown } } = {};
    try {
      body = await res.json();
    } catch {
      /* a proxy's page: the status says enough */
    }
    if (res.status === 401) clearSession();
    if (res.status === 413 && !body.error) throw new ApiError(413, 'PAYLOAD_TOO_LARGE', '文件过大 (file too large)');
    throw new ApiError(res.status, body.error?.code ?? `HTTP_${res.status}`, body.error?.message ?? `上传失败 (HTTP ${res.status})`, body.error?.details);
  }
  return (await res.json()) as UploadedDocument;
}
