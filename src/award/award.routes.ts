import { z } from 'zod';
import type { RouteTable } from '../shared/http/route';
import type { AwardService } from './award.service';

const SectionParams = z.object({ tenderId: z.uuid(), sectionId: z.uuid() });
const ObjectionParams = z.object({ tenderId: z.uuid(), sectionId: z.uuid(), objectionId: z.uuid() });
const EvaluationBody = z.object({
  report: z.string().trim().min(2).max(20_000).meta({ description: '评标报告（或其摘要） (the evaluation report or its abstract)' }),
  summary: z.string().trim().max(2000).optional(),
  candidates: z
    .array(z.object({ bidId: z.uuid(), rank: z.number().int().min(1).max(3) }))
    .min(1)
    .max(3)
    .meta({ description: '中标候选人：本标段已解密的投标，排名 1..n 不重复 (decrypted bids of the section, ranks 1..n)' }),
});
const PublicityBody = z.object({
  endsAt: z.iso
    .datetime({ offset: true })
    .transform((s) => new Date(s))
    .optional()
    .meta({ description: '公示截止时间，不早于3日后（首日不计）；缺省取最早截止时间 (default: the earliest end allowed, TLR 54)' }),
});
const ObjectionBody = z.object({ text: z.string().trim().min(2).max(2000) });
const AnswerBody = z.object({ answer: z.string().trim().min(2).max(2000) });
const AwardBody = z.object({
  rank: z.number().int().min(1).max(3).optional().meta({ description: '缺省为排名第一的中标候选人 (default: the first candidate)' }),
  reason: z.string().trim().max(2000).optional(),
});
const RefusalBody = z.object({ reason: z.string().trim().min(2).max(2000).meta({ description: '中标人拒签的情形及证明 (what the winner refused, and how it is known)' }) });
const ContractBody = z.object({
  signedAt: z.iso.datetime({ offset: true }).transform((s) => new Date(s)),
  amountFen: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
});

export function awardRoutes(routes: RouteTable, award: AwardService): void {
  const tag = 'award';
  const p = '/tenders/:tenderId/sections/:sectionId';
  routes.add({
    method: 'get', path: `${p}/award-status`, tag, access: 'authenticated', params: SectionParams,
    summary: '标段定标进度：评标结果、中标候选人、公示、异议、中标通知书、合同 (where the section\'s award stands)',
    handler: ({ ctx, params }) => award.status(ctx, params.tenderId, params.sectionId),
  });
  routes.add({
    method: 'post', path: `${p}/evaluation`, tag, access: ['agency'], params: SectionParams, body: EvaluationBody,
    summary: '录入评标结果及排序的中标候选人（1至3名） (record the evaluation result and ranked candidates, TLR 53)',
    handler: ({ ctx, params, body }) => award.recordEvaluation(ctx, params.tenderId, params.sectionId, body),
  });
  routes.add({
    method: 'post', path: `${p}/publicity`, tag, access: ['agency'], params: SectionParams, body: PublicityBody,
    summary: '发布中标候选人公示（不少于3日） (publish the candidate publicity, at least 3 days, TLR 54)',
    handler: ({ ctx, params, body }) => award.publishPublicity(ctx, params.tenderId, params.sectionId, body),
  });
  routes.add({
    method: 'post', path: `${p}/publicity/objections`, tag, access: ['bidder'], params: SectionParams, body: ObjectionBody,
    summary: '公示期内对中标候选人提出异议 (object during the publicity, TLR 54)',
    handler: ({ ctx, params, body }) => award.raiseObjection(ctx, params.tenderId, params.sectionId, body.text),
  });
  routes.add({
    method: 'post', path: `${p}/publicity/objections/:objectionId/answer`, tag, access: ['agency'], params: ObjectionParams, body: AnswerBody,
    status: 200,
    summary: '答复公示期异议（3日内；逾期答复予以标记） (answer an objection within 3 days; late answers are flagged)',
    handler: ({ ctx, params, body }) => award.answerObjection(ctx, params.tenderId, params.sectionId, params.objectionId, body.answer),
  });
  routes.add({
    method: 'post', path: `${p}/award`, tag, access: ['agency'], params: SectionParams, body: AwardBody,
    summary: '发出中标通知书（公示期满且异议均已答复；平台签名） (issue the signed award notice, TLR 54 / TL 45)',
    handler: ({ ctx, params, body }) => award.issueAward(ctx, params.tenderId, params.sectionId, body),
  });
  routes.add({
    method: 'get', path: `${p}/award`, tag, access: 'authenticated', params: SectionParams,
    summary: '中标结果 (the award)',
    handler: ({ ctx, params }) => award.award(ctx, params.tenderId, params.sectionId),
  });
  routes.add({
    method: 'get', path: `${p}/award/notice.pdf`, tag, access: 'authenticated', params: SectionParams, produces: 'application/pdf',
    summary: '中标通知书 PDF (the award notice)',
    handler: async ({ ctx, params, res }) => {
      const pdf = await award.noticeFile(ctx, params.tenderId, params.sectionId, 'pdf');
      res.type('application/pdf').send(pdf);
    },
  });
  routes.add({
    method: 'get', path: `${p}/award/notice.p7s`, tag, access: 'authenticated', params: SectionParams, produces: 'application/pkcs7-signature',
    summary: '中标通知书的平台签名（CMS，可用 openssl cms -verify 核验） (the platform signature of the notice)',
    handler: async ({ ctx, params, res }) => {
      const sig = await award.noticeFile(ctx, params.tenderId, params.sectionId, 'signature');
      res.type('application/pkcs7-signature').send(sig);
    },
  });
  routes.add({
    method: 'post', path: `${p}/award/refusal`, tag, access: ['agency'], params: SectionParams, body: RefusalBody, status: 200,
    summary: '登记中标人拒绝签订合同：其投标保证金不予退还 (the winner refuses to sign: its deposit is kept, TLR 74)',
    handler: ({ ctx, params, body }) => award.recordRefusal(ctx, params.tenderId, params.sectionId, body.reason),
  });
  routes.add({
    method: 'post', path: `${p}/contract`, tag, access: ['agency'], params: SectionParams, body: ContractBody, status: 201,
    summary: '登记合同签订（中标通知书发出之日起30日内；逾期予以标记） (record the contract, due within 30 days, TL 46)',
    handler: ({ ctx, params, body }) => award.recordContract(ctx, params.tenderId, params.sectionId, body),
  });
}
