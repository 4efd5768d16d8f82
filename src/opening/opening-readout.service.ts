/**
 * The opening after decryption (EB 30–32): the prices read out (唱标), bidders' confirmations (silence is acceptance,
 * GP87 42), objections raised and answered on the record (TLR 44, EB 39), and the signed opening record published
 * to participants and regulators (EB 32, TL 36).
 */
import crypto from 'node:crypto';
import type { Manifest } from '../../crypto/package';
import type { Db } from '../db';
import type { Clock } from '../shared/clock';
import { MINUTE_MS } from '../shared/clock';
import { requireActor, type ActionContext } from '../shared/access';
import { formatYuan } from '../shared/money';
import type { BlobStore } from '../shared/blobs';
import { identityRepository } from '../identity/identity.repository';
import { depositStatusLabels } from '../deposits/deposits.service';
import type { OpeningSteps } from './opening-steps';
import type { OpeningService } from './opening.service';
import { NotABidder, ObjectionNotFound, ObjectionPeriodRunning, ObjectionsUnanswered, ObjectionWindowClosed, OpeningWrongState } from './opening.errors';
import { openingRepository as repo } from './opening.repository';

/** How long objections may be raised after the reading (TLR 44: raised and answered on the spot). */
export const OBJECTION_MINUTES = 15;

export class OpeningReadout {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly steps: OpeningSteps,
    private readonly blobs: BlobStore,
    /** The hall's view, which the host's steps answer with. */
    private readonly hall: Pick<OpeningService, 'view'>,
    /** Renders and signs the 开标记录表 (see opening-record.ts). */
    private readonly renderRecord: (tenderId: string) => Promise<{ pdf: Buffer; signature: Buffer }>,
  ) {}

  /** EB 30: after decryption the bidders' names, prices and the other items named are published (唱标). */
  async readings(ctx: ActionContext, tenderId: string) {
    const actor = requireActor(ctx);
    const t = await this.steps.tenderFor(actor, tenderId);
    const o = await this.steps.openingOf(this.db, t.id);
    if (['signing-in', 'decrypting'].includes(o.state)) throw OpeningWrongState({ state: o.state, expected: 'announcing' });
    const bids = await this.steps.currentBidsOf(this.db, t.id);
    const decryptions = new Map((await repo.decryptions(this.db, t.id)).map((d) => [d.bidId, d]));
    const orgs = await identityRepository.listOrganisations(this.db, { ids: bids.map((b) => b.bidderOrgId) });
    const confirmations = await repo.confirmations(this.db, t.id);
    const deposit = await depositStatusLabels(this.db, t.id);
    return bids.map((b) => {
      const d = decryptions.get(b.id);
      const form = d?.manifest?.form as Manifest['form'] | undefined;
      return {
        bidId: b.id,
        sectionId: b.sectionId,
        bidder: orgs.find((x) => x.id === b.bidderOrgId)?.name ?? '',
        bidderOrgId: b.bidderOrgId,
        outcome: d?.outcome ?? null,
        cause: d?.cause ?? null,
        totalPriceFen: form?.totalPriceFen ?? null,
        totalPriceYuan: form ? formatYuan(form.totalPriceFen) : null,
        durationDays: form?.durationDays ?? null,
        quality: form?.quality ?? null,
        projectManager: form?.projectManager.name ?? null,
        deposit: deposit(b.sectionId, b.bidderOrgId),
        confirmation: confirmations.find((c) => c.bidderOrgId === b.bidderOrgId)?.kind ?? null,
      };
    });
  }

  async confirm(ctx: ActionContext, tenderId: string, kind: 'confirmed' | 'disputed') {
    const actor = requireActor(ctx, 'bidder');
    const t = await this.steps.tenderFor(actor, tenderId);
    await this.steps.tx(t.id, async (trx) => {
      const o = await this.steps.openingOf(trx, t.id, true);
      this.steps.requireState(o, 'announcing');
      if ((await this.steps.currentBidsOf(trx, t.id, actor.orgId)).length === 0) throw NotABidder();
      await repo.confirm(trx, t.id, actor.orgId, kind, this.clock.now());
      await this.steps.note(trx, ctx, t.id, 'opening.confirm', { kind }, 'opening', t.id);
    });
    return { tenderId, kind };
  }

  /** The confirmation time is over: bidders who said nothing are deemed to accept (GP87 42); objections open. */
  async closeConfirmations(tenderId: string, ctx: ActionContext): Promise<void> {
    await this.steps.tx(tenderId, async (trx) => {
      const o = await repo.find(trx, tenderId, true);
      if (!o || o.state !== 'announcing') return;
      const now = this.clock.now();
      if (o.pausedAt || (o.confirmationEndsAt && now.getTime() < o.confirmationEndsAt.getTime())) return;
      const said = new Set((await repo.confirmations(trx, tenderId)).map((c) => c.bidderOrgId));
      const bidders = new Set((await this.steps.currentBidsOf(trx, tenderId)).map((b) => b.bidderOrgId));
      for (const org of bidders) if (!said.has(org)) await repo.confirm(trx, tenderId, org, 'deemed', now);
      await this.steps.transition(trx, ctx, tenderId, 'announcing', 'objections', { objection_ends_at: new Date(now.getTime() + OBJECTION_MINUTES * MINUTE_MS) });
    });
  }

  async raiseObjection(ctx: ActionContext, tenderId: string, text: string) {
    const actor = requireActor(ctx, 'bidder');
    const t = await this.steps.tenderFor(actor, tenderId);
    return this.steps.tx(t.id, async (trx) => {
      const o = await this.steps.openingOf(trx, t.id, true);
      this.steps.requireState(o, 'announcing', 'objections');
      // [start, end): an objection can't arrive at the instant the record may be published
      if (o.objectionEndsAt && this.clock.now().getTime() >= o.objectionEndsAt.getTime()) throw ObjectionWindowClosed();
      if ((await this.steps.currentBidsOf(trx, t.id, actor.orgId)).length === 0) throw NotABidder();
      const objection = await repo.insertObjection(trx, { tenderId: t.id, bidderOrgId: actor.orgId, userId: actor.userId, text, at: this.clock.now() });
      await this.steps.note(trx, ctx, t.id, 'opening.objection', { text }, 'objection', objection.id);
      return objection;
    });
  }

  async answerObjection(ctx: ActionContext, tenderId: string, objectionId: string, answer: string) {
    const actor = requireActor(ctx, 'agency');
    const t = await this.steps.tenderFor(actor, tenderId);
    this.steps.requireHost(actor, t);
    return this.steps.tx(t.id, async (trx) => {
      const o = await this.steps.openingOf(trx, t.id, true);
      this.steps.requireState(o, 'announcing', 'objections');
      const answered = await repo.answerObjection(trx, objectionId, t.id, answer, actor.userId, this.clock.now());
      if (!answered) throw ObjectionNotFound();
      await this.steps.note(trx, ctx, t.id, 'opening.objection-answer', { answer }, 'objection', objectionId);
      return answered;
    });
  }

  async objections(ctx: ActionContext, tenderId: string) {
    const actor = requireActor(ctx);
    const t = await this.steps.tenderFor(actor, tenderId);
    await this.steps.openingOf(this.db, t.id);
    return repo.objections(this.db, t.id);
  }


  // ---- the record ---------------------------------------------------------------------------------------------

  /** Objections answered and the period over: the record is made, signed and published (EB 32, TL 36). */
  async publishRecord(ctx: ActionContext, tenderId: string) {
    const actor = requireActor(ctx, 'agency');
    const t = await this.steps.tenderFor(actor, tenderId);
    this.steps.requireHost(actor, t);
    const o = await this.steps.openingOf(this.db, t.id);
    this.steps.requireState(o, 'objections');
    const now = this.clock.now();
    if (o.objectionEndsAt && now.getTime() < o.objectionEndsAt.getTime()) throw ObjectionPeriodRunning({ endsAt: o.objectionEndsAt.toISOString() });
    const open = (await repo.objections(this.db, t.id)).filter((x) => !x.answer).length;
    if (open > 0) throw ObjectionsUnanswered({ open });
    const { pdf, signature } = await this.renderRecord(t.id);
    const key = `records/${t.id}/opening-record-${crypto.randomUUID()}.pdf`;
    await this.blobs.put(key, pdf);
    await this.steps.tx(t.id, async (trx) => {
      const locked = await this.steps.openingOf(trx, t.id, true);
      this.steps.requireState(locked, 'objections');
      await this.steps.transition(trx, ctx, t.id, 'objections', 'recorded', { record_blob_key: key, record_signature: signature, recorded_at: now });
    });
    return this.hall.view(ctx, tenderId);
  }

  async recordFile(ctx: ActionContext, tenderId: string, which: 'pdf' | 'signature'): Promise<Buffer> {
    const actor = requireActor(ctx);
    const t = await this.steps.tenderFor(actor, tenderId);
    const o = await this.steps.openingOf(this.db, t.id);
    if (!o.recordBlobKey || !o.recordSignature) throw OpeningWrongState({ state: o.state, expected: 'recorded' });
    if (which === 'signature') return o.recordSignature;
    const chunks: Buffer[] = [];
    for await (const c of (await this.blobs.get(o.recordBlobKey)) as AsyncIterable<Buffer>) chunks.push(c);
    return Buffer.concat(chunks);
  }

  async close(ctx: ActionContext, tenderId: string) {
    const actor = requireActor(ctx, 'agency');
    const t = await this.steps.tenderFor(actor, tenderId);
    this.steps.requireHost(actor, t);
    await this.steps.tx(t.id, async (trx) => {
      const o = await this.steps.openingOf(trx, t.id, true);
      this.steps.requireState(o, 'recorded');
      await this.steps.transition(trx, ctx, t.id, 'recorded', 'closed');
    });
    return this.hall.view(ctx, tenderId);
  }
}
