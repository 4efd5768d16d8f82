/**
 * The opening record (开标记录表, EB 32; TL 36): gathered from what the opening recorded, rendered with the embedded
 * CJK font and signed by the platform's document-signing certificate (detached CMS, `openssl cms -verify`).
 */
import type { Runner } from '../db';
import type { PlatformKeys } from '../identity/platform-keys';
import { identityRepository } from '../identity/identity.repository';
import { tendersRepository } from '../tenders/tenders.repository';
import { renderOpeningRecord, type OpeningRecordData } from '../documents/opening-record';
import { signDocument } from '../documents/document-signature';
import { depositStatusLabels } from '../deposits/deposits.service';
import { openingRepository as repo } from './opening.repository';

export async function gatherOpeningRecord(db: Runner, tenderId: string, now: Date): Promise<OpeningRecordData> {
  const t = (await tendersRepository.findTender(db, tenderId))!;
  const o = (await repo.find(db, tenderId))!;
  const sections = await tendersRepository.listSections(db, tenderId);
  const bids = await db('bids').where({ tender_id: tenderId, status: 'current' });
  const decryptions = new Map((await repo.decryptions(db, tenderId)).map((d) => [d.bidId, d]));
  const signIns = await repo.signIns(db, tenderId);
  const confirmations = await repo.confirmations(db, tenderId);
  const deposit = await depositStatusLabels(db, tenderId);
  const objections = await repo.objections(db, tenderId);
  const orgIds = [...new Set([t.agencyOrgId, t.tendererOrgId, ...bids.map((b: { bidder_org_id: string }) => b.bidder_org_id), ...objections.map((x) => x.bidderOrgId)])];
  const orgs = new Map((await identityRepository.listOrganisations(db, { ids: orgIds })).map((x) => [x.id, x]));
  const name = (id: string) => orgs.get(id)?.name ?? id;
  return {
    tender: {
      code: t.code,
      name: t.name,
      type: t.type,
      agencyName: name(t.agencyOrgId),
      tendererName: name(t.tendererOrgId),
      bidDeadline: t.bidDeadline,
      decryptionStartedAt: o.decryptionStartedAt,
      decryptionEndedAt: o.decryptionEndsAt,
    },
    sections: sections.map((s) => ({
      seq: s.seq,
      name: s.name,
      estimatedPriceFen: s.estimatedPriceFen,
      outcome: o.sectionOutcomes.find((x) => x.sectionId === s.id)?.failed ? 'failed' : 'opened',
    })),
    participants: bids.map((b: { bidder_org_id: string }) => ({
      bidderName: name(b.bidder_org_id),
      creditCode: orgs.get(b.bidder_org_id)?.creditCode ?? '',
      signedInAt: signIns.find((s) => s.bidderOrgId === b.bidder_org_id)?.signedInAt ?? null,
    })),
    bids: bids.map((b: { id: string; bidder_org_id: string; section_id: string }) => {
      const d = decryptions.get(b.id);
      const form = d?.manifest?.form;
      const kind = confirmations.find((c) => c.bidderOrgId === b.bidder_org_id)?.kind;
      return {
        sectionSeq: sections.find((s) => s.id === b.section_id)?.seq ?? 1,
        bidderName: name(b.bidder_org_id),
        decryption: d?.outcome ?? 'revoked',
        cause: d?.cause ?? null,
        totalPriceFen: form?.totalPriceFen ?? null,
        durationDays: form?.durationDays ?? null,
        quality: form?.quality ?? null,
        projectManager: form?.projectManager?.name ?? null,
        deposit: deposit(b.section_id, b.bidder_org_id),
        confirmation: kind === 'confirmed' || kind === 'disputed' || kind === 'deemed' ? kind : null,
      };
    }),
    objections: objections.map((x) => ({ bidderName: name(x.bidderOrgId), raisedAt: x.raisedAt, text: x.text, answer: x.answer, answeredAt: x.answeredAt })),
    generatedAt: now,
  };
}

export async function renderSignedOpeningRecord(db: Runner, keys: PlatformKeys, tenderId: string, now: Date): Promise<{ pdf: Buffer; signature: Buffer }> {
  const pdf = await renderOpeningRecord(await gatherOpeningRecord(db, tenderId, now));
  return { pdf, signature: signDocument(keys, pdf, now) };
}
