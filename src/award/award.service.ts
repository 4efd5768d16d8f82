/**
 * The award of a section after its opening, "enough of it to release deposits": the agency records the evaluation
 * result and the ranked candidates (at most three, TLR 53); publishes the candidate publicity (中标候选人公示) for
 * at least three days (TLR 54); bidders of the section may object while it runs, and the agency answers within three
 * days — the award waits until every objection is answered (TLR 54); the award notice (中标通知书, TL 45) is rendered
 * and signed by the platform; the contract signing is recorded, due within 30 days of the notice (TL 46).
 *
 * Deposits: losers' are released with the award notice, the winner's with the contract (GPR 33, GP87 38; TLR 57).
 * Each release is an audit event `deposit.release` the deposits work turns into a refund.
 */
import crypto from 'node:crypto';
import type { Db, Runner } from '../db';
import type { Clock } from '../shared/clock';
import { requireActor, seesEverything, type ActionContext, type Actor } from '../shared/access';
import { NotFound } from '../shared/errors';
import type { BlobStore } from '../shared/blobs';
import { formatYuan } from '../shared/money';
import { addShanghaiDays, shanghaiDayNumber, startOfShanghaiDay } from '../shared/time';
import type { AuditService } from '../monitoring/audit.service';
import type { PlatformKeys } from '../identity/platform-keys';
import type { DepositReleases } from '../deposits/deposit-releases';
import { identityRepository } from '../identity/identity.repository';
import { tendersRepository, type Section, type Tender } from '../tenders/tenders.repository';
import { openingRepository } from '../opening/opening.repository';
import { renderAwardNotice } from '../documents/award-notice';
import { signDocument } from '../documents/document-signature';
import {
  AwardExists,
  AwardNotFound,
  AwardReasonRequired,
  CandidateNotFound,
  CandidatesInvalid,
  ContractDateInvalid,
  ContractExists,
  EvaluationExists,
  EvaluationRequired,
  NotASectionBidder,
  OpeningNotFinished,
  PublicityExists,
  PublicityNotRunning,
  PublicityObjectionNotFound,
  PublicityObjectionsUnanswered,
  PublicityRequired,
  PublicityRunning,
  PublicityTooShort,
  SectionFailed,
  WinnerRefused,
} from './award.errors';
import { awardRepository as repo, currentSectionBids, type Award } from './award.repository';

/** TLR 53: the evaluation committee recommends one to three ranked candidates. */
export const MAX_CANDIDATES = 3;
/** TLR 54: publicity within 3 days of the report, open at least 3 days; objections answered within 3 days. */
export const PUBLICITY_MIN_DAYS = 3;
export const PUBLICITY_DUE_DAYS = 3;
export const OBJECTION_ANSWER_DAYS = 3;
/** TL 46: the contract within 30 days of the award notice. */
export const CONTRACT_DAYS = 30;

/** The end of a period of `days` days starting at `from`, the first day not counted (GP87 85): 00:00 after its last day. */
export function periodEnd(from: Date, days: number): Date {
  return startOfShanghaiDay(shanghaiDayNumber(from) + days + 1);
}

interface Scope {
  actor: Actor;
  tender: Tender;
  section: Section;
}

export interface EvaluationInput {
  report: string;
  summary?: string | null;
  candidates: Array<{ bidId: string; rank: number }>;
}

export class AwardService {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly audit: AuditService,
    private readonly blobs: BlobStore,
    private readonly keys: PlatformKeys,
    /** Deposits released by the award notice (losers) and the contract (the winner): TLR 57, GP87 38. */
    private readonly releases: DepositReleases,
  ) {}

  // ---- access -------------------------------------------------------------------------------------------------

  /** Readers: the agency, the tenderer, regulators and operators, and the bidders of the section; others get 404. */
  private async scope(ctx: ActionContext, tenderId: string, sectionId: string): Promise<Scope> {
    const actor = requireActor(ctx);
    const tender = await tendersRepository.findTender(this.db, tenderId);
    const missing = () => NotFound({ resource: '招标项目' });
    if (!tender || tender.status === 'draft') throw missing();
    const section = (await tendersRepository.listSections(this.db, tender.id)).find((s) => s.id === sectionId);
    if (!section) throw missing();
    if (seesEverything(actor) || actor.orgId === tender.agencyOrgId || actor.orgId === tender.tendererOrgId) return { actor, tender, section };
    if (actor.orgType === 'bidder' && (await currentSectionBids(this.db, section.id)).some((b) => b.bidderOrgId === actor.orgId)) {
      return { actor, tender, section };
    }
    throw missing();
  }

  /** Managers: the tender's agency only (others, who may read, are refused as if it did not exist). */
  private async managed(ctx: ActionContext, tenderId: string, sectionId: string): Promise<Scope> {
    const s = await this.scope(ctx, tenderId, sectionId);
    if (s.actor.orgType !== 'agency' || s.actor.orgId !== s.tender.agencyOrgId) throw NotFound({ resource: '招标项目' });
    return s;
  }

  /** The opening's record is published (EB 32) and the section did not fail (TLR 44). */
  private async requireOpened(db: Runner, s: Scope): Promise<void> {
    const o = await openingRepository.find(db, s.tender.id);
    if (!o || (o.state !== 'recorded' && o.state !== 'closed')) throw OpeningNotFinished({ state: o?.state ?? 'none' });
    if (o.sectionOutcomes.find((x) => x.sectionId === s.section.id)?.failed) throw SectionFailed();
  }

  private async note(trx: Runner, ctx: ActionContext, s: Scope, action: string, payload: Record<string, unknown>, objectType = 'section', objectId = s.section.id) {
    await this.audit.append(trx, ctx, { action, objectType, objectId, tenderId: s.tender.id, payload: { sectionId: s.section.id, ...payload } });
  }

  private async releaseDeposit(trx: Runner, ctx: ActionContext, s: Scope, bid: { id: string; bidderOrgId: string }, reason: 'award-notice' | 'contract-signed') {
    await this.releases.release(trx, ctx, { tenderId: s.tender.id, sectionId: s.section.id, bidderOrgId: bid.bidderOrgId, bidId: bid.id, reason });
  }

  // ---- evaluation ---------------------------------------------------------------------------------------------

  /** The evaluation result and ranked candidates: decrypted bids of this section, ranks 1..n, 1 ≤ n ≤ 3. */
  async recordEvaluation(ctx: ActionContext, tenderId: string, sectionId: string, input: EvaluationInput) {
    const s = await this.managed(ctx, tenderId, sectionId);
    const n = input.candidates.length;
    if (n < 1 || n > MAX_CANDIDATES) throw CandidatesInvalid({ reason: `须推荐1至${MAX_CANDIDATES}名 (1 to ${MAX_CANDIDATES} candidates)` });
    const ranks = input.candidates.map((c) => c.rank).sort((a, b) => a - b);
    if (ranks.some((r, i) => r !== i + 1)) throw CandidatesInvalid({ reason: `排名须为1至${n}且不重复 (ranks must be 1..${n}, each once)` });
    if (new Set(input.candidates.map((c) => c.bidId)).size !== n) throw CandidatesInvalid({ reason: '同一投标文件不能重复推荐 (a bid appears twice)' });
    await this.db.transaction(async (trx) => {
      await repo.lockSection(trx, s.section.id);
      await this.requireOpened(trx, s);
      if (await repo.findEvaluation(trx, s.section.id)) throw EvaluationExists();
      const bids = await currentSectionBids(trx, s.section.id);
      const decryptions = new Map((await openingRepository.decryptions(trx, s.tender.id)).map((d) => [d.bidId, d]));
      const candidates = input.candidates.map((c) => {
        const bid = bids.find((b) => b.id === c.bidId);
        const d = decryptions.get(c.bidId);
        const priceFen = d?.manifest?.form?.totalPriceFen;
        if (!bid || !d || (d.outcome !== 'decrypted' && d.outcome !== 'custodian-opened') || typeof priceFen !== 'number') {
          throw CandidatesInvalid({ reason: `投标文件 ${c.bidId} 不是本标段已解密的有效投标 (not a decrypted bid of this section)` });
        }
        return { rank: c.rank, bidId: bid.id, bidderOrgId: bid.bidderOrgId, priceFen };
      });
      const now = this.clock.now();
      await repo.insertEvaluation(trx, { sectionId: s.section.id, tenderId: s.tender.id, report: input.report, summary: input.summary ?? null, at: now, userId: s.actor.userId }, candidates);
      await this.note(trx, ctx, s, 'award.evaluation', {
        candidates: candidates.map((c) => ({ rank: c.rank, bidId: c.bidId, bidderOrgId: c.bidderOrgId, priceFen: c.priceFen })),
      });
    });
    return this.status(ctx, tenderId, sectionId);
  }

  // ---- candidate publicity (TLR 54) ---------------------------------------------------------------------------

  /** Starts now; ends no earlier than three full days later (the first day not counted). */
  async publishPublicity(ctx: ActionContext, tenderId: string, sectionId: string, input: { endsAt?: Date }) {
    const s = await this.managed(ctx, tenderId, sectionId);
    const now = this.clock.now();
    const earliest = periodEnd(now, PUBLICITY_MIN_DAYS);
    const endsAt = input.endsAt ?? earliest;
    if (endsAt.getTime() < earliest.getTime()) throw PublicityTooShort({ earliestEndsAt: earliest.toISOString() }, { requestedEndsAt: endsAt.toISOString() });
    await this.db.transaction(async (trx) => {
      await repo.lockSection(trx, s.section.id);
      const evaluation = await repo.findEvaluation(trx, s.section.id);
      if (!evaluation) throw EvaluationRequired();
      if (await repo.findPublicity(trx, s.section.id)) throw PublicityExists();
      await repo.insertPublicity(trx, { sectionId: s.section.id, tenderId: s.tender.id, startsAt: now, endsAt, userId: s.actor.userId });
      // TLR 54: published within three days of receiving the evaluation report; later is recorded, not refused
      const late = now.getTime() >= periodEnd(evaluation.recordedAt, PUBLICITY_DUE_DAYS).getTime();
      await this.note(trx, ctx, s, 'award.publicity', { startsAt: now.toISOString(), endsAt: endsAt.toISOString(), late });
    });
    return this.status(ctx, tenderId, sectionId);
  }

  /** A bidder of the section objects while the publicity runs; the answer is due three days later. */
  async raiseObjection(ctx: ActionContext, tenderId: string, sectionId: string, text: string) {
    const s = await this.scope(ctx, tenderId, sectionId);
    if (s.actor.orgType !== 'bidder') throw NotASectionBidder();
    return this.db.transaction(async (trx) => {
      await repo.lockSection(trx, s.section.id);
      const p = await repo.findPublicity(trx, s.section.id);
      if (!p) throw PublicityRequired();
      const now = this.clock.now();
      if (now.getTime() < p.startsAt.getTime() || now.getTime() >= p.endsAt.getTime()) {
        throw PublicityNotRunning({ startsAt: p.startsAt.toISOString(), endsAt: p.endsAt.toISOString() });
      }
      const objection = await repo.insertObjection(trx, {
        sectionId: s.section.id,
        tenderId: s.tender.id,
        bidderOrgId: s.actor.orgId,
        userId: s.actor.userId,
        text,
        at: now,
        dueAt: addShanghaiDays(now, OBJECTION_ANSWER_DAYS),
      });
      await this.note(trx, ctx, s, 'award.objection', { bidderOrgId: s.actor.orgId, text, answerDueAt: objection.answerDueAt.toISOString() }, 'publicity-objection', objection.id);
      return objection;
    });
  }

  /** The agency answers; an answer after the due time is still taken, and flagged. */
  async answerObjection(ctx: ActionContext, tenderId: string, sectionId: string, objectionId: string, answer: string) {
    const s = await this.managed(ctx, tenderId, sectionId);
    return this.db.transaction(async (trx) => {
      await repo.lockSection(trx, s.section.id);
      const answered = await repo.answerObjection(trx, objectionId, s.section.id, answer, s.actor.userId, this.clock.now());
      if (!answered) throw PublicityObjectionNotFound();
      await this.note(trx, ctx, s, 'award.objection-answer', { answer, late: answered.late, answerDueAt: answered.answerDueAt.toISOString() }, 'publicity-objection', objectionId);
      return answered;
    });
  }

  // ---- award notice -------------------------------------------------------------------------------------------

  /**
   * After the publicity has ended and every objection is answered (TLR 54): the first candidate, or another one
   * with a reason, is awarded; the notice is rendered, signed and stored; the other bidders' deposits are released.
   */
  async issueAward(ctx: ActionContext, tenderId: string, sectionId: string, input: { rank?: number; reason?: string | null }) {
    const s = await this.managed(ctx, tenderId, sectionId);
    const rank = input.rank ?? 1;
    const reason = input.reason?.trim() || null;
    if (rank !== 1 && !reason) throw AwardReasonRequired();
    const check = async (db: Runner) => {
      if (await repo.findAward(db, s.section.id)) throw AwardExists();
      const p = await repo.findPublicity(db, s.section.id);
      if (!p) throw (await repo.findEvaluation(db, s.section.id)) ? PublicityRequired() : EvaluationRequired();
      const now = this.clock.now();
      if (now.getTime() < p.endsAt.getTime()) throw PublicityRunning({ endsAt: p.endsAt.toISOString() });
      const open = (await repo.objections(db, s.section.id, now)).filter((o) => !o.answer).length;
      if (open > 0) throw PublicityObjectionsUnanswered({ open });
      const candidates = await repo.candidates(db, s.section.id);
      const chosen = candidates.find((c) => c.rank === rank);
      if (!chosen) throw CandidateNotFound({ rank });
      return { p, candidates, chosen };
    };
    const { p, candidates, chosen } = await check(this.db);
    const now = this.clock.now();
    const orgIds = [s.tender.agencyOrgId, s.tender.tendererOrgId, ...candidates.map((c) => c.bidderOrgId)];
    const orgs = new Map((await identityRepository.listOrganisations(this.db, { ids: orgIds })).map((o) => [o.id, o]));
    const name = (id: string) => orgs.get(id)?.name ?? id;
    const pdf = await renderAwardNotice({
      tender: { code: s.tender.code, name: s.tender.name, type: s.tender.type, tendererName: name(s.tender.tendererOrgId), agencyName: name(s.tender.agencyOrgId) },
      section: { seq: s.section.seq, name: s.section.name },
      winner: { name: name(chosen.bidderOrgId), creditCode: orgs.get(chosen.bidderOrgId)?.creditCode ?? '', rank: chosen.rank },
      priceFen: chosen.priceFen,
      reason,
      candidates: candidates.map((c) => ({ rank: c.rank, bidderName: name(c.bidderOrgId), priceFen: c.priceFen })),
      publicity: { startsAt: p.startsAt, endsAt: p.endsAt },
      contractDueBy: periodEnd(now, CONTRACT_DAYS),
      issuedAt: now,
    });
    const signature = signDocument(this.keys, pdf, now);
    const key = `records/${s.tender.id}/award-notice-${s.section.id}-${crypto.randomUUID()}.pdf`;
    await this.blobs.put(key, pdf);
    await this.db.transaction(async (trx) => {
      await repo.lockSection(trx, s.section.id);
      await check(trx);
      const award: Award = {
        sectionId: s.section.id,
        tenderId: s.tender.id,
        winnerOrgId: chosen.bidderOrgId,
        bidId: chosen.bidId,
        rank: chosen.rank,
        reason,
        priceFen: chosen.priceFen,
        noticeBlobKey: key,
        noticeSignature: signature,
        issuedAt: now,
      };
      await repo.insertAward(trx, { ...award, userId: s.actor.userId });
      await this.note(trx, ctx, s, 'award.notice', {
        winnerOrgId: chosen.bidderOrgId,
        bidId: chosen.bidId,
        rank: chosen.rank,
        reason,
        priceFen: chosen.priceFen,
        noticeSha256: crypto.createHash('sha256').update(pdf).digest('hex'),
      });
      // the losers' deposits: every other bidder of the section not released already (e.g. withdrawn at the opening)
      const released = await repo.releasedDeposits(trx, s.tender.id, s.section.id);
      for (const bid of await currentSectionBids(trx, s.section.id)) {
        if (bid.bidderOrgId === chosen.bidderOrgId || released.has(bid.bidderOrgId)) continue;
        await this.releaseDeposit(trx, ctx, s, bid, 'award-notice');
      }
    });
    return this.award(ctx, tenderId, sectionId);
  }

  // ---- contract (TL 46) ---------------------------------------------------------------------------------------

  /** The contract signing: due within 30 days of the notice; later is recorded and flagged. The winner's deposit is released. */
  async recordContract(ctx: ActionContext, tenderId: string, sectionId: string, input: { signedAt: Date; amountFen: number }) {
    const s = await this.managed(ctx, tenderId, sectionId);
    await this.db.transaction(async (trx) => {
      const award = await this.awaitingContract(trx, s);
      const now = this.clock.now();
      if (input.signedAt.getTime() < award.issuedAt.getTime()) throw ContractDateInvalid({ reason: '早于中标通知书发出时间 (before the award notice)' });
      if (input.signedAt.getTime() > now.getTime()) throw ContractDateInvalid({ reason: '晚于当前平台时间 (in the future)' });
      const dueBy = periodEnd(award.issuedAt, CONTRACT_DAYS);
      const late = input.signedAt.getTime() >= dueBy.getTime();
      await repo.insertContract(trx, { sectionId: s.section.id, tenderId: s.tender.id, signedAt: input.signedAt, amountFen: input.amountFen, late, recordedAt: now, userId: s.actor.userId });
      await this.note(trx, ctx, s, 'award.contract', {
        signedAt: input.signedAt.toISOString(),
        amountFen: input.amountFen,
        awardPriceFen: award.priceFen,
        dueBy: dueBy.toISOString(),
        late,
        ...(late ? { basis: 'TL 46' } : {}),
      });
      const released = await repo.releasedDeposits(trx, s.tender.id, s.section.id);
      if (!released.has(award.winnerOrgId)) await this.releaseDeposit(trx, ctx, s, { id: award.bidId, bidderOrgId: award.winnerOrgId }, 'contract-signed');
    });
    return this.status(ctx, tenderId, sectionId);
  }

  /** The section's award, locked, while it waits for its contract: neither signed nor refused. */
  private async awaitingContract(trx: Runner, s: Scope): Promise<Award> {
    await repo.lockSection(trx, s.section.id);
    const award = await repo.findAward(trx, s.section.id);
    if (!award) throw AwardNotFound();
    if (await repo.findContract(trx, s.section.id)) throw ContractExists();
    if (await repo.refused(trx, s.tender.id, s.section.id)) throw WinnerRefused();
    return award;
  }

  /**
   * The winner refuses to sign the contract (or sets new conditions, or gives no performance bond): recorded with its
   * reason, and its deposit is kept (TLR 74). The tenderer may then award the next candidate or tender again (TLR 55),
   * outside this record.
   */
  async recordRefusal(ctx: ActionContext, tenderId: string, sectionId: string, reason: string) {
    const s = await this.managed(ctx, tenderId, sectionId);
    await this.db.transaction(async (trx) => {
      const award = await this.awaitingContract(trx, s);
      await this.note(trx, ctx, s, 'award.refusal', { winnerOrgId: award.winnerOrgId, reason, basis: 'TLR 74' });
      await this.releases.forfeit(trx, ctx, { tenderId: s.tender.id, sectionId: s.section.id, bidderOrgId: award.winnerOrgId, bidId: award.bidId, reason: 'winner-refused-to-sign' });
    });
    return this.status(ctx, tenderId, sectionId);
  }

  // ---- reading ------------------------------------------------------------------------------------------------

  async award(ctx: ActionContext, tenderId: string, sectionId: string) {
    const s = await this.scope(ctx, tenderId, sectionId);
    const a = await repo.findAward(this.db, s.section.id);
    if (!a) throw AwardNotFound();
    const winner = await identityRepository.findOrganisation(this.db, a.winnerOrgId);
    return {
      tenderId: a.tenderId,
      sectionId: a.sectionId,
      winnerOrgId: a.winnerOrgId,
      winnerName: winner?.name ?? '',
      bidId: a.bidId,
      rank: a.rank,
      reason: a.reason,
      priceFen: a.priceFen,
      priceYuan: formatYuan(a.priceFen),
      issuedAt: a.issuedAt,
      contractDueBy: periodEnd(a.issuedAt, CONTRACT_DAYS),
    };
  }

  async noticeFile(ctx: ActionContext, tenderId: string, sectionId: string, which: 'pdf' | 'signature'): Promise<Buffer> {
    const s = await this.scope(ctx, tenderId, sectionId);
    const a = await repo.findAward(this.db, s.section.id);
    if (!a) throw AwardNotFound();
    if (which === 'signature') return a.noticeSignature;
    const chunks: Buffer[] = [];
    for await (const c of (await this.blobs.get(a.noticeBlobKey)) as AsyncIterable<Buffer>) chunks.push(c);
    return Buffer.concat(chunks);
  }

  /** Where the section stands: evaluation, candidates, publicity, objections, award and contract. */
  async status(ctx: ActionContext, tenderId: string, sectionId: string) {
    const s = await this.scope(ctx, tenderId, sectionId);
    const now = this.clock.now();
    const [evaluation, candidates, publicity, award, contract] = await Promise.all([
      repo.findEvaluation(this.db, s.section.id),
      repo.candidates(this.db, s.section.id),
      repo.findPublicity(this.db, s.section.id),
      repo.findAward(this.db, s.section.id),
      repo.findContract(this.db, s.section.id),
    ]);
    const objections = await repo.objections(this.db, s.section.id, now);
    const orgs = new Map((await identityRepository.listOrganisations(this.db, { ids: candidates.map((c) => c.bidderOrgId) })).map((o) => [o.id, o.name]));
    const stage = contract
      ? 'contracted'
      : award
        ? 'awarded'
        : publicity
          ? now.getTime() < publicity.endsAt.getTime()
            ? 'publicity'
            : 'publicity-ended'
          : evaluation
            ? 'evaluated'
            : 'awaiting-evaluation';
    return {
      tenderId: s.tender.id,
      sectionId: s.section.id,
      stage,
      serverTime: now,
      evaluation: evaluation ? { report: evaluation.report, summary: evaluation.summary, recordedAt: evaluation.recordedAt } : null,
      candidates: candidates.map((c) => ({ rank: c.rank, bidId: c.bidId, bidderOrgId: c.bidderOrgId, bidderName: orgs.get(c.bidderOrgId) ?? '', priceFen: c.priceFen, priceYuan: formatYuan(c.priceFen) })),
      publicity: publicity ? { startsAt: publicity.startsAt, endsAt: publicity.endsAt, running: now >= publicity.startsAt && now < publicity.endsAt } : null,
      objections: objections.map((o) => ({ id: o.id, bidderOrgId: o.bidderOrgId, text: o.text, raisedAt: o.raisedAt, answerDueAt: o.answerDueAt, answer: o.answer, answeredAt: o.answeredAt, late: o.late })),
      award: award
        ? { winnerOrgId: award.winnerOrgId, bidId: award.bidId, rank: award.rank, reason: award.reason, priceFen: award.priceFen, issuedAt: award.issuedAt, contractDueBy: periodEnd(award.issuedAt, CONTRACT_DAYS) }
        : null,
      contract: contract ? { signedAt: contract.signedAt, amountFen: contract.amountFen, late: contract.late, recordedAt: contract.recordedAt } : null,
    };
  }
}
