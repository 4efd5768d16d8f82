import { createError } from '../errors';

export const BlobKeyInvalid = createError<{ key: string }>(
  'BLOB_KEY_INVALID',
  400,
  '存储键不合法 (invalid blob key: lower-case letters, digits, "/", "_", ".", "-"; no empty, "." or ".." segments)',
);

export const BlobNotFound = createError<{ key: string }>('BLOB_NOT_FOUND', 404, '未找到文件 (blob not found)');
