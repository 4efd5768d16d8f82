/** The resume state of an upload, kept in <in>.upload.json. */
import fs from 'node:fs';
import { writeFileAtomic } from './shared';

export interface UploadState {
  version: 1;
  server: string;
  tenderId: string;
  sectionId: string;
  uploadId: string;
  size: number;
  sha256: string;
  startedAt: string;
}

export function readState(file: string): UploadState | undefined | 'unreadable' {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const s = JSON.parse(text) as Partial<UploadState>;
    if (
      s.version === 1 &&
      typeof s.uploadId === 'string' &&
      typeof s.server === 'string' &&
      typeof s.tenderId === 'string' &&
      typeof s.sectionId === 'string' &&
      typeof s.size === 'number' &&
      typeof s.sha256 === 'string'
    ) {
      return s as UploadState;
    }
  } catch {
    // fall through
  }
  return 'unreadable';
}

export function writeState(file: string, state: UploadState): void {
  writeFileAtomic(file, JSON.stringify(state, null, 2) + '\n', 0o600);
}
