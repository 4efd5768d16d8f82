import { formatShanghai } from '../shared/time';
import type { Bid } from './bids.repository';

/** What a bidder sees of its own bid: never the storage key, never the signature bytes. */
export interface BidView {
  id: string;
  tenderId: string;
  sectionId: string;
  status: Bid['status'];
  envelopeSha256: string;
  envelopeSize: number;
  signerCertificateSerial: string;
  receiptSerial: string;
  auditSeq: number;
  receivedAt: Date;
  receivedAtLocal: string;
  supersededAt: Date | null;
  supersededByBidId: string | null;
  withdrawnAt: Date | null;
}

export function bidView(b: Bid): BidView {
  return {
    id: b.id,
    tenderId: b.tenderId,
    sectionId: b.sectionId,
    status: b.status,
    envelopeSha256: b.envelopeSha256,
    envelopeSize: b.envelopeSize,
    signerCertificateSerial: b.signerCertificateSerial,
    receiptSerial: b.receiptSerial,
    auditSeq: b.auditSeq,
    receivedAt: b.receivedAt,
    receivedAtLocal: formatShanghai(b.receivedAt),
    supersededAt: b.supersededAt,
    supersededByBidId: b.supersededByBidId,
    withdrawnAt: b.withdrawnAt,
  };
}
