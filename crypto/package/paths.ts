/**
 * Rules for paths inside a bid package. The same rules apply when packing and
 * when unpacking, so a package bidtool makes always unpacks, on any OS, to the
 * same tree — and a hostile one cannot write outside the output directory.
 */

/** Device names Windows refuses as file names, with or without an extension. */
const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$/i;
/** Characters Windows does not allow in a file name (':' is handled separately). */
const WINDOWS_FORBIDDEN = /[<>"|?*]/;
/** C0 controls and DEL (NUL included). */
const CONTROL = /[\u0000-\u001f\u007f]/;
/** Bidirectional overrides can disguise a name ("报价‮fdp.exe"): refuse them. */
const BIDI_CONTROL = /[\u202a-\u202e\u2066-\u2069\u200e\u200f]/;

const MAX_PATH_BYTES = 1024;
const MAX_SEGMENT_BYTES = 255;

/**
 * Returns why `p` is not an acceptable in-package file path ("中文 / English"),
 * or null when it is. Acceptable: relative, forward slashes, no empty, '.' or
 * '..' segments, nothing a Windows or POSIX file system would reinterpret.
 */
export function entryPathProblem(p: string): string | null {
  if (p.length === 0) return '路径为空 / empty path';
  if (p.includes('\0')) return '路径含 NUL 字符 / path contains NUL';
  if (CONTROL.test(p)) return '路径含控制字符 / path contains control characters';
  if (BIDI_CONTROL.test(p)) return '路径含双向文本控制字符 / path contains bidirectional control characters';
  if (p.includes('\\')) return '路径含反斜杠 / path contains a backslash';
  if (p.startsWith('/')) return '绝对路径 / absolute path';
  if (/^[A-Za-z]:/.test(p)) return '路径含盘符 / path has a drive letter';
  if (p.includes(':')) return '路径含冒号 / path contains a colon';
  if (WINDOWS_FORBIDDEN.test(p)) return '路径含 Windows 不允许的字符 < > " | ? * / path contains a character Windows forbids';
  if (Buffer.byteLength(p, 'utf8') > MAX_PATH_BYTES) return `路径过长 / path longer than ${MAX_PATH_BYTES} bytes`;
  for (const seg of p.split('/')) {
    if (seg === '') return '路径含空段（// 或以 / 结尾）/ path has an empty segment';
    if (seg === '.' || seg === '..') return '路径含 . 或 .. 段 / path has a "." or ".." segment';
    if (Buffer.byteLength(seg, 'utf8') > MAX_SEGMENT_BYTES) return `文件名过长 / name longer than ${MAX_SEGMENT_BYTES} bytes`;
    if (/[. ]$/.test(seg)) return '文件名以点或空格结尾 / name ends with a dot or space';
    if (WINDOWS_RESERVED.test(seg)) return '文件名为 Windows 保留设备名 / name is a Windows reserved device name';
  }
  return null;
}

/**
 * The key two paths collide under: case-insensitive and Unicode-normalised, as
 * on Windows and macOS file systems ("报价.PDF" and "报价.pdf" are one file there).
 */
export function pathKey(p: string): string {
  return p.normalize('NFC').toLowerCase();
}

/**
 * Finds a path used both as a file and as a directory ("a" and "a/b"), which
 * cannot both be written. `keys` are pathKey()s of files. Returns the pair or null.
 */
export function fileDirectoryConflict(keys: Iterable<string>): [file: string, under: string] | null {
  const files = new Set(keys);
  for (const k of files) {
    let i = k.indexOf('/');
    while (i !== -1) {
      const prefix = k.slice(0, i);
      if (files.has(prefix)) return [prefix, k];
      i = k.indexOf('/', i + 1);
    }
  }
  return null;
}
