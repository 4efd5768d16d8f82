/**
 * Platform records → Open Contracting Data Standard 1.1 releases. Pure: no database, no clock. The service decides
 * what is public when (see ocds.service.ts); this file only says how each stage looks in OCDS.
 *
 * One contracting process per tender: ocid = `<OCDS_PREFIX>-<项目编号>`. One release per stage, each with an id
 * that never changes (`<ocid>-tender`, `<ocid>-award-1`, ...), dated when the event happened on the platform, so a
 * consumer can merge them into a record: OCDS releases are immutable, a later stage is a new release.
 * Sections (标段) are lots (the OCDS lots extension). Amounts are decimal yuan (OCDS amounts are in the currency's
 * unit; the platform keeps integer fen). Times are Asia/Shanghai (+08:00).
 */
import { SHANGHAI_OFFSET_MS } from '../shared/time';

export const OCDS_VERSION = '1.1';
/** The lots extension, for tender.lots, items[].relatedLot and awards[].relatedLots. */
export const LOTS_EXTENSION = 'https://raw.githubusercontent.com/open-contracting-extensions/ocds_lots_extension/v1.1.5/extension.json';
/** 统一社会信用代码 (GB 32100-2015) as an org-id.guide scheme. */
export const CREDIT_CODE_SCHEME = 'CN-USCC';
const CURRENCY = 'CNY';

// ---- platform records (what ocds.repository.ts reads) -------------------------------------------------------------

export interface OcdsOrganisation {
  id: string;
  name: string;
  creditCode: string;
  region: string | null;
}

export interface OcdsTender {
  id: string;
  code: string;
  name: string;
  type: 'construction' | 'procurement';
  /** The platform publishes open tenders (公开招标); invitations (邀请招标) map to `selective`. */
  method: 'open' | 'invited';
  description: string;
  tendererOrgId: string;
  agencyOrgId: string;
  publishedAt: Date;
  documentsIssuedAt: Date;
  /** The deadline as published; clarifications may have moved it since (TLR 21). */
  originalDeadline: Date;
  terminatedAt: Date | null;
  terminationReason: string | null;
}

export interface OcdsSection {
  id: string;
  seq: number;
  name: string;
  estimatedPriceFen: number;
}

export interface OcdsDocument {
  id: string;
  fileName: string;
  contentType: string;
  sha256: string;
}

export interface OcdsClarification {
  seq: number;
  title: string;
  body: string;
  issuedAt: Date;
  deadlineBefore: Date;
  deadlineAfter: Date;
}

/** The opening once the prices have been read (EB 30). Before that the service passes none: who bid is secret. */
export interface OcdsOpening {
  readAt: Date;
  /** Bidders with a bid counted at the deadline, in the order received. */
  bidders: Array<{ orgId: string; sectionId: string }>;
  failedSectionIds: string[];
}

export interface OcdsAward {
  sectionId: string;
  winnerOrgId: string;
  priceFen: number;
  issuedAt: Date;
  /** The winner refused to sign (TLR 74). */
  refusal: { at: Date; reason: string } | null;
}

export interface OcdsContract {
  sectionId: string;
  signedAt: Date;
  amountFen: number;
  recordedAt: Date;
}

export interface TenderRecords {
  tender: OcdsTender;
  sections: OcdsSection[];
  documents: OcdsDocument[];
  clarifications: OcdsClarification[];
  opening: OcdsOpening | null;
  awards: OcdsAward[];
  contracts: OcdsContract[];
  organisations: Map<string, OcdsOrganisation>;
}

export interface MapperOptions {
  /** OCDS_PREFIX, e.g. `ocds-gzpt00`. */
  prefix: string;
  /** The API's absolute base URL (…/api/v1), for document links. */
  apiBase: string;
}

// ---- OCDS shapes (the parts this platform fills) ------------------------------------------------------------------

export type ReleaseTag = 'tender' | 'tenderAmendment' | 'tenderUpdate' | 'tenderCancellation' | 'award' | 'awardUpdate' | 'contract';

export interface OcdsValue {
  amount: number;
  currency: string;
}

export interface OrganizationReference {
  id: string;
  name: string;
}

export interface OcdsParty extends OrganizationReference {
  identifier: { scheme: string; id: string; legalName: string };
  address?: { region: string; countryName: string };
  roles: string[];
}

export interface OcdsRelease {
  ocid: string;
  id: string;
  date: string;
  tag: ReleaseTag[];
  initiationType: 'tender';
  language: 'zh';
  parties: OcdsParty[];
  buyer: OrganizationReference;
  tender?: Record<string, unknown>;
  awards?: Array<Record<string, unknown>>;
  contracts?: Array<Record<string, unknown>>;
}

// ---- helpers --------------------------------------------------------------------------------------------------------

/** An instant as RFC 3339 in Asia/Shanghai, to the second: `2026-11-23T09:00:00+08:00`. */
export function shanghaiDateTime(at: Date): string {
  return `${new Date(at.getTime() + SHANGHAI_OFFSET_MS).toISOString().slice(0, 19)}+08:00`;
}

/** Integer fen → OCDS amount in yuan (a decimal number). */
export function yuan(fen: number): OcdsValue {
  return { amount: fen / 100, currency: CURRENCY };
}

export function ocidOf(prefix: string, tenderCode: string): string {
  return `${prefix}-${tenderCode}`;
}

export const partyId = (o: Pick<OcdsOrganisation, 'creditCode'>) => `${CREDIT_CODE_SCHEME}-${o.creditCode}`;
const lotId = (s: Pick<OcdsSection, 'seq'>) => `lot-${s.seq}`;
const awardId = (s: Pick<OcdsSection, 'seq'>) => `award-${s.seq}`;

/** 公开招标 → open; 邀请招标 → selective (TL 10). */
export const PROCUREMENT_METHOD: Record<OcdsTender['method'], { code: 'open' | 'selective'; details: string }> = {
  open: { code: 'open', details: '公开招标' },
  invited: { code: 'selective', details: '邀请招标' },
};

/** Construction tendering buys works; government procurement may buy goods or services, which the tender does not say. */
const CATEGORY: Record<OcdsTender['type'], 'works' | undefined> = { construction: 'works', procurement: undefined };

function reference(o: OcdsOrganisation): OrganizationReference {
  return { id: partyId(o), name: o.name };
}

function party(o: OcdsOrganisation, roles: string[]): OcdsParty {
  return {
    ...reference(o),
    identifier: { scheme: CREDIT_CODE_SCHEME, id: o.creditCode, legalName: o.name },
    ...(o.region ? { address: { region: o.region, countryName: '中国' } } : {}),
    roles,
  };
}

function org(r: TenderRecords, id: string): OcdsOrganisation {
  const o = r.organisations.get(id);
  if (!o) throw new Error(`organisation ${id} missing from the tender's records`);
  return o;
}

// ---- the stages -----------------------------------------------------------------------------------------------------

/** A release with the instant it is dated (its `date` is shown to the second). */
export interface DatedRelease {
  at: Date;
  release: OcdsRelease;
}

/**
 * Every release of one tender that its records hold, in date order. The records must already be limited to what is
 * public (the service does that); this function adds nothing the records don't carry.
 */
export function releasesOf(r: TenderRecords, opts: MapperOptions): DatedRelease[] {
  const ocid = ocidOf(opts.prefix, r.tender.code);
  const buyerOrg = org(r, r.tender.tendererOrgId);
  const buyer = reference(buyerOrg);
  const base = (id: string, at: Date, tag: ReleaseTag[], parties: OcdsParty[]) => ({
    ocid,
    id: `${ocid}-${id}`,
    date: shanghaiDateTime(at),
    tag,
    initiationType: 'tender' as const,
    language: 'zh' as const,
    parties,
    buyer,
  });
  const sectionById = new Map(r.sections.map((s) => [s.id, s]));
  const section = (id: string) => {
    const s = sectionById.get(id);
    if (!s) throw new Error(`section ${id} missing from the tender's records`);
    return s;
  };
  const out: DatedRelease[] = [];
  const push = (at: Date, release: OcdsRelease) => out.push({ at, release });

  // tender: as published (the original deadline; a clarification that moved it is an amendment of its own)
  const procuringEntity = org(r, r.tender.agencyOrgId);
  const method = PROCUREMENT_METHOD[r.tender.method];
  const category = CATEGORY[r.tender.type];
  const tenderRelease = base('tender', r.tender.publishedAt, ['tender'], [party(buyerOrg, ['buyer']), party(procuringEntity, ['procuringEntity'])]);
  push(r.tender.publishedAt, {
    ...tenderRelease,
    tender: {
      id: r.tender.code,
      title: r.tender.name,
      ...(r.tender.description ? { description: r.tender.description } : {}),
      status: 'active',
      procuringEntity: reference(procuringEntity),
      value: yuan(r.sections.reduce((sum, s) => sum + s.estimatedPriceFen, 0)),
      procurementMethod: method.code,
      procurementMethodDetails: method.details,
      ...(category ? { mainProcurementCategory: category } : {}),
      // the platform keeps no bill of quantities (工程量清单 is in the documents): one item per section, its scope
      items: r.sections.map((s) => ({ id: String(s.seq), description: s.name, relatedLot: lotId(s) })),
      lots: r.sections.map((s) => ({ id: lotId(s), title: s.name, value: yuan(s.estimatedPriceFen), status: 'active' })),
      tenderPeriod: { startDate: shanghaiDateTime(r.tender.documentsIssuedAt), endDate: shanghaiDateTime(r.tender.originalDeadline) },
      submissionMethod: ['electronicSubmission'],
      submissionMethodDetails: '电子投标：投标文件以数字信封（CMS）加密后经平台递交，开标时由投标人远程解密 (sealed electronic bids, decrypted by each bidder online at the opening; EB 26–30)',
      documents: r.documents.map((d) => ({
        id: d.id,
        documentType: 'biddingDocuments',
        title: d.fileName,
        description: `招标文件，SHA-256 ${d.sha256}；登录平台后下载 (the tender documents; download after signing in)`,
        url: `${opts.apiBase}/tenders/${r.tender.id}/documents/${d.id}`,
        datePublished: shanghaiDateTime(r.tender.publishedAt),
        format: d.contentType,
        language: 'zh',
      })),
    },
  });

  // clarifications and amendments of the tender documents (TL 23), each with the deadline that then applied
  let previous = tenderRelease.id;
  for (const c of [...r.clarifications].sort((a, b) => a.seq - b.seq)) {
    const id = `clarification-${c.seq}`;
    const release = base(id, c.issuedAt, ['tenderAmendment'], [party(buyerOrg, ['buyer'])]);
    const moved = c.deadlineAfter.getTime() !== c.deadlineBefore.getTime();
    push(c.issuedAt, {
      ...release,
      tender: {
        id: r.tender.code,
        tenderPeriod: { startDate: shanghaiDateTime(r.tender.documentsIssuedAt), endDate: shanghaiDateTime(c.deadlineAfter) },
        amendments: [{
          id,
          date: shanghaiDateTime(c.issuedAt),
          rationale: c.title,
          description: moved
            ? `${c.body}\n（投标截止时间顺延至 ${shanghaiDateTime(c.deadlineAfter)}，TLR 21 — the deadline was postponed）`
            : c.body,
          amendsReleaseID: previous,
          releaseID: release.id,
        }],
      },
    });
    previous = release.id;
  }

  // the opening: the bidders are named once the prices have been read (EB 30), never before
  if (r.opening) {
    const o = r.opening;
    const bidderIds = [...new Set(o.bidders.map((b) => b.orgId))];
    const allFailed = r.sections.every((s) => o.failedSectionIds.includes(s.id));
    push(o.readAt, {
      ...base('opening', o.readAt, ['tenderUpdate'], [party(buyerOrg, ['buyer']), ...bidderIds.map((id) => party(org(r, id), ['tenderer']))]),
      tender: {
        id: r.tender.code,
        // TLR 44: fewer than three valid bids and the section fails (流标); with every section failed, the tender
        status: allFailed ? 'unsuccessful' : 'active',
        numberOfTenderers: bidderIds.length,
        tenderers: bidderIds.map((id) => reference(org(r, id))),
        lots: r.sections.map((s) => ({ id: lotId(s), status: o.failedSectionIds.includes(s.id) ? 'unsuccessful' : 'active' })),
      },
    });
  }

  if (r.tender.terminatedAt) {
    push(r.tender.terminatedAt, {
      ...base('cancellation', r.tender.terminatedAt, ['tenderCancellation'], [party(buyerOrg, ['buyer'])]),
      tender: {
        id: r.tender.code,
        status: 'cancelled',
        amendments: [{
          id: 'termination',
          date: shanghaiDateTime(r.tender.terminatedAt),
          rationale: r.tender.terminationReason ?? '招标人终止招标',
          description: '招标人终止招标 (the tenderer terminated the tender; TLR 31)',
          amendsReleaseID: previous,
          releaseID: `${ocid}-cancellation`,
        }],
      },
    });
  }

  for (const a of r.awards) {
    const s = section(a.sectionId);
    const winner = org(r, a.winnerOrgId);
    push(a.issuedAt, {
      ...base(`award-${s.seq}`, a.issuedAt, ['award'], [party(buyerOrg, ['buyer']), party(winner, ['tenderer', 'supplier'])]),
      awards: [{
        id: awardId(s),
        title: `${s.name} 中标结果`,
        description: '中标通知书已发出 (the award notice was issued; TL 45)',
        status: 'active',
        date: shanghaiDateTime(a.issuedAt),
        value: yuan(a.priceFen),
        suppliers: [reference(winner)],
        relatedLots: [lotId(s)],
      }],
    });
    if (a.refusal) {
      push(a.refusal.at, {
        ...base(`award-${s.seq}-refusal`, a.refusal.at, ['awardUpdate'], [party(buyerOrg, ['buyer'])]),
        awards: [{
          id: awardId(s),
          status: 'cancelled',
          description: `中标人拒绝签订合同（TLR 74）：${a.refusal.reason} (the winner refused to sign)`,
        }],
      });
    }
  }

  for (const c of r.contracts) {
    const s = section(c.sectionId);
    push(c.recordedAt, {
      ...base(`contract-${s.seq}`, c.recordedAt, ['contract'], [party(buyerOrg, ['buyer'])]),
      contracts: [{
        id: `contract-${s.seq}`,
        awardID: awardId(s),
        title: `${s.name} 合同`,
        status: 'active',
        value: yuan(c.amountFen),
        dateSigned: shanghaiDateTime(c.signedAt),
      }],
    });
  }

  return out.sort((a, b) => a.at.getTime() - b.at.getTime());
}
