/**
 * The online opening (不见面开标, EB 29–32). At the deadline the tender is sealed and the opening begins by itself;
 * bidders sign in with their certificates; the host (the agency) starts the decryption window; each bidder unwraps
 * its content key on its own machine and hands it over, signed; the platform decrypts as jobs. When the window
 * closes every bid has an outcome and its cause (EB 31); a section with fewer than three valid bids fails (流标,
 * TLR 44); otherwise the prices are read out (唱标), bidders confirm (silence is acceptance, GP87 42), objections
 * are raised and answered on the record (TLR 44, EB 39), and the opening record is published (EB 32).
 *
 * This file holds the session up to the window's close and the host's pause and resume; the reading, objections and
 * record are in opening-readout.service.ts, the custodians' remedy in custodian-remedy.ts, the steps and guards they
 * share in opening-steps.ts.
 */
import { SignatureError, verifyDetachedSignature } from '../../crypto/signature';
import { contentKeyDigest } from '../../crypto/opening';
import type { Db } from '../db';
import type { Clock } from '../shared/clock';
import { MINUTE_MS } from '../shared/clock';
import { requireActor, type ActionContext } from '../shared/access';
import { NotFound } from '../shared/errors';
import { enqueueInTrx } from '../shared/queue/outbox.repository';
import type { AuditService } from '../monitoring/audit.service';
import type { AlertsService } from '../monitoring/alerts.service';
import type { LiveEvents } from '../live/live.service';
import type { BidOpener } from './bid-opener';
import type { CustodianRemedy } from './custodian-remedy';
import type { DepositReleases } from '../deposits/deposit-releases';
import type { OpeningSteps } from './opening-steps';
import type { CertificateService } from '../identity/certificates.service';
import { identityRepository } from '../identity/identity.repository';
import { openSecret, sealSecret } from '../identity/platform-keys';
import { tendersRepository } from '../tenders/tenders.repository';
import { bidsRepository, type Bid } from '../bids/bids.repository';
import {
  AlreadyDecrypted,
  CertificateLoginRequired,
  ContentKeyInvalid,
  DecryptionWindowClosed,
  DecryptionWindowNotOpen,
  NotABidder,
  NotSignedIn,
  OpeningPaused,
  OpeningWrongState,
} from './opening.errors';
import { CLOSE_CONFIRMATIONS_JOB, CLOSE_WINDOW_JOB, DECRYPT_JOB } from './opening.jobs';
import { openingRepository as repo, type BidOutcome, type SectionOutcome } from './opening.repository';
import { BIDDER_FAULTS, CUSTODIAN_OPENED_CAUSE, isBidderFault, withdrawnCause } from './outcomes';
import { ownDecryptions, progressOf } from './hall-progress';

/** How long bidders have to confirm the prices read (GP87 42: silence counts as acceptance). */
export const CONFIRMATION_MINUTES = 10;
/** TLR 44 / TL 28 / GP87 41: fewer than three valid bids and the section cannot be opened. */
export const MIN_VALID_BIDS = 3;

export class OpeningService {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly steps: OpeningSteps,
    private readonly audit: AuditService,
    private readonly alerts: AlertsService,
    private readonly certificates: CertificateService,
    private readonly live: LiveEvents,
    private readonly opener: BidOpener,
    private readonly remedy: CustodianRemedy,
    private readonly passphrase: string,
    /** Deposits released by the opening's outcomes (EB 31, TLR 44) and by the deadline (no bid). */
    private readonly releases: DepositReleases,
  ) {}

  // ---- the deadline -------------------------------------------------------------------------------------------

  /** Called by the deadline job once the tender is sealed: the opening begins, and sign-in opens (EB 29). */
  async begin(tenderId: string, ctx: ActionContext): Promise<void> {
    await this.steps.tx(tenderId, async (trx) => {
      if (!(await repo.insert(trx, tenderId, 'signing-in', this.clock.now()))) return;
      await this.steps.note(trx, ctx, tenderId, 'opening.begin', { state: 'signing-in' });
      await this.releases.releaseWithoutBid(trx, ctx, tenderId);
    });
  }

  async view(ctx: ActionContext, tenderId: string) {
    const actor = requireActor(ctx);
    const t = await this.steps.tenderFor(actor, tenderId);
    const o = await this.steps.openingOf(this.db, t.id);
    const signIns = await repo.signIns(this.db, t.id);
    const orgs = await identityRepository.listOrganisations(this.db, { ids: signIns.map((s) => s.bidderOrgId) });
    // the tender's current bids and their decryptions, read once: the progress counts and a bidder's own bids
    const bids = await this.steps.currentBidsOf(this.db, t.id);
    const decryptions = new Map((await repo.decryptions(this.db, t.id)).map((d) => [d.bidId, d]));
    const progress = progressOf(bids, decryptions);
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
      participants: signIns.map((s) => ({
        bidderOrgId: s.bidderOrgId,
        name: orgs.find((x) => x.id === s.bidderOrgId)?.name ?? '',
        signedInAt: s.signedInAt,
        decryption: progress.byBidder.get(s.bidderOrgId) ?? progress.none(),
      })),
      progress: progress.total,
      // a bidder sees at once whether its own key opened its bid, so it can hand over the right one in time
      myBids: actor.orgType === 'bidder' ? ownDecryptions(bids.filter((b) => b.bidderOrgId === actor.orgId), decryptions) : undefined,
    };
  }

  // ---- sign-in and the decryption window ----------------------------------------------------------------------

  /** EB 29: bidders take part online; sign-in is by certificate and needs a current bid. */
  async signIn(ctx: ActionContext, tenderId: string) {
    const actor = requireActor(ctx, 'bidder');
    if (!actor.certSerial) throw CertificateLoginRequired();
    const t = await this.steps.tenderFor(actor, tenderId);
    const o = await this.steps.openingOf(this.db, t.id);
    this.steps.requireState(o, 'signing-in', 'decrypting');
    if ((await this.steps.currentBidsOf(this.db, t.id, actor.orgId)).length === 0) throw NotABidder();
    await this.steps.tx(t.id, async (trx) => {
      const at = this.clock.now();
      if (await repo.signIn(trx, { tenderId: t.id, bidderOrgId: actor.orgId, userId: actor.userId, certificateSerial: actor.certSerial!, at })) {
        await this.steps.note(trx, ctx, t.id, 'opening.sign-in', { bidderOrgId: actor.orgId }, 'opening', t.id);
      }
    });
    return this.view(ctx, tenderId);
  }

  async startDecryption(ctx: ActionContext, tenderId: string) {
    const actor = requireActor(ctx, 'agency');
    const t = await this.steps.tenderFor(actor, tenderId);
    this.steps.requireHost(actor, t);
    await this.steps.tx(t.id, async (trx) => {
      const o = await this.steps.openingOf(trx, t.id, true);
      this.steps.requireState(o, 'signing-in');
      const now = this.clock.now();
      const endsAt = new Date(now.getTime() + t.decryptionWindowMinutes * MINUTE_MS);
      await this.steps.transition(trx, ctx, t.id, o.state, 'decrypting', { decryption_started_at: now, decryption_ends_at: endsAt });
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
    await this.steps.tx(t.id, async (trx) => {
      const current = await repo.findDecryption(trx, bid.id, true);
      if (current?.status === 'decrypted') throw AlreadyDecrypted();
      await repo.receiveKey(trx, bid.id, t.id, sealSecret(input.contentKey, this.passphrase), now);
      await enqueueInTrx(trx, { ...DECRYPT_JOB, payload: { bidId: bid.id }, runAt: now });
      await this.steps.note(trx, ctx, t.id, 'opening.key-received', { sectionId: bid.sectionId }, 'bid', bid.id);
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
      await this.steps.tx(bid.tenderId, async (trx) => {
        // a second run of this job (re-added by the sweeper after Redis lost it while this one ran) may have got here
        // first: only the run that still finds the key waiting records the decryption
        if ((await repo.findDecryption(trx, bid.id, true))?.status !== 'key-received') return;
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
    await this.steps.tx(bid.tenderId, async (trx) => {
      if ((await repo.findDecryption(trx, bid.id, true))?.status !== 'key-received') return;
      await repo.markFailed(trx, bid.id, code);
      await this.steps.note(trx, ctx, bid.tenderId, 'opening.decryption-failed', { code }, 'bid', bid.id);
    });
  }

  /**
   * The window closes: every current bid gets its outcome and cause (EB 31), sections with fewer than three valid
   * bids fail (TLR 44), and their deposits are released. Waits for decryptions still running from keys handed in
   * before the close, and, where the tender sets the custodians' remedy, for it (see remedyRunning).
   */
  async closeWindow(tenderId: string, ctx: ActionContext): Promise<void> {
    await this.steps.tx(tenderId, async (trx) => {
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
      const bids = await this.steps.currentBidsOf(trx, tenderId);
      const decryptions = new Map((await repo.decryptions(trx, tenderId)).map((d) => [d.bidId, d]));
      if (t.decryptionFailurePolicy === 'custodian-open' && (await this.remedy.running(trx, ctx, t, o, bids, decryptions, now))) return;
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
      await this.steps.note(trx, ctx, tenderId, 'opening.window-closed', {
        outcomes: outcomes.map((x) => ({ bidId: x.bid.id, bidderOrgId: x.bid.bidderOrgId, outcome: x.outcome })),
        sections: sectionOutcomes,
      });
      // deposits are released for every bidder of a failed section, and for bids withdrawn through no fault of the
      // bidder (refunded within two working days); a bid revoked through its bidder's fault forfeits its deposit
      // (TLR 35; EB 31)
      for (const x of outcomes) {
        const sectionFailed = sectionOutcomes.find((s) => s.sectionId === x.bid.sectionId)!.failed;
        const who = { tenderId, sectionId: x.bid.sectionId, bidderOrgId: x.bid.bidderOrgId, bidId: x.bid.id };
        if (sectionFailed) await this.releases.release(trx, ctx, { ...who, reason: 'failed-opening' });
        else if (x.outcome === 'withdrawn') await this.releases.release(trx, ctx, { ...who, reason: 'withdrawn-not-bidder-fault' });
        else if (x.outcome === 'revoked') await this.releases.forfeit(trx, ctx, { ...who, reason: 'revoked-after-deadline' });
      }
      if (allFailed) {
        await this.steps.transition(trx, ctx, tenderId, 'decrypting', 'failed', { section_outcomes: sectionOutcomes, retender_required: true });
      } else {
        const endsAt = new Date(now.getTime() + CONFIRMATION_MINUTES * MINUTE_MS);
        await this.steps.transition(trx, ctx, tenderId, 'decrypting', 'announcing', { section_outcomes: sectionOutcomes, confirmation_ends_at: endsAt });
        await enqueueInTrx(trx, { ...CLOSE_CONFIRMATIONS_JOB, payload: { tenderId }, runAt: endsAt });
      }
    });
  }

  // ---- host controls ------------------------------------------------------------------------------------------

  async pause(ctx: ActionContext, tenderId: string) {
    const actor = requireActor(ctx, 'agency');
    const t = await this.steps.tenderFor(actor, tenderId);
    this.steps.requireHost(actor, t);
    await this.steps.tx(t.id, async (trx) => {
      const o = await this.steps.openingOf(trx, t.id, true);
      this.steps.requireState(o, 'signing-in', 'decrypting', 'announcing', 'objections');
      await repo.update(trx, t.id, { paused_at: this.clock.now() });
      await this.steps.note(trx, ctx, t.id, 'opening.pause', { state: o.state }, 'opening', t.id);
    });
    return this.view(ctx, tenderId);
  }

  /** Resuming gives back the paused time to whatever window was running, and reschedules its end. */
  async resume(ctx: ActionContext, tenderId: string) {
    const actor = requireActor(ctx, 'agency');
    const t = await this.steps.tenderFor(actor, tenderId);
    this.steps.requireHost(actor, t);
    await this.steps.tx(t.id, async (trx) => {
      const o = await this.steps.openingOf(trx, t.id, true);
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
      await this.steps.note(trx, ctx, t.id, 'opening.resume', { pausedMs }, 'opening', t.id);
    });
    return this.view(ctx, tenderId);
  }
}
