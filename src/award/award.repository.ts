/** The only knex for evaluations, candidates, publicities and their objections, awards and contracts. */
import type { Runner } from '../db';

export interface Evaluation {
  sectionId: string;
  tenderId: string;
  report: string;
  summary: string | null;
  recordedAt: Date;
  recordedBy: string;
}

export interface Candidate {
  sectionId: string;
  rank: number;
  bidderOrgId: string;
  bidId: string;
  priceFen: number;
}

export interface Publicity {
  sectionId: string;
  tenderId: string;
  startsAt: Date;
  endsAt: Date;
}

export interface PublicityObjection {
  id: string;
  sectionId: string;
  bidderOrgId: string;
  text: string;
  raisedAt: Date;
  answerDueAt: Date;
  answer: string | null;
  answeredAt: Date | null;
  /** Answered after its due time, or still open past it (TLR 54: three days). */
  late: boolean;
}

export interface Award {
  sectionId: string;
  tenderId: string;
  winnerOrgId: string;
  bidId: string;
  rank: number;
  reason: string | null;
  priceFen: number;
  noticeBlobKey: string;
  noticeSignature: Buffer;
  issuedAt: Date;
}

export interface Contract {
  sectionId: string;
  signedAt: Date;
  amountFen: number;
  late: boolean;
  recordedAt: Date;
}

type Row = Record<string, any>;
const date = (v: unknown) => (v ? new Date(v as string) : null);

const evaluation = (r: Row): Evaluation => ({
  sectionId: r.section_id,
  tenderId: r.tender_id,
  report: r.report,
  summary: r.summary ?? null,
  recordedAt: new Date(r.recorded_at),
  recordedBy: r.recorded_by,
});

const candidate = (r: Row): Candidate => ({
  sectionId: r.section_id,
  rank: Number(r.rank),
  bidderOrgId: r.bidder_org_id,
  bidId: r.bid_id,
  priceFen: Number(r.price_fen),
});

const publicity = (r: Row): Publicity => ({ sectionId: r.section_id, tenderId: r.tender_id, startsAt: new Date(r.starts_at), endsAt: new Date(r.ends_at) });

const objection = (r: Row, now: Date): PublicityObjection => {
  const due = new Date(r.answer_due_at);
  const answeredAt = date(r.answered_at);
  return {
    id: r.id,
    sectionId: r.section_id,
    bidderOrgId: r.bidder_org_id,
    text: r.text,
    raisedAt: new Date(r.raised_at),
    answerDueAt: due,
    answer: r.answer ?? null,
    answeredAt,
    late: (answeredAt ?? now).getTime() > due.getTime(),
  };
};

const award = (r: Row): Award => ({
  sectionId: r.section_id,
  tenderId: r.tender_id,
  winnerOrgId: r.winner_org_id,
  bidId: r.bid_id,
  rank: Number(r.rank),
  reason: r.reason ?? null,
  priceFen: Number(r.price_fen),
  noticeBlobKey: r.notice_blob_key,
  noticeSignature: Buffer.from(r.notice_signature),
  issuedAt: new Date(r.issued_at),
});

const contract = (r: Row): Contract => ({
  sectionId: r.section_id,
  signedAt: new Date(r.signed_at),
  amountFen: Number(r.amount_fen),
  late: Boolean(r.late),
  recordedAt: new Date(r.recorded_at),
});

export const awardRepository = {
  /** Serialises the award steps of one section (each use case locks the section row first). */
  async lockSection(db: Runner, sectionId: string): Promise<void> {
    await db('sections').where({ id: sectionId }).forUpdate().first();
  },

  async findEvaluation(db: Runner, sectionId: string): Promise<Evaluation | null> {
    const r = await db('evaluations').where({ section_id: sectionId }).first();
    return r ? evaluation(r) : null;
  },

  async insertEvaluation(
    db: Runner,
    e: { sectionId: string; tenderId: string; report: string; summary: string | null; at: Date; userId: string },
    candidates: Array<Omit<Candidate, 'sectionId'>>,
  ): Promise<void> {
    await db('evaluations').insert({ section_id: e.sectionId, tender_id: e.tenderId, report: e.report, summary: e.summary, recorded_at: e.at, recorded_by: e.userId });
    await db('candidates').insert(
      candidates.map((c) => ({ section_id: e.sectionId, rank: c.rank, bidder_org_id: c.bidderOrgId, bid_id: c.bidId, price_fen: c.priceFen })),
    );
  },

  async candidates(db: Runner, sectionId: string): Promise<Candidate[]> {
    return (await db('candidates').where({ section_id: sectionId }).orderBy('rank')).map(candidate);
  },

  async findPublicity(db: Runner, sectionId: string): Promise<Publicity | null> {
    const r = await db('publicities').where({ section_id: sectionId }).first();
    return r ? publicity(r) : null;
  },

  async insertPublicity(db: Runner, p: Publicity & { userId: string }): Promise<void> {
    await db('publicities').insert({ section_id: p.sectionId, tender_id: p.tenderId, starts_at: p.startsAt, ends_at: p.endsAt, published_by: p.userId });
  },

  async insertObjection(
    db: Runner,
    o: { sectionId: string; tenderId: string; bidderOrgId: string; userId: string; text: string; at: Date; dueAt: Date },
  ): Promise<PublicityObjection> {
    const [r] = await db('publicity_objections')
      .insert({
        section_id: o.sectionId,
        tender_id: o.tenderId,
        bidder_org_id: o.bidderOrgId,
        raised_by_user_id: o.userId,
        text: o.text,
        raised_at: o.at,
        answer_due_at: o.dueAt,
      })
      .returning('*');
    return objection(r, o.at);
  },

  async answerObjection(db: Runner, id: string, sectionId: string, answer: string, userId: string, at: Date): Promise<PublicityObjection | null> {
    const [r] = await db('publicity_objections')
      .where({ id, section_id: sectionId })
      .whereNull('answer')
      .update({ answer, answered_at: at, answered_by_user_id: userId })
      .returning('*');
    return r ? objection(r, at) : null;
  },

  async objections(db: Runner, sectionId: string, now: Date): Promise<PublicityObjection[]> {
    return (await db('publicity_objections').where({ section_id: sectionId }).orderBy('raised_at')).map((r: Row) => objection(r, now));
  },

  async findAward(db: Runner, sectionId: string): Promise<Award | null> {
    const r = await db('awards').where({ section_id: sectionId }).first();
    return r ? award(r) : null;
  },

  async insertAward(db: Runner, a: Award & { userId: string }): Promise<void> {
    await db('awards').insert({
      section_id: a.sectionId,
      tender_id: a.tenderId,
      winner_org_id: a.winnerOrgId,
      bid_id: a.bidId,
      rank: a.rank,
      reason: a.reason,
      price_fen: a.priceFen,
      notice_blob_key: a.noticeBlobKey,
      notice_signature: a.noticeSignature,
      issued_at: a.issuedAt,
      issued_by: a.userId,
    });
  },

  async findContract(db: Runner, sectionId: string): Promise<Contract | null> {
    const r = await db('contracts').where({ section_id: sectionId }).first();
    return r ? contract(r) : null;
  },

  async insertContract(db: Runner, c: Contract & { tenderId: string; userId: string }): Promise<void> {
    await db('contracts').insert({
      section_id: c.sectionId,
      tender_id: c.tenderId,
      signed_at: c.signedAt,
      amount_fen: c.amountFen,
      late: c.late,
      recorded_at: c.recordedAt,
      recorded_by: c.userId,
    });
  },

  /** Whether the section's winner has refused to sign (an `award.refusal` on the record). */
  async refused(db: Runner, tenderId: string, sectionId: string): Promise<boolean> {
    const row = await db('audit_events').where({ tender_id: tenderId, action: 'award.refusal' }).whereRaw(`payload->>'sectionId' = ?`, [sectionId]).first('seq');
    return row !== undefined;
  },

  /** Bidder organisations whose deposit for this section has already been released (e.g. withdrawn at the opening). */
  async releasedDeposits(db: Runner, tenderId: string, sectionId: string): Promise<Set<string>> {
    const rows = await db('audit_events').where({ tender_id: tenderId, action: 'deposit.release' }).select('payload');
    const payloads = rows.map((r: Row) => (typeof r.payload === 'string' ? JSON.parse(r.payload) : r.payload) as Record<string, unknown>);
    return new Set(payloads.filter((p: Record<string, unknown>) => p.sectionId === sectionId).map((p: Record<string, unknown>) => String(p.bidderOrgId)));
  },
};

/** The current bids of a section: who bid in it (their deposits) and who may object during its publicity. */
export async function currentSectionBids(db: Runner, sectionId: string): Promise<Array<{ id: string; bidderOrgId: string }>> {
  const rows = await db('bids').where({ section_id: sectionId, status: 'current' }).select('id', 'bidder_org_id').orderBy('received_at');
  return rows.map((r: Row) => ({ id: r.id, bidderOrgId: r.bidder_org_id }));
}
