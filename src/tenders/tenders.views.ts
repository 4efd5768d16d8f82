/** What the API shows of a tender: its summary in lists, its whole in its page; amounts also in yuan, times also in Beijing time. */
import { formatYuan } from '../shared/money';
import { formatShanghai } from '../shared/time';
import type { TenderType } from './tenders.rules';
import type { Clarification, DecryptionFailurePolicy, Section, Tender, TenderDocument, TenderStatus } from './tenders.repository';

export interface SectionView extends Omit<Section, 'tenderId'> {
  estimatedPriceYuan: string;
  depositYuan: string;
}

export interface TenderSummary {
  id: string;
  code: string;
  name: string;
  type: TenderType;
  status: TenderStatus;
  tendererOrgId: string;
  agencyOrgId: string;
  region: string | null;
  bidDeadline: Date;
  /** The opening time is the bid deadline (TL 34), shown in Asia/Shanghai. */
  bidDeadlineLocal: string;
  documentsIssuedAt: Date | null;
  publishedAt: Date | null;
  sealedAt: Date | null;
  sections: SectionView[];
}

export interface TenderDetail extends TenderSummary {
  description: string;
  documents: Array<Omit<TenderDocument, 'blobKey'>>;
  clarifications: Clarification[];
  custodianOrgIds: string[];
  custodianThreshold: number;
  decryptionWindowMinutes: number;
  decryptionFailurePolicy: DecryptionFailurePolicy;
  originalDeadline: Date;
  terminationReason: string | null;
}

export function summarise(t: Tender, sections: Section[]): TenderSummary {
  return {
    id: t.id,
    code: t.code,
    name: t.name,
    type: t.type,
    status: t.status,
    tendererOrgId: t.tendererOrgId,
    agencyOrgId: t.agencyOrgId,
    region: t.region,
    bidDeadline: t.bidDeadline,
    bidDeadlineLocal: formatShanghai(t.bidDeadline),
    documentsIssuedAt: t.documentsIssuedAt,
    publishedAt: t.publishedAt,
    sealedAt: t.sealedAt,
    sections: sections.map(({ tenderId: _t, ...s }) => ({
      ...s,
      estimatedPriceYuan: formatYuan(s.estimatedPriceFen),
      depositYuan: formatYuan(s.depositFen),
    })),
  };
}


/** The whole of a tender as its page shows it: the summary, documents (without where they are stored), clarifications. */
export function detailOf(
  t: Tender,
  sections: Section[],
  documents: TenderDocument[],
  clarifications: Clarification[],
  custodianOrgIds: string[],
): TenderDetail {
  return {
    ...summarise(t, sections),
    description: t.description,
    documents: documents.map(({ blobKey: _blobKey, ...d }) => d),
    clarifications,
    custodianOrgIds,
    custodianThreshold: t.custodianThreshold,
    decryptionWindowMinutes: t.decryptionWindowMinutes,
    decryptionFailurePolicy: t.decryptionFailurePolicy,
    originalDeadline: t.originalDeadline,
    terminationReason: t.terminationReason,
  };
}
