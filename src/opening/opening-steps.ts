/**
 * What every part of the opening does the same way: one transaction per step with the hall told once it commits,
 * the audit event and the live event of a step written together, who may see which tender's opening, and the
 * state machine's guards and transitions (see opening.service.ts for the machine itself).
 */
import type { Db, Runner } from '../db';
import type { Clock } from '../shared/clock';
import { seesEverything, type ActionContext, type Actor } from '../shared/access';
import { NotFound } from '../shared/errors';
import type { AuditService } from '../monitoring/audit.service';
import type { LiveEvents } from '../live/live.service';
import { tendersRepository, type Tender } from '../tenders/tenders.repository';
import { bidsRepository, type Bid } from '../bids/bids.repository';
import { OpeningNotFound, OpeningPaused, OpeningWrongState } from './opening.errors';
import { openingRepository as repo, type Opening, type OpeningState } from './opening.repository';

export class OpeningSteps {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly audit: AuditService,
    private readonly live: LiveEvents,
  ) {}

  /** One transaction per use case; once it has committed, every instance's opening hall is told to look (live). */
  async tx<T>(tenderId: string, work: (trx: Runner) => Promise<T>): Promise<T> {
    const result = await this.db.transaction(work);
    await this.live.announce(tenderId);
    return result;
  }

  /** The audit event and the live event of a step, in the step's transaction. */
  async note(trx: Runner, ctx: ActionContext, tenderId: string, action: string, payload: Record<string, unknown>, objectType = 'opening', objectId = tenderId) {
    await this.audit.append(trx, ctx, { action, objectType, objectId, tenderId, payload });
    await this.live.record(trx, tenderId, action, payload);
  }

  // ---- access -------------------------------------------------------------------------------------------------

  async tenderFor(actor: Actor, tenderId: string): Promise<Tender> {
    const t = await tendersRepository.findTender(this.db, tenderId);
    if (!t || t.status === 'draft') throw NotFound({ resource: '招标项目' });
    if (t.status === 'published' && !seesEverything(actor) && actor.orgId !== t.agencyOrgId && actor.orgId !== t.tendererOrgId) {
      // before the deadline there is nothing to show, and who is bidding is nobody's business (TL 22)
      throw OpeningNotFound();
    }
    return t;
  }

  async openingOf(db: Runner, tenderId: string, forUpdate = false): Promise<Opening> {
    const o = await repo.find(db, tenderId, forUpdate);
    if (!o) throw OpeningNotFound();
    return o;
  }

  requireHost(actor: Actor, t: Tender): void {
    if (actor.orgType !== 'agency' || actor.orgId !== t.agencyOrgId) throw NotFound({ resource: '招标项目' });
  }

  requireState(o: Opening, ...states: OpeningState[]): void {
    if (!states.includes(o.state)) throw OpeningWrongState({ state: o.state, expected: states.join('|') });
    if (o.pausedAt) throw OpeningPaused();
  }

  currentBidsOf(db: Runner, tenderId: string, bidderOrgId?: string): Promise<Bid[]> {
    return bidsRepository.listCurrent(db, tenderId, bidderOrgId);
  }

  async transition(trx: Runner, ctx: ActionContext, tenderId: string, from: OpeningState, to: OpeningState, patch: Record<string, unknown> = {}) {
    const now = this.clock.now();
    await repo.update(trx, tenderId, { state: to, state_changed_at: now, ...patch });
    const shown = Object.fromEntries(Object.entries(patch).filter(([k]) => k !== 'record_signature').map(([k, v]) => [k, v instanceof Date ? v.toISOString() : v]));
    await this.note(trx, ctx, tenderId, 'opening.transition', { from, to, ...shown });
  }
}
