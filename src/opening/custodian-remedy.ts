/**
 * The custodians' remedy (EB 31: the tender documents may set one). Where the tender says so, a bid whose decryption
 * failed through no fault of its bidder is not given up when the window closes: it waits, at most REMEDY_MINUTES,
 * for k custodians to release their shares; the tender's opening key, rebuilt from them in memory, unwraps the bid's
 * content key from the envelope (addressed to the opening certificate too, checked at upload), and the bid opens as
 * its bidder's key would have opened it. The rebuilt key lives in one job's call only, and neither it nor a content
 * key reaches a log, a job payload or an error.
 */
import { EnvelopeError, type RecipientKey } from '../../crypto/envelope';
import type { Db, Runner } from '../db';
import type { Clock } from '../shared/clock';
import { MINUTE_MS } from '../shared/clock';
import type { ActionContext } from '../shared/access';
import type { BlobStore } from '../shared/blobs';
import { enqueueInTrx } from '../shared/queue/outbox.repository';
import type { AuditService } from '../monitoring/audit.service';
import type { LiveEvents } from '../live/live.service';
import type { CustodyService } from '../custody/custody.service';
import { ThresholdNotReached } from '../custody/custody.errors';
import { identityRepository } from '../identity/identity.repository';
import type { Tender } from '../tenders/tenders.repository';
import { bidsRepository, type Bid } from '../bids/bids.repository';
import type { BidOpener } from './bid-opener';
import { unwrapWithOpeningKey } from './opening-key-unwrap';
import type { OpeningSteps } from './opening-steps';
import { CLOSE_WINDOW_JOB, CUSTODIAN_OPEN_JOB } from './opening.jobs';
import { openingRepository as repo, type BidDecryption, type Opening } from './opening.repository';
import { isBidderFault } from './outcomes';

/** How long after the window bids may wait for the remedy: EB 31 leaves it to the tender; the platform bounds it so the opening goes on the same day. */
export const REMEDY_MINUTES = 30;

export class CustodianRemedy {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly steps: OpeningSteps,
    private readonly audit: AuditService,
    private readonly live: LiveEvents,
    private readonly blobs: BlobStore,
    private readonly opener: BidOpener,
    /** Rebuilds the tender's opening key from released shares. */
    private readonly custody: CustodyService,
  ) {}

  /**
   * Where the tender documents set it, bids that failed through no fault of their bidders are not given up at the
   * window's close: they wait, at most REMEDY_MINUTES, for k custodians to release their shares, and the opening key
   * rebuilt from them opens the bids (openWithCustodians). True while that is still running: the close waits.
   */
  async running(trx: Runner, ctx: ActionContext, t: Tender, o: Opening, bids: Bid[], decryptions: Map<string, BidDecryption>, now: Date): Promise<boolean> {
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
    await this.steps.note(trx, ctx, t.id, 'opening.remedy-started', {
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
  async run(tenderId: string, lastAttempt: boolean, ctx: ActionContext): Promise<void> {
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
          await this.fail(ctx, bid, opened.code);
          continue;
        }
        await this.steps.tx(bid.tenderId, async (trx) => {
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
        if (err instanceof EnvelopeError) await this.fail(ctx, bid, `ENVELOPE_${err.code}`);
        else if (lastAttempt) await this.fail(ctx, bid, 'PLATFORM_ERROR');
        else throw err;
      } finally {
        contentKey?.fill(0);
      }
    }
    // nothing waits any more: the close need not wait for the end of the remedy period
    await this.steps.tx(tenderId, (trx) => enqueueInTrx(trx, { ...CLOSE_WINDOW_JOB, payload: { tenderId }, runAt: this.clock.now() }));
  }

  private async fail(ctx: ActionContext, bid: Bid, code: string): Promise<void> {
    await this.steps.tx(bid.tenderId, async (trx) => {
      await repo.failRemedy(trx, bid.id, code);
      await this.steps.note(trx, ctx, bid.tenderId, 'opening.remedy-failed', { code }, 'bid', bid.id);
    });
  }
}
