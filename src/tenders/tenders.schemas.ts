import { z } from 'zod';

const fen = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export const SectionBody = z.object({
  name: z.string().trim().min(1).max(200),
  estimatedPriceFen: fen.min(1).meta({ description: '估算价（施工招标）或预算金额（政府采购），单位：分 (integer fen)' }),
  depositFen: fen.meta({ description: '投标保证金，单位：分；不得超过估算价/预算的 2% (TLR 26, GPR 33)' }),
});

const deadline = z.iso
  .datetime({ offset: true })
  .transform((s) => new Date(s))
  .meta({ description: '投标截止时间即开标时间 (TL 34), ISO 8601 with offset, e.g. 2026-12-20T09:30:00+08:00' });

export const CreateTenderBody = z.object({
  name: z.string().trim().min(2).max(200),
  type: z.enum(['construction', 'procurement']).meta({ description: 'construction: 工程建设招标; procurement: 政府采购' }),
  tendererOrgId: z.uuid(),
  region: z.string().trim().max(100).optional(),
  description: z.string().max(20_000).optional(),
  bidDeadline: deadline,
  decryptionWindowMinutes: z.number().int().min(10).max(240).default(30).meta({ description: '解密时限（分钟） (EB 30)' }),
  decryptionFailurePolicy: z
    .enum(['withdraw', 'custodian-open'])
    .default('withdraw')
    .meta({ description: '非投标人原因解密失败时：按撤回处理，或由保管单位门限密钥开启 (EB 31)' }),
  custodianThreshold: z.number().int().min(2).max(9).optional(),
  custodianOrgIds: z.array(z.uuid()).min(2).max(9).optional(),
  sections: z.array(SectionBody).min(1).max(50),
});

export const UpdateTenderBody = CreateTenderBody.partial().refine((b) => Object.keys(b).length > 0, { message: '至少修改一项 (nothing to change)' });

export const TenderParams = z.object({ tenderId: z.uuid() });
export const DocumentParams = z.object({ tenderId: z.uuid(), documentId: z.uuid() });

export const ListTendersQuery = z.object({
  status: z.enum(['draft', 'published', 'sealed', 'terminated']).optional(),
  type: z.enum(['construction', 'procurement']).optional(),
  q: z.string().trim().max(100).optional(),
  mine: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional()
    .meta({ description: '仅本单位代理或作为招标人的项目 (only tenders your organisation runs or owns)' }),
  page: z.coerce.number().int().min(1).max(10_000).default(1),
  pageSize: z.coerce.number().int().min(1).max(100).default(20),
});

export const ClarifyBody = z.object({
  title: z.string().trim().min(1).max(200),
  body: z.string().min(1).max(50_000),
  affectsBidPreparation: z.boolean().meta({ description: '可能影响投标文件编制 (TLR 21)' }),
  newDeadline: deadline.optional(),
});

export const TerminateBody = z.object({ reason: z.string().trim().min(2).max(2000) });
