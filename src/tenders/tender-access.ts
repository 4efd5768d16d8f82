import { seesEverything, type Actor } from '../shared/access';
import type { Tender } from './tenders.repository';

/**
 * Who may see a tender: anyone signed in once it is published; a draft only its agency and tenderer (and, as
 * everywhere, regulators and the trading centre). One rule for the tender pages, the opening hall's live events and
 * the opening key, so no view shows what another would hide.
 */
export function canSeeTender(actor: Actor, t: Pick<Tender, 'status' | 'agencyOrgId' | 'tendererOrgId'>): boolean {
  return t.status !== 'draft' || seesEverything(actor) || actor.orgId === t.agencyOrgId || actor.orgId === t.tendererOrgId;
}
