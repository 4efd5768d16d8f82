/** The one error type of the bid package module; `code` says what was wrong with the package. */
export type PackageErrorCode =
  | 'MANIFEST_MISSING'
  | 'MANIFEST_INVALID'
  | 'PATH_TRAVERSAL'
  | 'UNLISTED_FILE'
  | 'MISSING_FILE'
  | 'HASH_MISMATCH'
  | 'TOO_LARGE'
  | 'TOO_MANY_FILES'
  | 'SUSPICIOUS_RATIO'
  | 'NOT_A_ZIP'
  | 'DUPLICATE_ENTRY'
  | 'ENCRYPTED_ENTRY';

/**
 * Messages are "中文 / English" and name the entry concerned, never bid content
 * (prices, ID numbers): they end up in logs and on screens.
 */
export class PackageError extends Error {
  constructor(
    public code: PackageErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'PackageError';
  }
}
