/** A tender as the API returns it (GET /tenders, /tenders/:id): the shapes every page reads. */

export interface TenderSection {
  id: string;
  seq: number;
  name: string;
  estimatedPriceFen: number;
  depositFen: number;
}

export interface TenderSummary {
  id: string;
  code: string;
  name: string;
  type: 'construction' | 'procurement';
  status: 'draft' | 'published' | 'sealed' | 'terminated';
  tendererOrgId: string;
  agencyOrgId: string;
  region: string | null;
  bidDeadline: string;
  documentsIssuedAt: string | null;
  publishedAt: string | null;
  sealedAt: string | null;
  sections: TenderSection[];
}

export interface TenderDocument {
  id: string;
  fileName: string;
  contentType: string;
  sizeBytes: number;
  sha256: string;
  uploadedAt: string;
}

/** 澄清/修改; deadlineAfter differs from deadlineBefore when it postponed the deadline (TLR 21). */
export interface Clarification {
  id: string;
  seq: number;
  title: string;
  body: string;
  affectsBidPreparation: boolean;
  issuedAt: string;
  deadlineBefore: string;
  deadlineAfter: string;
}

/** Whether a clarification postponed the bid deadline (the platform applies TLR 21; pages show old → new). */
export function deadlineMoved(c: Pick<Clarification, 'deadlineBefore' | 'deadlineAfter'>): boolean {
  return Date.parse(c.deadlineAfter) !== Date.parse(c.deadlineBefore);
}
