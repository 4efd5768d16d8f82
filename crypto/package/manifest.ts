/**
 * manifest.json: what a bid package says it contains. The bid form (开标一览表)
 * is what the opening reads out (唱标, EB 30); tool serial, machine code and
 * author are the electronic evidence collusion monitoring compares (TLR 40).
 */
import { z } from 'zod';
import { PackageError } from './errors';
import { entryPathProblem, fileDirectoryConflict, pathKey } from './paths';

export const MANIFEST_NAME = 'manifest.json';

/** 开标一览表 — the bid form. */
export interface BidForm {
  /** 投标总价, integer fen (分), > 0. */
  totalPriceFen: number;
  /** 工期（日历天）or 交货期, days. */
  durationDays: number;
  /** 质量标准, e.g. 合格. */
  quality: string;
  /** 项目负责人 and 身份证号 (GB 11643, 18 characters with check character). */
  projectManager: { name: string; idNumber: string };
  /** 投标有效期, days. */
  validityDays: number;
}

export interface BidContact {
  name: string;
  /** As written; compared by its digits. */
  phone: string;
}

export interface ManifestDocument {
  /** Path inside the zip, forward slashes. */
  path: string;
  size: number;
  /** SHA-256, lowercase hex. */
  sha256: string;
}

export interface Manifest {
  formatVersion: 1;
  tenderId: string;
  sectionId: string;
  tenderCode?: string;
  bidder: { organisationId?: string; name: string; creditCode: string };
  form: BidForm;
  documents: ManifestDocument[];
  /** The tool and its per-installation serial (投标工具序列号). */
  tool: { name: 'bidtool'; version: string; serial: string };
  /** 机器码: SHA-256 over stable machine facts, see machineFingerprint(). */
  machineFingerprint: string;
  /** Who compiled the bid (编制人). */
  author: string;
  /** 联系人 named in the bid, when the bidder gives one: the same contact in different bids is deemed collusion (GP87 37). */
  contact?: BidContact;
  /** ISO 8601, UTC. */
  createdAt: string;
}

// ---------------------------------------------------------------------------
// Identifiers with check characters

const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK = '10X98765432';

/** 居民身份证号码 (GB 11643-1999): 17 digits, then a check character (0-9 or X) over them. */
export function idNumberCheckChar(first17: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * ID_WEIGHTS[i];
  return ID_CHECK[sum % 11];
}

/** 610103********1234: the region code and the last four, as on a printed form (an ID number is personal data). */
export function maskIdNumber(id: string): string {
  return id.length > 10 ? `${id.slice(0, 6)}${'*'.repeat(id.length - 10)}${id.slice(-4)}` : '*'.repeat(id.length);
}

/** 18 characters, address code not starting with 0, a real birth date, correct check character. */
export function isValidIdNumber(id: string): boolean {
  if (!/^[1-9]\d{16}[\dX]$/.test(id)) return false;
  const y = Number(id.slice(6, 10));
  const m = Number(id.slice(10, 12));
  const d = Number(id.slice(12, 14));
  if (y < 1900) return false;
  const birth = new Date(Date.UTC(y, m - 1, d));
  if (birth.getUTCFullYear() !== y || birth.getUTCMonth() !== m - 1 || birth.getUTCDate() !== d) return false;
  return idNumberCheckChar(id.slice(0, 17)) === id[17];
}

// 统一社会信用代码, GB 32100-2015. The server has the same rule in src/identity/credit-code.ts;
// crypto/ ships to bidders alone and may not import it.
const CREDIT_ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const CREDIT_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

export function isValidCreditCode(code: string): boolean {
  if (!/^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$/.test(code)) return false;
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += CREDIT_ALPHABET.indexOf(code[i]) * CREDIT_WEIGHTS[i];
  const c = 31 - (sum % 31);
  return CREDIT_ALPHABET[c === 31 ? 0 : c] === code[17];
}

// ---------------------------------------------------------------------------
// Schema

const NO_CONTROL = /^[^\u0000-\u001f\u007f]*$/;

function text(max: number) {
  return z
    .string()
    .trim()
    .min(1, { error: '不能为空 / must not be empty' })
    .max(max, { error: `不能超过 ${max} 个字符 / at most ${max} characters` })
    .regex(NO_CONTROL, { error: '含控制字符 / contains control characters' });
}

const positiveInt = z
  .number({ error: '应为整数 / must be an integer' })
  .int({ error: '应为整数 / must be an integer' })
  .positive({ error: '应大于 0 / must be greater than 0' });

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, { error: '应为 64 位小写十六进制 SHA-256 / must be a lowercase hex SHA-256' });

const documentSchema = z.strictObject({
  path: z.string().superRefine((p, ctx) => {
    const problem = entryPathProblem(p);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
    else if (pathKey(p) === pathKey(MANIFEST_NAME)) ctx.addIssue({ code: 'custom', message: `${MANIFEST_NAME} 为保留名称 / is a reserved name` });
  }),
  size: z.number().int().nonnegative(),
  sha256: sha256Hex,
});

const manifestSchema = z.strictObject({
  formatVersion: z.literal(1, { error: '不支持的格式版本 / unsupported formatVersion (expected 1)' }),
  tenderId: text(128),
  sectionId: text(128),
  tenderCode: text(128).optional(),
  bidder: z.strictObject({
    organisationId: text(128).optional(),
    name: text(200),
    creditCode: z.string().refine(isValidCreditCode, {
      error: '统一社会信用代码无效（GB 32100 校验位）/ invalid unified social credit code (GB 32100 check character)',
    }),
  }),
  form: z.strictObject({
    totalPriceFen: positiveInt,
    durationDays: positiveInt,
    quality: text(200),
    projectManager: z.strictObject({
      name: text(100),
      // The value is personal data: the message never repeats it.
      idNumber: z.string().refine(isValidIdNumber, {
        error: '身份证号码无效（18 位，GB 11643 校验位）/ invalid ID number (18 characters, GB 11643 check character)',
      }),
    }),
    validityDays: positiveInt,
  }),
  documents: z.array(documentSchema).superRefine((docs, ctx) => {
    const seen = new Set<string>();
    for (const [i, d] of docs.entries()) {
      const k = pathKey(d.path);
      if (seen.has(k)) ctx.addIssue({ code: 'custom', path: [i, 'path'], message: '文件重复 / duplicate document path' });
      seen.add(k);
    }
    const conflict = fileDirectoryConflict(seen);
    if (conflict) ctx.addIssue({ code: 'custom', message: '同一路径既是文件又是目录 / a path is both a file and a directory' });
  }),
  tool: z.strictObject({
    name: z.literal('bidtool'),
    version: text(64),
    serial: text(128),
  }),
  machineFingerprint: sha256Hex,
  author: text(100),
  contact: z
    .strictObject({
      name: text(100),
      phone: z.string().regex(/^\+?[0-9][0-9 ()-]{4,30}$/, { error: '联系电话格式无效 / invalid contact phone number' }),
    })
    .optional(),
  createdAt: z.iso.datetime({ error: '应为 ISO 8601 时间 / must be an ISO 8601 date-time' }),
});

// Keep the hand-written interface and the schema in step.
type SchemaOutput = z.output<typeof manifestSchema>;
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const schemaMatchesInterface: Same<SchemaOutput, Manifest> = true;
void schemaMatchesInterface;

/** Checks a parsed manifest.json; throws PackageError MANIFEST_INVALID listing the first problems. */
export function validateManifest(value: unknown): Manifest {
  const r = manifestSchema.safeParse(value);
  if (r.success) return r.data;
  const shown = r.error.issues.slice(0, 5).map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`);
  if (r.error.issues.length > shown.length) shown.push(`…（共 ${r.error.issues.length} 处 / ${r.error.issues.length} problems in all）`);
  throw new PackageError('MANIFEST_INVALID', `投标包清单无效 / Invalid bid package manifest: ${shown.join('; ')}`);
}
