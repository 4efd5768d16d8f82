/**
 * Uploads a tender document: the documents route takes the file's own bytes (Content-Type its media type,
 * ?fileName= its name), not a multipart form.
 */
import { upload } from '../lib/api';

export interface UploadedDocument {
  id: string;
  fileName: string;
  sizeBytes: number;
  sha256: string;
}

export function uploadTenderDocument(tenderId: string, file: File): Promise<UploadedDocument> {
  // the platform refuses an upload without a media type; a file the browser cannot type is sent as bytes
  return upload<UploadedDocument>(`/tenders/${encodeURIComponent(tenderId)}/documents?fileName=${encodeURIComponent(file.name)}`, file, file.type || 'application/octet-stream');
}
