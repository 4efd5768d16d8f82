/**
 * Tenders (招标项目): drafting, publication (the documents are issued), clarifications that may postpone the
 * deadline, termination, listing and detail. One transaction per use case; the audit event and any job it causes
 * commit with the change.
 */
import type { Readable } from 'node:stream';
import crypto from 'node:crypto';
import type { Db, Runner } from '../db';
import type { Clock } from '../shared/clock';
import { requireActor, seesEverything, type ActionContext, type Actor } from '../shared/access';
import { NotFound } from '../shared/errors';
import { depositCapFen } from '../shared/money';
import { formatShanghai } from '../shared/time';
import type { BlobStore } from '../shared/blobs';
import { enqueueInTrx } from '../shared/queue/outbox.repository';
import type { AuditService } from '../monitoring/audit.service';
import type { DepositReleases } from '../deposits/deposit-releases';
import { identityRepository } from '../identity/identity.repository';
import {
  CustodiansInvalid,
  DeadlineInPast,
  DeadlineMovedEarlier,
  DeadlineTooClose,
  DepositAboveCap,
  OrganisationTypeMismatch,
  TenderAfterDeadline,
  TenderDocumentsMissing,
  TenderNotDraft,
  TenderNotOpenForBids,
} from './tenders.errors';
import {
  deadlineAfterClarification,
  deadlineAllowed,
  depositAllowed,
  earliestDeadline,
  TYPE_RULES,
  type TenderType,
} from './tenders.rules';
import {
  tendersRepository as repo,
  type Clarification,
  type DecryptionFailurePolicy,
  type Tender,
  type TenderDocument,
  type TenderStatus,
} from './tenders.repository';
import { SEAL_JOB } from './tenders.jobs';
import { canSeeTender } from './tender-access';
import { detailOf, summarise, type TenderDetail, type TenderSummary } from './tenders.views';

export type { SectionView, TenderDetail, TenderSummary } from './tenders.views';
import type { CustodyService } from '../custody/custody.service';
import { custodyRepository } from '../custody/custody.repository';
import { CustodianCertificateMissing } from '../custody/custody.errors';

export interface SectionInput {
  name: string;
  estimatedPriceFen: number;
  depositFen: number;
}

export interface TenderInput {
  name: string;
  type: TenderType;
  tendererOrgId: string;
  region?: string;
  description?: string;
  bidDeadline: Date;
  decryptionWindowMinutes: number;
  decryptionFailurePolicy: DecryptionFailurePolicy;
  custodianThreshold?: number;
  custodianOrgIds?: string[];
  sections: SectionInput[];
}

export const MAX_DOCUMENT_BYTES = 200 * 1024 * 1024;
const DEFAULT_THRESHOLD = 2;

export class TenderService {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly audit: AuditService,
    private readonly blobs: BlobStore,
    private readonly custody: CustodyService,
    /** Terminating a tender releases every deposit paid for it (TLR 31; GP87 29). */
    private readonly releases: DepositReleases,
  ) {}

  // ---- access -------------------------------------------------------------------------------------------------

  private async visible(actor: Actor, id: string, db: Runner = this.db, forUpdate = false): Promise<Tender> {
    const t = await repo.findTender(db, id, { forUpdate });
    if (!t || !canSeeTender(actor, t)) throw NotFound({ resource: '招标项目' });
    return t;
  }

  /** Only the agency running the tender manages it; to anyone else it is another organisation's record. */
  private async managed(actor: Actor, id: string, db: Runner): Promise<Tender> {
    const t = await repo.findTender(db, id, { forUpdate: true });
    if (!t || t.agencyOrgId !== actor.orgId) throw NotFound({ resource: '招标项目' });
    return t;
  }

  // ---- rules --------------------------------------------------------------------------------------------------

  private checkSections(sections: SectionInput[]): void {
    sections.forEach((s, i) => {
      if (!depositAllowed(s.estimatedPriceFen, s.depositFen)) {
        throw DepositAboveCap({ section: i + 1, depositFen: s.depositFen, capFen: depositCapFen(s.estimatedPriceFen) });
      }
    });
  }

  private checkDeadline(type: TenderType, issuedAt: Date, deadline: Date): void {
    if (deadline.getTime() <= this.clock.now().getTime()) throw DeadlineInPast();
    if (!deadlineAllowed(type, issuedAt, deadline)) {
      const earliest = earliestDeadline(type, issuedAt);
      throw DeadlineTooClose(
        { earliest: earliest.toISOString(), earliestLocal: formatShanghai(earliest) },
        { basis: TYPE_RULES[type].minDaysBasis },
      );
    }
  }

  private async checkTenderer(db: Runner, orgId: string): Promise<void> {
    const org = await identityRepository.findOrganisation(db, orgId);
    if (!org || org.type !== 'tenderer') throw OrganisationTypeMismatch({ field: 'tendererOrgId', expected: '招标人' });
  }

  /**
   * The opening key is split k-of-n among custodians (default 2-of-3: the agency, a regulator, the trading centre),
   * so no single party can open a bid before the deadline (EB 27).
   */
  private async resolveCustodians(db: Runner, actor: Actor, ids: string[] | undefined, threshold: number): Promise<string[]> {
    let custodians = ids;
    if (!custodians) {
      const regulator = (await identityRepository.listOrganisations(db, { type: 'regulator' }))[0];
      const operator = (await identityRepository.listOrganisations(db, { type: 'operator' }))[0];
      custodians = [actor.orgId, regulator?.id, operator?.id].filter((x): x is string => Boolean(x));
    }
    if (new Set(custodians).size !== custodians.length) throw CustodiansInvalid({ reason: '单位重复' });
    for (const id of custodians) {
      const org = await identityRepository.findOrganisation(db, id);
      if (!org || !['agency', 'regulator', 'operator', 'tenderer'].includes(org.type)) {
        throw CustodiansInvalid({ reason: '保管单位须为代理机构、招标人、监管部门或交易中心' });
      }
      // said now rather than at publication: each share will be sealed to one of the custodian's encryption certificates
      if (!(await custodyRepository.custodianCertificate(db, id, this.clock.now()))) {
        throw CustodianCertificateMissing({ organisationId: id, organisationName: org.name });
      }
    }
    if (threshold < 2 || threshold > custodians.length) {
      throw CustodiansInvalid({ reason: `门限须在 2 与保管单位数 ${custodians.length} 之间` });
    }
    return custodians;
  }

  // ---- use cases ----------------------------------------------------------------------------------------------

  async create(ctx: ActionContext, input: TenderInput): Promise<TenderDetail> {
    const actor = requireActor(ctx, 'agency');
    this.checkSections(input.sections);
    // the documents are issued at publication at the earliest: check against now for early feedback
    this.checkDeadline(input.type, this.clock.now(), input.bidDeadline);
    const threshold = input.custodianThreshold ?? DEFAULT_THRESHOLD;
    const id = await this.db.transaction(async (trx) => {
      await this.checkTenderer(trx, input.tendererOrgId);
      const custodians = await this.resolveCustodians(trx, actor, input.custodianOrgIds, threshold);
      const now = this.clock.now();
      const n = await repo.nextCodeNumber(trx);
      const prefix = input.type === 'construction' ? 'JS' : 'CG';
      const code = `${prefix}-${now.getUTCFullYear()}-${String(n).padStart(5, '0')}`;
      const tender = await repo.insertTender(trx, {
        code,
        name: input.name,
        type: input.type,
        tendererOrgId: input.tendererOrgId,
        agencyOrgId: actor.orgId,
        region: input.region ?? null,
        description: input.description ?? '',
        bidDeadline: input.bidDeadline,
        originalDeadline: input.bidDeadline,
        decryptionWindowMinutes: input.decryptionWindowMinutes,
        decryptionFailurePolicy: input.decryptionFailurePolicy,
        custodianThreshold: threshold,
        createdByUserId: actor.userId,
        createdAt: now,
      });
      await repo.insertSections(trx, tender.id, input.sections.map((s, i) => ({ ...s, seq: i + 1 })));
      await repo.setCustodians(trx, tender.id, custodians);
      await this.audit.append(trx, ctx, {
        action: 'tender.create',
        objectType: 'tender',
        objectId: tender.id,
        tenderId: tender.id,
        payload: { code, name: input.name, type: input.type, bidDeadline: input.bidDeadline.toISOString(), sections: input.sections },
      });
      return tender.id;
    });
    return this.get(ctx, id);
  }

  async update(ctx: ActionContext, id: string, patch: Partial<TenderInput>): Promise<TenderDetail> {
    const actor = requireActor(ctx, 'agency');
    await this.db.transaction(async (trx) => {
      const t = await this.managed(actor, id, trx);
      if (t.status !== 'draft') throw TenderNotDraft({ status: t.status });
      const type = patch.type ?? t.type;
      const deadline = patch.bidDeadline ?? t.bidDeadline;
      if (patch.sections) this.checkSections(patch.sections);
      if (patch.bidDeadline || patch.type) this.checkDeadline(type, this.clock.now(), deadline);
      if (patch.tendererOrgId) await this.checkTenderer(trx, patch.tendererOrgId);
      const threshold = patch.custodianThreshold ?? t.custodianThreshold;
      if (patch.custodianOrgIds || patch.custodianThreshold) {
        const current = patch.custodianOrgIds ?? (await repo.listCustodians(trx, id));
        await repo.setCustodians(trx, id, await this.resolveCustodians(trx, actor, current, threshold));
      }
      const now = this.clock.now();
      await repo.updateTender(
        trx,
        id,
        {
          name: patch.name ?? t.name,
          type,
          tenderer_org_id: patch.tendererOrgId ?? t.tendererOrgId,
          region: patch.region ?? t.region,
          description: patch.description ?? t.description,
          bid_deadline: deadline,
          original_deadline: deadline,
          decryption_window_minutes: patch.decryptionWindowMinutes ?? t.decryptionWindowMinutes,
          decryption_failure_policy: patch.decryptionFailurePolicy ?? t.decryptionFailurePolicy,
          custodian_threshold: threshold,
        },
        now,
      );
      if (patch.sections) {
        await repo.deleteSections(trx, id);
        await repo.insertSections(trx, id, patch.sections.map((s, i) => ({ ...s, seq: i + 1 })));
      }
      const { sections, ...rest } = patch;
      await this.audit.append(trx, ctx, {
        action: 'tender.update',
        objectType: 'tender',
        objectId: id,
        tenderId: id,
        payload: { ...rest, bidDeadline: patch.bidDeadline?.toISOString(), sections },
      });
    });
    return this.get(ctx, id);
  }

  /**
   * Publication issues the documents: from this moment the 20 days of TL 24 run, and the deadline seals the tender
   * by itself through a job written to the outbox in this same transaction.
   */
  async publish(ctx: ActionContext, id: string): Promise<TenderDetail> {
    const actor = requireActor(ctx, 'agency');
    await this.db.transaction(async (trx) => {
      const t = await this.managed(actor, id, trx);
      if (t.status !== 'draft') throw TenderNotDraft({ status: t.status });
      if ((await repo.listDocuments(trx, id)).length === 0) throw TenderDocumentsMissing();
      const now = this.clock.now();
      this.checkDeadline(t.type, now, t.bidDeadline);
      // the opening key is made, certified, split among the custodians and forgotten in this same transaction
      const { certificateSerial } = await this.custody.createForTender(trx, ctx, t);
      await repo.updateTender(
        trx,
        id,
        { status: 'published', published_at: now, documents_issued_at: now, opening_certificate_serial: certificateSerial },
        now,
      );
      await this.scheduleSeal(trx, id, t.bidDeadline);
      await this.audit.append(trx, ctx, {
        action: 'tender.publish',
        objectType: 'tender',
        objectId: id,
        tenderId: id,
        payload: { documentsIssuedAt: now.toISOString(), bidDeadline: t.bidDeadline.toISOString() },
      });
    });
    return this.get(ctx, id);
  }

  private async scheduleSeal(trx: Runner, tenderId: string, deadline: Date): Promise<void> {
    await enqueueInTrx(trx, { ...SEAL_JOB, payload: { tenderId }, runAt: deadline });
  }

  /**
   * TLR 21 / TL 23 / GP87 27: a clarification or amendment that may affect bid preparation, issued fewer than 15 days
   * before the deadline, postpones it. The agency may choose a later deadline, never an earlier one.
   */
  async clarify(
    ctx: ActionContext,
    id: string,
    input: { title: string; body: string; affectsBidPreparation: boolean; newDeadline?: Date },
  ): Promise<{ clarification: Clarification; tender: TenderDetail; deadlinePostponed: boolean }> {
    const actor = requireActor(ctx, 'agency');
    const clarification = await this.db.transaction(async (trx) => {
      const t = await this.managed(actor, id, trx);
      if (t.status !== 'published') throw TenderNotOpenForBids({ status: t.status });
      const now = this.clock.now();
      if (now.getTime() >= t.bidDeadline.getTime()) throw TenderAfterDeadline();
      const required = deadlineAfterClarification(t.bidDeadline, now, input.affectsBidPreparation);
      const chosen = input.newDeadline ?? required;
      if (chosen.getTime() < required.getTime()) throw DeadlineMovedEarlier({ required: required.toISOString() });
      const c = await repo.insertClarification(trx, {
        tenderId: id,
        title: input.title,
        body: input.body,
        affectsBidPreparation: input.affectsBidPreparation,
        issuedAt: now,
        deadlineBefore: t.bidDeadline,
        deadlineAfter: chosen,
        issuedByUserId: actor.userId,
      });
      if (chosen.getTime() !== t.bidDeadline.getTime()) {
        await repo.updateTender(trx, id, { bid_deadline: chosen }, now);
        await this.scheduleSeal(trx, id, chosen);
      }
      await this.audit.append(trx, ctx, {
        action: 'tender.clarify',
        objectType: 'clarification',
        objectId: c.id,
        tenderId: id,
        payload: {
          seq: c.seq,
          title: c.title,
          affectsBidPreparation: c.affectsBidPreparation,
          deadlineBefore: c.deadlineBefore.toISOString(),
          deadlineAfter: c.deadlineAfter.toISOString(),
        },
      });
      return c;
    });
    return {
      clarification,
      tender: await this.get(ctx, id),
      deadlinePostponed: clarification.deadlineAfter.getTime() !== clarification.deadlineBefore.getTime(),
    };
  }

  /** TLR 31: the tenderer may terminate before the opening; deposits are then refunded (the deposits work pays them). */
  async terminate(ctx: ActionContext, id: string, reason: string): Promise<TenderDetail> {
    const actor = requireActor(ctx, 'agency');
    await this.db.transaction(async (trx) => {
      const t = await this.managed(actor, id, trx);
      if (t.status !== 'draft' && t.status !== 'published') throw TenderNotOpenForBids({ status: t.status });
      const now = this.clock.now();
      await repo.updateTender(trx, id, { status: 'terminated', terminated_at: now, termination_reason: reason }, now);
      await this.audit.append(trx, ctx, {
        action: 'tender.terminate',
        objectType: 'tender',
        objectId: id,
        tenderId: id,
        payload: { reason, previousStatus: t.status },
      });
      await this.releases.releaseTender(trx, ctx, id, 'tender-terminated');
    });
    return this.get(ctx, id);
  }

  /** The deadline job: the tender is sealed (no more submissions) once platform time reaches its deadline. */
  async sealIfDue(tenderId: string, ctx: ActionContext): Promise<'sealed' | 'not-due' | 'not-published'> {
    return this.db.transaction(async (trx) => {
      const t = await repo.findTender(trx, tenderId, { forUpdate: true });
      if (!t || t.status !== 'published') return 'not-published';
      const now = this.clock.now();
      // a clarification may have postponed the deadline since this job was written; its own job seals it then
      if (now.getTime() < t.bidDeadline.getTime()) return 'not-due';
      await repo.updateTender(trx, tenderId, { status: 'sealed', sealed_at: now }, now);
      await this.audit.append(trx, ctx, {
        action: 'tender.seal',
        objectType: 'tender',
        objectId: tenderId,
        tenderId,
        payload: { bidDeadline: t.bidDeadline.toISOString() },
      });
      return 'sealed';
    });
  }

  /** For jobs, which act for nobody in particular. */
  findForJob(id: string): Promise<Tender | null> {
    return repo.findTender(this.db, id);
  }

  // ---- documents ----------------------------------------------------------------------------------------------

  async uploadDocument(
    ctx: ActionContext,
    id: string,
    file: { fileName: string; contentType: string; body: Readable },
  ): Promise<TenderDocument> {
    const actor = requireActor(ctx, 'agency');
    const t = await repo.findTender(this.db, id);
    if (!t || t.agencyOrgId !== actor.orgId) throw NotFound({ resource: '招标项目' });
    if (t.status !== 'draft') throw TenderNotDraft({ status: t.status });
    const blobKey = `tenders/${id}/documents/${crypto.randomUUID()}`;
    const stored = await this.blobs.put(blobKey, file.body, { maxBytes: MAX_DOCUMENT_BYTES });
    try {
      return await this.db.transaction(async (trx) => {
        const locked = await this.managed(actor, id, trx);
        if (locked.status !== 'draft') throw TenderNotDraft({ status: locked.status });
        const doc = await repo.insertDocument(trx, {
          tenderId: id,
          fileName: file.fileName,
          contentType: file.contentType,
          sizeBytes: stored.size,
          sha256: stored.sha256,
          blobKey,
          uploadedAt: this.clock.now(),
          uploadedByUserId: actor.userId,
        });
        await this.audit.append(trx, ctx, {
          action: 'tender.document.upload',
          objectType: 'tender_document',
          objectId: doc.id,
          tenderId: id,
          payload: { fileName: doc.fileName, size: doc.sizeBytes, sha256: doc.sha256 },
        });
        return doc;
      });
    } catch (err) {
      await this.blobs.delete(blobKey);
      throw err;
    }
  }

  /** Downloads are recorded (EB 49; the monitoring compares the addresses bidders download from). */
  async openDocument(ctx: ActionContext, id: string, documentId: string): Promise<{ document: TenderDocument; body: NodeJS.ReadableStream }> {
    const actor = requireActor(ctx);
    const t = await this.visible(actor, id);
    const doc = await repo.findDocument(this.db, t.id, documentId);
    if (!doc) throw NotFound({ resource: '招标文件' });
    await this.audit.record(ctx, {
      action: 'tender.document.download',
      objectType: 'tender_document',
      objectId: doc.id,
      tenderId: t.id,
      payload: { sha256: doc.sha256 },
    });
    return { document: doc, body: await this.blobs.get(doc.blobKey) };
  }

  // ---- reads --------------------------------------------------------------------------------------------------

  async list(
    ctx: ActionContext,
    query: { status?: TenderStatus; type?: TenderType; q?: string; mine?: boolean; page: number; pageSize: number },
  ): Promise<{ items: TenderSummary[]; total: number; page: number; pageSize: number }> {
    const actor = requireActor(ctx);
    const { items, total } = await repo.listTenders(this.db, {
      visibleToOrgId: seesEverything(actor) ? undefined : actor.orgId,
      involvingOrgId: query.mine ? actor.orgId : undefined,
      status: query.status,
      type: query.type,
      q: query.q,
      limit: query.pageSize,
      offset: (query.page - 1) * query.pageSize,
    });
    const sections = await repo.sectionsOf(this.db, items.map((t) => t.id));
    return {
      items: items.map((t) => summarise(t, sections.filter((s) => s.tenderId === t.id))),
      total,
      page: query.page,
      pageSize: query.pageSize,
    };
  }

  async get(ctx: ActionContext, id: string): Promise<TenderDetail> {
    const actor = requireActor(ctx);
    const t = await this.visible(actor, id);
    const [sections, documents, clarifications, custodians] = await Promise.all([
      repo.listSections(this.db, id),
      repo.listDocuments(this.db, id),
      repo.listClarifications(this.db, id),
      repo.listCustodians(this.db, id),
    ]);
    return detailOf(t, sections, documents, clarifications, custodians);
  }
}
