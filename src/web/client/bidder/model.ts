/**
 * What the bidder's pages read from the API, and the platform's clock. Every list here is the signed-in
 * organisation's own (the API scopes /bids and /deposits/mine to it) or public (published tenders).
 */
import { get } from '../lib/api';
import type { PlatformClock } from '../lib/clock';
import type { Clarification, TenderDocument, TenderSection as SectionView, TenderSummary } from '../lib/tender';

export type { Clarification, SectionView, TenderDocument, TenderSummary };

export interface TenderDetail extends TenderSummary {
  description: string;
  documents: TenderDocument[];
  clarifications: Clarification[];
  originalDeadline: string;
}

export interface Bid {
  id: string;
  tenderId: string;
  sectionId: string;
  status: 'current' | 'superseded' | 'withdrawn';
  envelopeSha256: string;
  envelopeSize: number;
  receiptSerial: string;
  auditSeq: number;
  receivedAt: string;
  supersededAt: string | null;
  withdrawnAt: string | null;
}

export interface Refund {
  refundId: string;
  status: 'due' | 'sending' | 'paid' | 'failed' | 'forfeited';
  reason: string;
  releasedAt: string;
  dueAt: string;
  dueEstimated: boolean;
  principalFen: number;
  interestFen: number | null;
  toAccountNo: string | null;
  fallback: boolean;
  paidAt: string | null;
  onTime: boolean | null;
  failureCode: string | null;
  forfeitBasis: string | null;
  voucher: boolean;
}

export interface Deposit {
  tenderId: string;
  tenderCode: string;
  tenderName: string;
  sectionId: string;
  accountNo: string;
  bankName: string;
  requiredFen: number;
  payBy: string;
  status: 'unpaid' | 'short' | 'paid' | 'over';
  statusLabel: string;
  paidFen: number;
  credits: Array<{ txnId: string; amountFen: number; payerAccountNo: string; bookedAt: string; findings: string[] }>;
  refunds: Refund[];
}

/** One decryption state of an own bid at the opening (GET /tenders/:id/opening → myBids). */
export interface OwnDecryption {
  bidId: string;
  decryption: string;
  outcome: string | null;
}


export interface BidderData {
  open: TenderDetail[];
  bids: Bid[];
  deposits: Deposit[];
  /** every tender the page names (open ones, and those of own bids and deposits), by id */
  tenders: Map<string, TenderDetail>;
  /** decryption states of own bids in tenders whose opening has begun */
  decryptions: Map<string, OwnDecryption>;
  creditCode: string | null;
}

async function detail(id: string): Promise<TenderDetail | null> {
  try {
    return await get<TenderDetail>(`/tenders/${id}`);
  } catch {
    return null; // a tender withdrawn from view; its bids still show, under their id
  }
}

const PAGE_SIZE = 100;
const MAX_PAGES = 20;

/** Every published tender, page by page. */
async function publishedTenders(): Promise<TenderSummary[]> {
  const all: TenderSummary[] = [];
  for (let page = 1; page <= MAX_PAGES; page++) {
    const res = await get<{ items: TenderSummary[]; total: number }>(`/tenders?status=published&pageSize=${PAGE_SIZE}&page=${page}`);
    all.push(...res.items);
    if (all.length >= res.total || res.items.length < PAGE_SIZE) break;
  }
  return all;
}

export async function loadAll(clock: PlatformClock): Promise<BidderData> {
  const [published, , bids, deposits, me] = await Promise.all([
    publishedTenders(),
    clock.sync(),
    get<Bid[]>('/bids'),
    get<Deposit[]>('/deposits/mine'),
    get<{ organisation: { creditCode?: string } }>('/me'),
  ]);
  const openIds = published.filter((t) => Date.parse(t.bidDeadline) > clock.now()).map((t) => t.id);
  const ids = [...new Set([...openIds, ...bids.map((b) => b.tenderId), ...deposits.map((d) => d.tenderId)])];
  const details = await Promise.all(ids.map(detail));
  const tenders = new Map(details.filter((d): d is TenderDetail => d !== null).map((d) => [d.id, d]));

  // after the deadline, whether each own bid was opened is in the opening's view of it
  const decryptions = new Map<string, OwnDecryption>();
  const sealed = [...new Set(bids.map((b) => b.tenderId))].filter((id) => {
    const t = tenders.get(id);
    return t && t.status === 'sealed';
  });
  await Promise.all(
    sealed.map(async (id) => {
      try {
        const view = await get<{ myBids?: OwnDecryption[] }>(`/tenders/${id}/opening`);
        for (const d of view.myBids ?? []) decryptions.set(d.bidId, d);
      } catch {
        /* the opening has not begun yet: nothing to add */
      }
    }),
  );

  return {
    open: openIds.map((id) => tenders.get(id)).filter((t): t is TenderDetail => t !== undefined),
    bids,
    deposits,
    tenders,
    decryptions,
    creditCode: me.organisation.creditCode ?? null,
  };
}

export function sectionOf(data: BidderData, tenderId: string, sectionId: string): SectionView | undefined {
  return data.tenders.get(tenderId)?.sections.find((s) => s.id === sectionId);
}

/** "西安市…工程 · 第1标段 土建" for a bid or a deposit. */
export function sectionLabel(data: BidderData, tenderId: string, sectionId: string): string {
  const t = data.tenders.get(tenderId);
  const s = sectionOf(data, tenderId, sectionId);
  return `${t ? `${t.name}（${t.code}）` : tenderId} · ${s ? `第${s.seq}标段 ${s.name}` : sectionId}`;
}
