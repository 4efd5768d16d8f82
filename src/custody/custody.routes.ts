import { z } from 'zod';
import type { RouteTable } from '../shared/http/route';
import type { CustodyService } from './custody.service';

const TenderParams = z.object({ tenderId: z.uuid() });
const ReleaseBody = z.object({
  share: z.string().regex(/^[A-Za-z0-9+/]+=*$/).max(4096).meta({ description: 'the opened share, base64 (bidtool release-share)' }),
});

export function custodyRoutes(routes: RouteTable, custody: CustodyService): void {
  const tag = 'custody';
  routes.add({
    method: 'get', path: '/tenders/:tenderId/opening-key', tag, access: 'authenticated', params: TenderParams,
    summary: '开标证书（投标文件须加密给它）与保管单位释放情况 (the opening certificate bids are encrypted to; custodians)',
    handler: ({ ctx, params }) => custody.openingKey(ctx, params.tenderId),
  });
  routes.add({
    method: 'get', path: '/tenders/:tenderId/opening-key/share', tag, access: ['agency', 'regulator', 'operator', 'tenderer'],
    params: TenderParams,
    summary: '保管单位取回封存的密钥分片（仅限截止后） (a custodian fetches its sealed share; after the deadline only)',
    handler: ({ ctx, params }) => custody.sealedShare(ctx, params.tenderId),
  });
  routes.add({
    method: 'post', path: '/tenders/:tenderId/opening-key/share', tag, access: ['agency', 'regulator', 'operator', 'tenderer'],
    params: TenderParams, body: ReleaseBody, status: 200,
    summary: '保管单位释放密钥分片（仅限截止后） (a custodian releases its share; after the deadline only)',
    handler: ({ ctx, params, body }) => custody.releaseShare(ctx, params.tenderId, body.share),
  });
}
