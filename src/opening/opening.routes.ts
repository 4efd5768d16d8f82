import { z } from 'zod';
import type { RouteTable } from '../shared/http/route';
import type { OpeningService } from './opening.service';
import type { OpeningReadout } from './opening-readout.service';

const TenderParams = z.object({ tenderId: z.uuid() });
const BidParams = z.object({ tenderId: z.uuid(), bidId: z.uuid() });
const ObjectionParams = z.object({ tenderId: z.uuid(), objectionId: z.uuid() });
const base64 = z.string().regex(/^[A-Za-z0-9+/]+=*$/);
const KeyBody = z.object({
  contentKey: base64.max(64).meta({ description: 'the 32-byte content key, base64 (bidtool unwrap-key)' }),
  signature: base64.max(65_536).meta({ description: 'detached CMS signature over contentKeyDigest(bidId, key), base64 DER' }),
});
const ConfirmBody = z.object({ kind: z.enum(['confirmed', 'disputed']) });
const ObjectionBody = z.object({ text: z.string().trim().min(2).max(2000) });
const AnswerBody = z.object({ answer: z.string().trim().min(2).max(2000) });

export function openingRoutes(routes: RouteTable, { opening, readout }: { opening: OpeningService; readout: OpeningReadout }): void {
  const tag = 'opening';
  const p = '/tenders/:tenderId/opening';
  routes.add({
    method: 'get', path: p, tag, access: 'authenticated', params: TenderParams,
    summary: '开标大厅状态（平台时间、各时限、签到） (the opening hall: state, server time, windows, sign-ins)',
    handler: ({ ctx, params }) => opening.view(ctx, params.tenderId),
  });
  routes.add({
    method: 'post', path: `${p}/sign-in`, tag, access: ['bidder'], params: TenderParams, status: 200,
    summary: '投标人数字证书签到 (sign in by certificate, EB 29)',
    handler: ({ ctx, params }) => opening.signIn(ctx, params.tenderId),
  });
  routes.add({
    method: 'post', path: `${p}/start-decryption`, tag, access: ['agency'], params: TenderParams, status: 200,
    summary: '主持人开始解密，解密时限开始计时 (the host opens the decryption window)',
    handler: ({ ctx, params }) => opening.startDecryption(ctx, params.tenderId),
  });
  routes.add({
    method: 'post', path: `${p}/bids/:bidId/content-key`, tag, access: ['bidder'], params: BidParams, body: KeyBody, status: 202,
    summary: '提交本单位投标文件的解密密钥（签名；仅限解密时限内） (hand over the content key, signed; window only)',
    handler: ({ ctx, params, body }) =>
      opening.postContentKey(ctx, params.tenderId, params.bidId, {
        contentKey: Buffer.from(body.contentKey, 'base64'),
        signature: Buffer.from(body.signature, 'base64'),
      }),
  });
  routes.add({
    method: 'get', path: `${p}/readings`, tag, access: 'authenticated', params: TenderParams,
    summary: '唱标：投标人、报价、工期、质量、项目负责人与解密结果 (the prices read out, EB 30)',
    handler: ({ ctx, params }) => readout.readings(ctx, params.tenderId),
  });
  routes.add({
    method: 'post', path: `${p}/confirmation`, tag, access: ['bidder'], params: TenderParams, body: ConfirmBody, status: 200,
    summary: '确认唱标结果或表示有异议；逾时未确认视为认可 (confirm; silence is acceptance, GP87 42)',
    handler: ({ ctx, params, body }) => readout.confirm(ctx, params.tenderId, body.kind),
  });
  routes.add({
    method: 'get', path: `${p}/objections`, tag, access: 'authenticated', params: TenderParams,
    summary: '异议及答复 (objections and answers)',
    handler: ({ ctx, params }) => readout.objections(ctx, params.tenderId),
  });
  routes.add({
    method: 'post', path: `${p}/objections`, tag, access: ['bidder'], params: TenderParams, body: ObjectionBody,
    summary: '当场提出异议 (raise an objection, TLR 44)',
    handler: ({ ctx, params, body }) => readout.raiseObjection(ctx, params.tenderId, body.text),
  });
  routes.add({
    method: 'post', path: `${p}/objections/:objectionId/answer`, tag, access: ['agency'], params: ObjectionParams, body: AnswerBody,
    status: 200,
    summary: '当场答复异议并记录 (answer an objection, TLR 44 / EB 39)',
    handler: ({ ctx, params, body }) => readout.answerObjection(ctx, params.tenderId, params.objectionId, body.answer),
  });
  routes.add({
    method: 'post', path: `${p}/pause`, tag, access: ['agency'], params: TenderParams, status: 200,
    summary: '暂停开标 (pause)',
    handler: ({ ctx, params }) => opening.pause(ctx, params.tenderId),
  });
  routes.add({
    method: 'post', path: `${p}/resume`, tag, access: ['agency'], params: TenderParams, status: 200,
    summary: '恢复开标，时限顺延 (resume; windows are extended by the pause)',
    handler: ({ ctx, params }) => opening.resume(ctx, params.tenderId),
  });
  routes.add({
    method: 'post', path: `${p}/record`, tag, access: ['agency'], params: TenderParams, status: 200,
    summary: '生成并发布开标记录表（平台签名） (make, sign and publish the opening record, EB 32)',
    handler: ({ ctx, params }) => readout.publishRecord(ctx, params.tenderId),
  });
  routes.add({
    method: 'get', path: `${p}/record.pdf`, tag, access: 'authenticated', params: TenderParams, produces: 'application/pdf',
    summary: '开标记录表 PDF (the opening record)',
    handler: async ({ ctx, params, res }) => {
      const pdf = await readout.recordFile(ctx, params.tenderId, 'pdf');
      res.type('application/pdf').send(pdf);
    },
  });
  routes.add({
    method: 'get', path: `${p}/record.p7s`, tag, access: 'authenticated', params: TenderParams, produces: 'application/pkcs7-signature',
    summary: '开标记录表的平台签名（CMS，可用 openssl cms -verify 核验） (the platform signature of the record)',
    handler: async ({ ctx, params, res }) => {
      const sig = await readout.recordFile(ctx, params.tenderId, 'signature');
      res.type('application/pkcs7-signature').send(sig);
    },
  });
  routes.add({
    method: 'post', path: `${p}/close`, tag, access: ['agency'], params: TenderParams, status: 200,
    summary: '结束开标 (close the opening)',
    handler: ({ ctx, params }) => readout.close(ctx, params.tenderId),
  });
}
