/**
 * The online opening (不见面开标, EB 29–32). At the deadline the tender is sealed and the opening begins by itself;
 * bidders sign in with their certificates; the host (the agency) starts the decryption window; each bidder unwraps
 * its content key on its own machine and hands it over, signed; the platform decrypts as jobs. When the window
 * closes every bid has an outcome and its cause (EB 31); a section with fewer than three valid bids fails (流标,
 * TLR 44); otherwise the prices are read out (唱标), bidders confirm (silence is acceptance, GP87 42), objections
 * are raised and answered on the record (TLR 44, EB 39), and the opening record is published (EB 32).
 */
import crypto from 'node:crypto';
import type { Manifest } from '../../crypto/package';
import { EnvelopeError, type RecipientKey } from '../../crypto/envelope';
import { SignatureError, verifyDetachedSignature } from '../../crypto/signature';
import { contentKeyDigest } from '../../crypto/opening';
import type { Db, Runner } from '../db';
import type { Clock } from '../shared/clock';
import { MINUTE_MS } from '../shared/clock';
import { requireActor, seesEverything, type ActionContext, type Actor } from '../shared/access';
import { NotFound } from '../shared/errors';
import { formatYuan } from '../shared/money';
import type { BlobStore } from '../shared/blobs';
import { enqueueInTrx } from '../shared/queue/outbox.repository';
import type { AuditService } from '../monitoring/audit.service';
import type { AlertsService } from '../monitoring/alerts.service';
import type { LiveEvents } from '../live/live.service';
import type { BidOpener } from './bid-opener';
import { unwrapWithOpeningKey } from './opening-key-unwrap';
import type { CustodyService } from '../custody/custody.service';
import { ThresholdNotReached } from '../custody/custody.errors';
import type { CertificateService } from '../identity/certificates.service';
import { identityRepository } from '../identity/identity.repository';
import { openSecret, sealSecret } from '../identity/platform-keys';
import { tendersRepository, type Tender } from '../tenders/tenders.repository';
import { bidsRepository, type Bid } from '../bids/bids.repository';
import {
  AlreadyDecrypted,
  CertificateLoginRequired,
  ContentKeyInvalid,
  DecryptionWindowClosed,
  DecryptionWindowNotOpen,
  NotABidder,
  NotSignedIn,
  ObjectionNotFound,
  ObjectionPeriodRunning,
  ObjectionsUnanswered,
  ObjectionWindowClosed,
  OpeningNotFound,
  OpeningPaused,
  OpeningWrongState,
} from './opening.errors';
import { CLOSE_CONFIRMATIONS_JOB, CLOSE_WINDOW_JOB, CUSTODIAN_OPEN_JOB, DECRYPT_JOB } from './opening.jobs';
import {
  openingRepository as repo,
  type BidDecryption,
  type BidOutcome,
  type Opening,
  type OpeningState,
  type SectionOutcome,
} from './opening.repository';

/** How long bidders have to confirm the prices read (GP87 42: silence counts as acceptance). */
export const CONFIRMATION_MINUTES = 10;
/** How long objections may be raised after the reading (TLR 44: raised and answered on the spot). */
export const OBJECTION_MINUTES = 15;
/** TLR 44 / TL 28 / GP87 41: fewer than three valid bids and the section cannot be opened. */
export const MIN_VALID_BIDS = 3;
/**
 * How long, after the window, bids that failed through no fault of their bidders wait for the custodians' remedy
 * where the tender documents set it (EB 31 leaves the remedy to them; the platform bounds the wait so the opening
 * goes on the same day).
 */
export const REMEDY_MINUTES = 30;

/** Failures that are the bidder's own (EB 31: treated as revoked, 撤销). */
const BIDDER_FAULTS: Record<string, string> = {
  NO_KEY: '投标人未在解密时限内提交解密密钥 (no key within the window)',
  TAG_MISMATCH: '投标人提交的解密密钥无法打开投标文件 (the key the bidder gave does not open the bid)',
  MANIFEST_MISMATCH: '投标文件内容与本项目、标段或投标人不符 (the package names another tender, section or bidder)',
  PACKAGE_INVALID: '投标文件包损坏或不合规 (the bid package is damaged or invalid)',
};

function isBidderFault(code: string): boolean {
  return code in BIDDER_FAULTS || code.startsWith('ENVELOPE_');
}

/** EB 31: why a bid that failed through no fault of its bidder is treated as withdrawn (撤回), remedy included. */
function withdrawnCause(code: string, d: BidDecryption | undefined): string {
  const base = `非投标人原因解密失败 (not the bidder's fault: ${code})`;
  if (d?.remedyStatus === 'pending') return `${base}；保管单位未在补救时限内释放足够的密钥分片 (the custodians did not release enough shares in time, EB 31)`;
  if (d?.remedyStatus === 'failed') return `${base}；保管单位门限密钥亦未能开启 (the custodians' key did not open it either: ${d.remedyFailureCode})`;
  return base;
}

const CUSTODIAN_OPENED_CAUSE = '非投标人原因解密失败，按招标文件约定由保管单位门限密钥开启 (opened with the custodians\' threshold key, EB 31)';

export class OpeningService {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly audit: AuditService,
    private readonly alerts: AlertsService,
    private readonly blobs: BlobStore,
    private readonly certificates: CertificateService,
    private readonly live: LiveEvents,
    private readonly opener: BidOpener,
    /** Rebuilds the tender's opening key from released shares, for the remedy of EB 31 only. */
    private readonly custody: CustodyService,
    private readonly passphrase: string,
    /** Renders and signs the 开标记录表 (see opening-record.ts). */
    private readonly renderRecord: (tenderId: string) => Promise<{ pdf: Buffer; signature: Buffer }>,
  ) {}

  /** One transaction per use case; once it has committed, every instance's opening hall is told to look (live). */
  private async tx<T>(tenderId: string, work: (trx: Runner) => Promise<T>): Promise<T> {
    const result = await this.db.transaction(work);
    await this.live.announce(tenderId);
    return result;
  }

  /** The audit event and the live event of a step, in the step's transaction. */
  private async note(trx: Runner, ctx: ActionContext, tenderId: string, action: string, payload: Record<string, unknown>, objectType = 'opening', objectId = tenderId) {
    await this.audit.append(trx, ctx, { action, objectType, objectId, tenderId, payload });
    await this.live.record(trx, tenderId, action, payload);
  }

  // ---- access -------------------------------------------------------------------------------------------------

  private async tenderFor(actor: Actor, tenderId: string): Promise<Tender> {
    const t = await tendersRepository.findTender(this.db, tenderId);
    if (!t || t.status === 'draft') throw NotFound({ resource: '招标项目' });
    if (t.status === 'published' && !seesEverything(actor) && actor.orgId !== t.agencyOrgId && actor.orgId !== t.tendererOrgId) {
      // before the deadline there is nothing to show, and who is bidding is nobody's business (TL 22)
      throw OpeningNotFound();
    }
    return t;
  }

  private async openingOf(db: Runner, tenderId: string, forUpdate = false): Promise<Opening> {
    const o = await repo.find(db, tenderId, forUpdate);
    if (!o) throw OpeningNotFound();
    return o;
  }

  private requireHost(actor: Actor, t: Tender): void {
    if (actor.orgType !== 'agency' || actor.orgId !== t.agencyOrgId) throw NotFound({ resource: '招标项目' });
  }

  private requireState(o: Opening, ...states: OpeningState[]): void {
    if (!states.includes(o.state)) throw OpeningWrongState({ state: o.state, expected: states.join('|') });
    if (o.pausedAt) throw OpeningPaused();
  }

  private currentBidsOf(db: Runner, tenderId: string, bidderOrgId?: string): Promise<Bid[]> {
    return bidsRepository.listCurrent(db, tenderId, bidderOrgId);
  }

  private async transition(trx: Runner, ctx: ActionContext, tenderId: string, from: OpeningState, to: OpeningState, patch: Record<string, unknown> = {}) {
    const now = this.clock.now();
    await repo.update(trx, tenderId, { state: to, state_changed_at: now, ...patch });
    const shown = Object.fromEntries(Object.entries(patch).filter(([k]) => k !== 'record_signature').map(([k, v]) => [k, v instanceof Date ? v.toISOString() : v]));
    await this.note(trx, ctx, tenderId, 'opening.transition', { from, to, ...shown });
  }

  // ---- the deadline -------------------------------------------------------------------------------------------

  /** Called by the deadline job once the tender is sealed: the opening begins, and sign-in opens (EB 29). */
  async begin(tenderId: string, ctx: ActionContext): Promise<void> {
    await this.tx(tenderId, async (trx) => {
      if (!(await repo.insert(trx, tenderId, 'signing-in', this.clock.now()))) return;
      await this.note(trx, ctx, tenderId, 'opening.begin', { state: 'signing-in' });
    });
  }

  async view(ctx: ActionContext, tenderId: string) {
    const actor = requireActor(ctx);
    const t = await this.tenderFor(actor, tenderId);
    const o = await this.openingOf(this.db, t.id);
    const signIns = await repo.signIns(this.db, t.id);
    const orgs = await identityRepository.listOrganisations(this.db, { ids: signIns.map((s) => s.bidderOrgId) });
    return {
      tenderId: t.id,
      state: o.state,
      paused: o.pausedAt !== null,
      serverTime: this.clock.now(),
      bidDeadline: t.bidDeadline,
      decryptionWindowMinutes: t.decryptionWindowMinutes,
      decryptionStartedAt: o.decryptionStartedAt,
      decryptionEndsAt: o.decryptionEndsAt,
      confirmationEndsAt: o.confirmationEndsAt,
      objectionEndsAt: o.objectionEndsAt,
      remedyEndsAt: o.remedyEndsAt,
      sectionOutcomes: o.sectionOutcomes,
      retenderRequired: o.retenderRequired,
      recordedAt: o.recordedAt,
      participants: signIns.map((s) => ({ bidderOrgId: s.bidderOrgId, name: orgs.find((x) => x.id === s.bidderOrgId)?.name ?? '', signedInAt: s.signedInAt })),
      // a bidder sees at once whether its own key opened its bid, so it can hand over the right one in time
      myBids: actor.orgType === 'bidder' ? await this.ownDecryptions(t.id, actor.orgId) : undefined,
    };
  }

  private async ownDecryptions(tenderId: string, bidderOrgId: string) {
    const bids = await this.currentBidsOf(this.db, tenderId, bidderOrgId);
    const decryptions = new Map((await repo.decryptions(this.db, tenderId)).map((d) => [d.bidId, d]));
    return bids.map((b) => {
      const d = decryptions.get(b.id);
      return {
        bidId: b.id,
        sectionId: b.sectionId,
        decryption: d?.status ?? 'no-key',
        failureCode: d?.failureCode ?? null,
        remedy: d?.remedyStatus ?? null,
        outcome: d?.outcome ?? null,
      };
    });
  }

  // ---- sign-in and the decryption window ----------------------------------------------------------------------

  /** EB 29: bidders take part online; sign-in is by certificate and needs a current bid. */
  async signIn(ctx: ActionContext, tenderId: string) {
    const actor = requireActor(ctx, 'bidder');
    if (!actor.certSerial) throw CertificateLoginRequired();
    const t = await this.tenderFor(actor, tenderId);
    const o = await this.openingOf(this.db, t.id);
    this.requireState(o, 'signing-in', 'decrypting');
    if ((await this.currentBidsOf(this.db, t.id, actor.orgId)).length === 0) throw NotABidder();
    await this.tx(t.id, async (trx) => {
      const at = this.clock.now();
      if (await repo.signIn(trx, { tenderId: t.id, bidderOrgId: actor.orgId, userId: actor.userId, certificateSerial: actor.certSerial!, at })) {
        await this.note(trx, ctx, t.id, 'opening.sign-in', { bidderOrgId: actor.orgId }, 'opening', t.id);
      }
    });
    return this.view(ctx, tenderId);
  }

  async startDecryption(ctx: ActionContext, tenderId: string) {
    const actor = requireActor(ctx, 'agency');
    const t = await this.tenderFor(actor, tenderId);
    this.requireHost(actor, t);
    await this.tx(t.id, async (trx) => {
      const o = await this.openingOf(trx, t.id, true);
      this.requireState(o, 'signing-in');
      const now = this.clock.now();
      const endsAt = new Date(now.getTime() + t.decryptionWindowMinutes * MINUTE_MS);
      await this.transition(trx, ctx, t.id, o.state, 'decrypting', { decryption_started_at: now, decryption_ends_at: endsAt });
      await enqueueInTrx(trx, { ...CLOSE_WINDOW_JOB, payload: { tenderId: t.id }, runAt: endsAt });
    });
    return this.view(ctx, tenderId);
  }

  /**
   * A bidder hands over the content key of its bid, signed with its signing certificate, during the window. The key
   * is sealed at rest at once and the decryption runs as a job; it never appears in a payload, a log or an error.
   * Before the window it is refused and recorded as critical (EB 27: nobody opens a bid early).
   */
  async postContentKey(ctx: ActionContext, tenderId: string, bidId: string, input: { contentKey: Buffer; signature: Buffer }) {
    const actor = requireActor(ctx, 'bidder');
    const t = await tendersRepository.findTender(this.db, tenderId);
    const bid = await bidsRepository.findBid(this.db, bidId);
    if (!t || !bid || bid.tenderId !== t.id || bid.bidderOrgId !== actor.orgId || bid.status !== 'current') throw NotFound({ resource: '投标文件' });
    const o = await repo.find(this.db, t.id);
    const now = this.clock.now();
    if (!o || o.state === 'signing-in' || now.getTime() < t.bidDeadline.getTime()) {
      const state = o?.state ?? 'before-deadline';
      await this.alerts.recordAndRaise(
        ctx,
        { action: 'opening.early-key', objectType: 'bid', objectId: bid.id, tenderId: t.id, payload: { state } },
        { rule: 'early-key-access', severity: 'critical', title: '解密时段开始前提交解密密钥', basis: 'EB 27; TLR 41', fields: { state, bidId: bid.id } },
      );
      throw DecryptionWindowNotOpen();
    }
    // the window is [start, end): at its last instant it is closed, as the job that closes it sees it
    if (o.state !== 'decrypting' || (o.decryptionEndsAt && now.getTime() >= o.decryptionEndsAt.getTime())) {
      throw DecryptionWindowClosed({ closedAt: (o.decryptionEndsAt ?? o.stateChangedAt).toISOString() });
    }
    if (o.pausedAt) throw OpeningPaused();
    if (input.contentKey.length !== 32) throw ContentKeyInvalid({ reason: 'LENGTH' });
    try {
      const signed = verifyDetachedSignature(input.signature, contentKeyDigest(bid.id, input.contentKey));
      const cert = await this.certificates.check(signed.signerCertificatePem, 'signing');
      if (cert.organisationId !== actor.orgId) throw ContentKeyInvalid({ reason: 'SIGNER_FOREIGN' });
    } catch (err) {
      if (err instanceof SignatureError) throw ContentKeyInvalid({ reason: err.code });
      throw err;
    }
    const signedIn = (await repo.signIns(this.db, t.id)).some((s) => s.bidderOrgId === actor.orgId);
    if (!signedIn) throw NotSignedIn();
    await this.tx(t.id, async (trx) => {
      const current = await repo.findDecryption(trx, bid.id, true);
      if (current?.status === 'decrypted') throw AlreadyDecrypted();
      await repo.receiveKey(trx, bid.id, t.id, sealSecret(input.contentKey, this.passphrase), now);
      await enqueueInTrx(trx, { ...DECRYPT_JOB, payload: { bidId: bid.id }, runAt: now });
      await this.note(trx, ctx, t.id, 'opening.key-received', { sectionId: bid.sectionId }, 'bid', bid.id);
    });
    input.contentKey.fill(0);
    return { bidId: bid.id, status: 'key-received' as const };
  }

  /**
   * The decryption job: streams the envelope through AES-GCM into a temporary file, checks the tag, unpacks the
   * package with its limits and checks its manifest names this tender, section and bidder. A wrong key or a bad
   * package is the bidder's fault; anything else is retried, and on the last try recorded as the platform's.
   */
  async decryptBid(bidId: string, lastAttempt: boolean, ctx: ActionContext): Promise<void> {
    const d = await repo.findDecryption(this.db, bidId);
    if (!d || d.status !== 'key-received' || !d.contentKeyEnc) return;
    const bid = (await bidsRepository.findBid(this.db, bidId))!;
    const bidder = (await identityRepository.findOrganisation(this.db, bid.bidderOrgId))!;
    const contentKey = openSecret(d.contentKeyEnc, this.passphrase);
    try {
      const opened = await this.opener.open(bid, contentKey, { creditCode: bidder.creditCode });
      if (!opened.ok) return await this.failDecryption(ctx, bid, opened.code);
      await this.tx(bid.tenderId, async (trx) => {
        await repo.markDecrypted(trx, bid.id, this.clock.now(), opened.plaintextBlobKey, opened.manifest);
        await this.audit.append(trx, ctx, {
          action: 'opening.decrypted',
          objectType: 'bid',
          objectId: bid.id,
          tenderId: bid.tenderId,
          payload: { sectionId: bid.sectionId, totalPriceFen: opened.manifest.form.totalPriceFen },
        });
        // the hall shows progress only; prices are read out for everyone together at 唱标
        await this.live.record(trx, bid.tenderId, 'opening.decrypted', { bidId: bid.id, sectionId: bid.sectionId });
      });
    } catch (err) {
      if (lastAttempt) return await this.failDecryption(ctx, bid, 'PLATFORM_ERROR');
      throw err;
    } finally {
      contentKey.fill(0);
    }
  }

  private async failDecryption(ctx: ActionContext, bid: Bid, code: string): Promise<void> {
    await this.tx(bid.tenderId, async (trx) => {
      await repo.markFailed(trx, bid.id, code);
      await this.note(trx, ctx, bid.tenderId, 'opening.decryption-failed', { code }, 'bid', bid.id);
    });
  }

  /**
   * The window closes: every current bid gets its outcome and cause (EB 31), sections with fewer than three valid
   * bids fail (TLR 44), and their deposits are released. Waits for decryptions still running from keys handed in
   * before the close, and, where the tender sets the custodians' remedy, for it (see remedyRunning).
   */
  async closeWindow(tenderId: string, ctx: ActionContext): Promise<void> {
    await this.tx(tenderId, async (trx) => {
      const o = await repo.find(trx, tenderId, true);
      if (!o || o.state !== 'decrypting') return;
      const now = this.clock.now();
      if (o.pausedAt || (o.decryptionEndsAt && now.getTime() < o.decryptionEndsAt.getTime())) return; // resume reschedules
      if ((await repo.pendingDecryptions(trx, tenderId)) > 0) {
        await enqueueInTrx(trx, { ...CLOSE_WINDOW_JOB, payload: { tenderId }, runAt: new Date(now.getTime() + 2000) });
        return;
      }
      const t = (await tendersRepository.findTender(trx, tenderId))!;
      const sections = await tendersRepository.listSections(trx, tenderId);
      const bids = await this.currentBidsOf(trx, tenderId);
      const decryptions = new Map((await repo.decryptions(trx, tenderId)).map((d) => [d.bidId, d]));
      if (t.decryptionFailurePolicy === 'custodian-open' && (await this.remedyRunning(trx, ctx, t, o, bids, decryptions, now))) return;
      const outcomes: Array<{ bid: Bid; outcome: BidOutcome; cause: string | null }> = bids.map((bid) => {
        const d = decryptions.get(bid.id);
        if (d?.status === 'decrypted') {
          return d.openedBy === 'custodians' ? { bid, outcome: 'custodian-opened', cause: CUSTODIAN_OPENED_CAUSE } : { bid, outcome: 'decrypted', cause: null };
        }
        const code = d?.failureCode ?? 'NO_KEY';
        if (isBidderFault(code)) return { bid, outcome: 'revoked', cause: BIDDER_FAULTS[code] ?? `投标文件信封无效 (${code})` };
        // EB 31: not the bidder's fault, and no remedy opened it
        return { bid, outcome: 'withdrawn', cause: withdrawnCause(code, d) };
      });
      for (const x of outcomes) await repo.setOutcome(trx, x.bid.id, tenderId, x.outcome, x.cause);
      const sectionOutcomes: SectionOutcome[] = sections.map((s) => {
        const valid = outcomes.filter((x) => x.bid.sectionId === s.id && (x.outcome === 'decrypted' || x.outcome === 'custodian-opened')).length;
        return { sectionId: s.id, seq: s.seq, validBids: valid, failed: valid < MIN_VALID_BIDS };
      });
      const allFailed = sectionOutcomes.every((s) => s.failed);
      await this.note(trx, ctx, tenderId, 'opening.window-closed', {
        outcomes: outcomes.map((x) => ({ bidId: x.bid.id, bidderOrgId: x.bid.bidderOrgId, outcome: x.outcome })),
        sections: sectionOutcomes,
      });
      // deposits are released for every bidder of a failed section, and for bids withdrawn through no fault of the
      // bidder (the deposits work pays them within two working days)
      for (const x of outcomes) {
        const sectionFailed = sectionOutcomes.find((s) => s.sectionId === x.bid.sectionId)!.failed;
        if (sectionFailed || x.outcome === 'withdrawn') {
          await this.audit.append(trx, ctx, {
            action: 'deposit.release',
            objectType: 'bid',
            objectId: x.bid.id,
            tenderId,
            payload: { bidderOrgId: x.bid.bidderOrgId, sectionId: x.bid.sectionId, reason: sectionFailed ? 'failed-opening' : 'withdrawn-not-bidder-fault' },
          });
        }
      }
      if (allFailed) {
        await this.transition(trx, ctx, tenderId, 'decrypting', 'failed', { section_outcomes: sectionOutcomes, retender_required: true });
      } else {
        const endsAt = new Date(now.getTime() + CONFIRMATION_MINUTES * MINUTE_MS);
        await this.transition(trx, ctx, tenderId, 'decrypting', 'announcing', { section_outcomes: sectionOutcomes, confirmation_ends_at: endsAt });
        await enqueueInTrx(trx, { ...CLOSE_CONFIRMATIONS_JOB, payload: { tenderId }, runAt: endsAt });
      }
    });
  }

  // ---- the custodians' remedy (EB 31) ----------------------------------------------------------------------------

  /**
   * Where the tender documents set it, bids that failed through no fault of their bidders are not given up at the
   * window's close: they wait, at most REMEDY_MINUTES, for k custodians to release their shares, and the opening key
   * rebuilt from them opens the bids (openWithCustodians). True while that is still running: the close waits.
   */
  private async remedyRunning(trx: Runner, ctx: ActionContext, t: Tender, o: Opening, bids: Bid[], decryptions: Map<string, BidDecryption>, now: Date): Promise<boolean> {
    if (o.remedyEndsAt) return now.getTime() < o.remedyEndsAt.getTime() && (await repo.pendingRemedies(trx, t.id)).length > 0;
    const eligible = bids.filter((b) => {
      const d = decryptions.get(b.id);
      return d?.status === 'failed' && !isBidderFault(d.failureCode ?? 'NO_KEY');
    });
    if (eligible.length === 0) return false;
    const endsAt = new Date(now.getTime() + REMEDY_MINUTES * MINUTE_MS);
    await repo.startRemedy(trx, t.id, eligible.map((b) => b.id));
    await repo.update(trx, t.id, { remedy_ends_at: endsAt });
    // now, in case k shares are already released; again whenever a share is released; the close at the end
    await enqueueInTrx(trx, { ...CUSTODIAN_OPEN_JOB, payload: { tenderId: t.id }, runAt: now });
    await enqueueInTrx(trx, { ...CLOSE_WINDOW_JOB, payload: { tenderId: t.id }, runAt: endsAt });
    await this.note(trx, ctx, t.id, 'opening.remedy-started', {
      bids: eligible.map((b) => ({ bidId: b.id, sectionId: b.sectionId })),
      threshold: t.custodianThreshold,
      remedyEndsAt: endsAt.toISOString(),
    });
    return true;
  }

  /**
   * The remedy job: once k custodians have released their shares, the opening key is rebuilt in memory and opens each
   * bid waiting for it, as its bidder's key would have. It runs when the remedy starts and again on each release;
   * before k shares, or once nothing waits, it does nothing. The rebuilt key lives in this call only. A bid the key
   * cannot open is recorded with its code; an unexpected error is retried, and on the last try recorded as the
   * platform's.
   */
  async openWithCustodians(tenderId: string, lastAttempt: boolean, ctx: ActionContext): Promise<void> {
    const o = await repo.find(this.db, tenderId);
    if (!o || o.state !== 'decrypting') return;
    const pending = await repo.pendingRemedies(this.db, tenderId);
    if (pending.length === 0) return;
    let openingKey: RecipientKey;
    try {
      openingKey = await this.custody.rebuildOpeningKey(tenderId);
    } catch (err) {
      if (ThresholdNotReached.is(err)) return; // the release that reaches k runs this job again
      throw err;
    }
    for (const d of pending) {
      const bid = (await bidsRepository.findBid(this.db, d.bidId))!;
      const bidder = (await identityRepository.findOrganisation(this.db, bid.bidderOrgId))!;
      let contentKey: Buffer | null = null;
      try {
        contentKey = await unwrapWithOpeningKey(this.blobs, bid.blobKey, openingKey);
        const opened = await this.opener.open(bid, contentKey, { creditCode: bidder.creditCode });
        if (!opened.ok) {
          await this.failRemedy(ctx, bid, opened.code);
          continue;
        }
        await this.tx(bid.tenderId, async (trx) => {
          if ((await repo.findDecryption(trx, bid.id, true))?.remedyStatus !== 'pending') return; // another run was first
          await repo.markDecrypted(trx, bid.id, this.clock.now(), opened.plaintextBlobKey, opened.manifest, 'custodians');
          await this.audit.append(trx, ctx, {
            action: 'opening.custodian-opened',
            objectType: 'bid',
            objectId: bid.id,
            tenderId: bid.tenderId,
            payload: { sectionId: bid.sectionId, failureCode: d.failureCode, totalPriceFen: opened.manifest.form.totalPriceFen },
          });
          await this.live.record(trx, bid.tenderId, 'opening.custodian-opened', { bidId: bid.id, sectionId: bid.sectionId });
        });
      } catch (err) {
        if (err instanceof EnvelopeError) await this.failRemedy(ctx, bid, `ENVELOPE_${err.code}`);
        else if (lastAttempt) await this.failRemedy(ctx, bid, 'PLATFORM_ERROR');
        else throw err;
      } finally {
        contentKey?.fill(0);
      }
    }
    // nothing waits any more: the close need not wait for the end of the remedy period
    await this.tx(tenderId, (trx) => enqueueInTrx(trx, { ...CLOSE_WINDOW_JOB, payload: { tenderId }, runAt: this.clock.now() }));
  }

  private async failRemedy(ctx: ActionContext, bid: Bid, code: string): Promise<void> {
    await this.tx(bid.tenderId, async (trx) => {
      await repo.failRemedy(trx, bid.id, code);
      await this.note(trx, ctx, bid.tenderId, 'opening.remedy-failed', { code }, 'bid', bid.id);
    });
  }

  // ---- 唱标, confirmations, objections ---------------------------------------------------------------------------

  /** EB 30: after decryption the bidders' names, prices and the other items named are published (唱标). */
  async readings(ctx: ActionContext, tenderId: string) {
    const actor = requireActor(ctx);
    const t = await this.tenderFor(actor, tenderId);
    const o = await this.openingOf(this.db, t.id);
    if (['signing-in', 'decrypting'].includes(o.state)) throw OpeningWrongState({ state: o.state, expected: 'announcing' });
    const bids = await this.currentBidsOf(this.db, t.id);
    const decryptions = new Map((await repo.decryptions(this.db, t.id)).map((d) => [d.bidId, d]));
    const orgs = await identityRepository.listOrganisations(this.db, { ids: bids.map((b) => b.bidderOrgId) });
    const confirmations = await repo.confirmations(this.db, t.id);
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
        confirmation: confirmations.find((c) => c.bidderOrgId === b.bidderOrgId)?.kind ?? null,
      };
    });
  }

  async confirm(ctx: ActionContext, tenderId: string, kind: 'confirmed' | 'disputed') {
    const actor = requireActor(ctx, 'bidder');
    const t = await this.tenderFor(actor, tenderId);
    await this.tx(t.id, async (trx) => {
      const o = await this.openingOf(trx, t.id, true);
      this.requireState(o, 'announcing');
      if ((await this.currentBidsOf(trx, t.id, actor.orgId)).length === 0) throw NotABidder();
      await repo.confirm(trx, t.id, actor.orgId, kind, this.clock.now());
      await this.note(trx, ctx, t.id, 'opening.confirm', { kind }, 'opening', t.id);
    });
    return { tenderId, kind };
  }

  /** The confirmation time is over: bidders who said nothing are deemed to accept (GP87 42); objections open. */
  async closeConfirmations(tenderId: string, ctx: ActionContext): Promise<void> {
    await this.tx(tenderId, async (trx) => {
      const o = await repo.find(trx, tenderId, true);
      if (!o || o.state !== 'announcing') return;
      const now = this.clock.now();
      if (o.pausedAt || (o.confirmationEndsAt && now.getTime() < o.confirmationEndsAt.getTime())) return;
      const said = new Set((await repo.confirmations(trx, tenderId)).map((c) => c.bidderOrgId));
      const bidders = new Set((await this.currentBidsOf(trx, tenderId)).map((b) => b.bidderOrgId));
      for (const org of bidders) if (!said.has(org)) await repo.confirm(trx, tenderId, org, 'deemed', now);
      await this.transition(trx, ctx, tenderId, 'announcing', 'objections', { objection_ends_at: new Date(now.getTime() + OBJECTION_MINUTES * MINUTE_MS) });
    });
  }

  async raiseObjection(ctx: ActionContext, tenderId: string, text: string) {
    const actor = requireActor(ctx, 'bidder');
    const t = await this.tenderFor(actor, tenderId);
    return this.tx(t.id, async (trx) => {
      const o = await this.openingOf(trx, t.id, true);
      this.requireState(o, 'announcing', 'objections');
      // [start, end): an objection can't arrive at the instant the record may be published
      if (o.objectionEndsAt && this.clock.now().getTime() >= o.objectionEndsAt.getTime()) throw ObjectionWindowClosed();
      if ((await this.currentBidsOf(trx, t.id, actor.orgId)).length === 0) throw NotABidder();
      const objection = await repo.insertObjection(trx, { tenderId: t.id, bidderOrgId: actor.orgId, userId: actor.userId, text, at: this.clock.now() });
      await this.note(trx, ctx, t.id, 'opening.objection', { text }, 'objection', objection.id);
      return objection;
    });
  }

  async answerObjection(ctx: ActionContext, tenderId: string, objectionId: string, answer: string) {
    const actor = requireActor(ctx, 'agency');
    const t = await this.tenderFor(actor, tenderId);
    this.requireHost(actor, t);
    return this.tx(t.id, async (trx) => {
      const o = await this.openingOf(trx, t.id, true);
      this.requireState(o, 'announcing', 'objections');
      const answered = await repo.answerObjection(trx, objectionId, t.id, answer, actor.userId, this.clock.now());
      if (!answered) throw ObjectionNotFound();
      await this.note(trx, ctx, t.id, 'opening.objection-answer', { answer }, 'objection', objectionId);
      return answered;
    });
  }

  async objections(ctx: ActionContext, tenderId: string) {
    const actor = requireActor(ctx);
    const t = await this.tenderFor(actor, tenderId);
    await this.openingOf(this.db, t.id);
    return repo.objections(this.db, t.id);
  }

  // ---- host controls ------------------------------------------------------------------------------------------

  async pause(ctx: ActionContext, tenderId: string) {
    const actor = requireActor(ctx, 'agency');
    const t = await this.tenderFor(actor, tenderId);
    this.requireHost(actor, t);
    await this.tx(t.id, async (trx) => {
      const o = await this.openingOf(trx, t.id, true);
      this.requireState(o, 'signing-in', 'decrypting', 'announcing', 'objections');
      await repo.update(trx, t.id, { paused_at: this.clock.now() });
      await this.note(trx, ctx, t.id, 'opening.pause', { state: o.state }, 'opening', t.id);
    });
    return this.view(ctx, tenderId);
  }

  /** Resuming gives back the paused time to whatever window was running, and reschedules its end. */
  async resume(ctx: ActionContext, tenderId: string) {
    const actor = requireActor(ctx, 'agency');
    const t = await this.tenderFor(actor, tenderId);
    this.requireHost(actor, t);
    await this.tx(t.id, async (trx) => {
      const o = await this.openingOf(trx, t.id, true);
      if (!o.pausedAt) throw OpeningWrongState({ state: o.state, expected: 'paused' });
      const now = this.clock.now();
      const pausedMs = now.getTime() - o.pausedAt.getTime();
      const extend = (d: Date | null) => (d ? new Date(d.getTime() + pausedMs) : null);
      const patch: Record<string, unknown> = { paused_at: null };
      if (o.state === 'decrypting' && o.decryptionEndsAt) {
        patch.decryption_ends_at = extend(o.decryptionEndsAt);
        await enqueueInTrx(trx, { ...CLOSE_WINDOW_JOB, payload: { tenderId: t.id }, runAt: patch.decryption_ends_at as Date });
      }
      if (o.state === 'decrypting' && o.remedyEndsAt) {
        patch.remedy_ends_at = extend(o.remedyEndsAt);
        await enqueueInTrx(trx, { ...CLOSE_WINDOW_JOB, payload: { tenderId: t.id }, runAt: patch.remedy_ends_at as Date });
      }
      if (o.state === 'announcing' && o.confirmationEndsAt) {
        patch.confirmation_ends_at = extend(o.confirmationEndsAt);
        await enqueueInTrx(trx, { ...CLOSE_CONFIRMATIONS_JOB, payload: { tenderId: t.id }, runAt: patch.confirmation_ends_at as Date });
      }
      if (o.state === 'objections' && o.objectionEndsAt) patch.objection_ends_at = extend(o.objectionEndsAt);
      await repo.update(trx, t.id, patch);
      await this.note(trx, ctx, t.id, 'opening.resume', { pausedMs }, 'opening', t.id);
    });
    return this.view(ctx, tenderId);
  }

  /** Objections answered and the period over: the record is made, signed and published (EB 32, TL 36). */
  async publishRecord(ctx: ActionContext, tenderId: string) {
    const actor = requireActor(ctx, 'agency');
    const t = await this.tenderFor(actor, tenderId);
    this.requireHost(actor, t);
    const o = await this.openingOf(this.db, t.id);
    this.requireState(o, 'objections');
    const now = this.clock.now();
    if (o.objectionEndsAt && now.getTime() < o.objectionEndsAt.getTime()) throw ObjectionPeriodRunning({ endsAt: o.objectionEndsAt.toISOString() });
    const open = (await repo.objections(this.db, t.id)).filter((x) => !x.answer).length;
    if (open > 0) throw ObjectionsUnanswered({ open });
    const { pdf, signature } = await this.renderRecord(t.id);
    const key = `records/${t.id}/opening-record-${crypto.randomUUID()}.pdf`;
    await this.blobs.put(key, pdf);
    await this.tx(t.id, async (trx) => {
      const locked = await this.openingOf(trx, t.id, true);
      this.requireState(locked, 'objections');
      await this.transition(trx, ctx, t.id, 'objections', 'recorded', { record_blob_key: key, record_signature: signature, recorded_at: now });
    });
    return this.view(ctx, tenderId);
  }

  async recordFile(ctx: ActionContext, tenderId: string, which: 'pdf' | 'signature'): Promise<Buffer> {
    const actor = requireActor(ctx);
    const t = await this.tenderFor(actor, tenderId);
    const o = await this.openingOf(this.db, t.id);
    if (!o.recordBlobKey || !o.recordSignature) throw OpeningWrongState({ state: o.state, expected: 'recorded' });
    if (which === 'signature') return o.recordSignature;
    const chunks: Buffer[] = [];
    for await (const c of (await this.blobs.get(o.recordBlobKey)) as AsyncIterable<Buffer>) chunks.push(c);
    return Buffer.concat(chunks);
  }

  async close(ctx: ActionContext, tenderId: string) {
    const actor = requireActor(ctx, 'agency');
    const t = await this.tenderFor(actor, tenderId);
    this.requireHost(actor, t);
    await this.tx(t.id, async (trx) => {
      const o = await this.openingOf(trx, t.id, true);
      this.requireState(o, 'recorded');
      await this.transition(trx, ctx, t.id, 'recorded', 'closed');
    });
    return this.view(ctx, tenderId);
  }
}
