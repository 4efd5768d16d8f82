/**
 * A bidder's own bids: listing, receipts (the RFC 3161 token and the PDF 回执), withdrawal before the deadline.
 * Before the opening the agency sees only how many bids each section has, never who sent them (TL 22).
 */
import type { Db } from '../db';
import type { Clock } from '../shared/clock';
import { requireActor, seesEverything, type ActionContext } from '../shared/access';
import { NotFound } from '../shared/errors';
import { formatShanghai } from '../shared/time';
import { renderSimplePdf } from '../documents/pdf';
import type { AuditService } from '../monitoring/audit.service';
import type { DepositReleases } from '../deposits/deposit-releases';
import { identityRepository } from '../identity/identity.repository';
import { tendersRepository } from '../tenders/tenders.repository';
import { BidAfterDeadline, BidNotCurrent } from './bids.errors';
import { bidsRepository as repo, type Bid } from './bids.repository';
import { bidView, type BidView } from './bids.views';

export class BidService {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly audit: AuditService,
    /** A withdrawal before the deadline releases the deposit (TLR 35; GP87 38). */
    private readonly releases: DepositReleases,
  ) {}

  private async own(ctx: ActionContext, bidId: string): Promise<Bid> {
    const actor = requireActor(ctx, 'bidder');
    const bid = await repo.findBid(this.db, bidId);
    if (!bid || bid.bidderOrgId !== actor.orgId) throw NotFound({ resource: '投标文件' });
    return bid;
  }

  async list(ctx: ActionContext, tenderId?: string): Promise<BidView[]> {
    const actor = requireActor(ctx, 'bidder');
    return (await repo.listBids(this.db, { bidderOrgId: actor.orgId, tenderId })).map(bidView);
  }

  async get(ctx: ActionContext, bidId: string): Promise<BidView> {
    return bidView(await this.own(ctx, bidId));
  }

  /** The time-stamp response (DER), verifiable with `openssl ts -verify -data bid.cms -in receipt.tsr -CAfile ca.pem`. */
  async receiptToken(ctx: ActionContext, bidId: string): Promise<Buffer> {
    return (await this.own(ctx, bidId)).receiptToken;
  }

  /** The PDF 回执 (EB 27: every submission is answered at once with a receipt). */
  async receiptPdf(ctx: ActionContext, bidId: string): Promise<Buffer> {
    const bid = await this.own(ctx, bidId);
    const tender = (await tendersRepository.findTender(this.db, bid.tenderId))!;
    const section = (await tendersRepository.listSections(this.db, tender.id)).find((s) => s.id === bid.sectionId)!;
    const bidder = (await identityRepository.findOrganisation(this.db, bid.bidderOrgId))!;
    const status = { current: '有效', superseded: '已被替换', withdrawn: '已撤回' }[bid.status];
    return renderSimplePdf('投标文件接收回执', [
      `项目编号：${tender.code}`,
      `项目名称：${tender.name}`,
      `标段：第${section.seq}标段 ${section.name}`,
      `投标人：${bidder.name}（统一社会信用代码 ${bidder.creditCode}）`,
      '',
      `接收时间：${formatShanghai(bid.receivedAt)}（北京时间，以平台服务器时间为准）`,
      `投标截止时间：${formatShanghai(tender.bidDeadline)}（北京时间）`,
      `投标文件大小：${bid.envelopeSize.toLocaleString('zh-CN')} 字节`,
      `投标文件 SHA-256：${bid.envelopeSha256}`,
      `签名证书序列号：${bid.signerCertificateSerial}`,
      `时间戳序列号：${bid.receiptSerial}`,
      `交易日志序号：${bid.auditSeq}`,
      `状态：${status}`,
      '',
      '本回执依据《电子招标投标办法》第二十七条出具。投标文件在开标前以数字信封加密保存，任何人无法解密。',
      '可用 openssl ts -verify -data 投标文件 -in 时间戳文件 -CAfile 平台根证书 核验时间戳。',
    ]);
  }

  /** TL 29: a bidder may withdraw before the deadline; the deposit is then released (refunded by the deposits work). */
  async withdraw(ctx: ActionContext, bidId: string): Promise<BidView> {
    const actor = requireActor(ctx, 'bidder');
    await this.own(ctx, bidId);
    return this.db.transaction(async (trx) => {
      const bid = (await repo.findBid(trx, bidId, true))!;
      if (bid.status !== 'current') throw BidNotCurrent({ status: bid.status });
      const tender = (await tendersRepository.findTender(trx, bid.tenderId, { forUpdate: true }))!;
      const now = this.clock.now();
      if (tender.status !== 'published' || now.getTime() > tender.bidDeadline.getTime()) {
        throw BidAfterDeadline({ bidDeadline: tender.bidDeadline.toISOString() });
      }
      await repo.withdraw(trx, bid.id, now);
      await this.audit.append(trx, ctx, {
        action: 'bid.withdraw',
        objectType: 'bid',
        objectId: bid.id,
        tenderId: bid.tenderId,
        payload: { sectionId: bid.sectionId, bidderOrgId: actor.orgId },
      });
      await this.releases.release(trx, ctx, { tenderId: bid.tenderId, sectionId: bid.sectionId, bidderOrgId: actor.orgId, bidId: bid.id, reason: 'withdrawal' });
      return bidView((await repo.findBid(trx, bid.id))!);
    });
  }

  /** Counts of current bids per section, for the tender's agency and tenderer, regulators and the trading centre. */
  async counts(ctx: ActionContext, tenderId: string): Promise<{ tenderId: string; sections: Array<{ sectionId: string; seq: number; count: number }> }> {
    const actor = requireActor(ctx, 'agency', 'tenderer', 'regulator', 'operator');
    const tender = await tendersRepository.findTender(this.db, tenderId);
    if (!tender || (!seesEverything(actor) && actor.orgId !== tender.agencyOrgId && actor.orgId !== tender.tendererOrgId)) {
      throw NotFound({ resource: '招标项目' });
    }
    const counts = await repo.countCurrent(this.db, tenderId);
    const sections = await tendersRepository.listSections(this.db, tenderId);
    return {
      tenderId,
      sections: sections.map((s) => ({ sectionId: s.id, seq: s.seq, count: counts.find((c) => c.sectionId === s.id)?.count ?? 0 })),
    };
  }
}
