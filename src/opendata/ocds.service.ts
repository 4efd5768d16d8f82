/**
 * Open data: tenders, awards and contracts as OCDS 1.1 release packages, for anyone (the platform opens its data to
 * the public-service platform and the public: EB 8, 45). Only what is public at the moment of the request:
 *  - a tender from its publication on; a draft does not exist here (404), whoever asks;
 *  - the bidders only once their prices have been read at the opening (EB 30). Before that, who bid — even how
 *    many — is secret (TL 22; EB 27): the bids are not even read for a tender whose opening has not got that far;
 *  - awards once the award notice is issued (TL 45), contracts once recorded (TL 46).
 */
import type { Db } from '../db';
import type { Clock } from '../shared/clock';
import { DAY_MS } from '../shared/clock';
import type { ActionContext } from '../shared/access';
import { NotFound } from '../shared/errors';
import { OcdsNoReleases, OcdsRangeInvalid } from './ocds.errors';
import { LOTS_EXTENSION, OCDS_VERSION, releasesOf, shanghaiDateTime, type DatedRelease, type OcdsRelease, type TenderRecords } from './ocds.mapper';
import { ocdsRepository as repo, type OpeningState } from './ocds.repository';

/** The longest period one package of the release feed covers. */
export const MAX_RANGE_DAYS = 31;

/** Opening states before the prices are read: the bidders are still secret (EB 27, 30). */
const SEALED_STATES = new Set(['signing-in', 'decrypting']);

export interface OcdsSettings {
  /** OCDS_PREFIX: the publisher's ocid prefix. */
  prefix: string;
  /** The package's publisher (PLATFORM_NAME). */
  publisherName: string;
}

/** Where the package is served: its own URI and the API base its documents link to. */
export interface PackageLocation {
  uri: string;
  apiBase: string;
}

export interface ReleasePackage {
  uri: string;
  version: string;
  extensions: string[];
  publishedDate: string;
  publisher: { name: string };
  releases: OcdsRelease[];
}

export class OcdsService {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly settings: OcdsSettings,
  ) {}

  /** Every public release of one published tender. Public: `ctx` may have no actor. */
  async tenderPackage(_ctx: ActionContext, tenderId: string, at: PackageLocation): Promise<ReleasePackage> {
    const [records] = await this.records([tenderId]);
    if (!records) throw NotFound({ resource: '招标项目' });
    return this.pack(releasesOf(records, { prefix: this.settings.prefix, apiBase: at.apiBase }), at);
  }

  /** The releases of every published tender dated in [from, to), across tenders, in date order. */
  async releasesBetween(_ctx: ActionContext, from: Date, to: Date, at: PackageLocation): Promise<ReleasePackage> {
    if (from.getTime() >= to.getTime()) throw OcdsRangeInvalid({ reason: '起始时间应早于结束时间 (from is not before to)', maxDays: MAX_RANGE_DAYS });
    if (to.getTime() - from.getTime() > MAX_RANGE_DAYS * DAY_MS) {
      throw OcdsRangeInvalid({ reason: `时段超过 ${MAX_RANGE_DAYS} 天 (longer than ${MAX_RANGE_DAYS} days)`, maxDays: MAX_RANGE_DAYS });
    }
    const ids = await repo.tenderIdsWithEventsBetween(this.db, from, to);
    const inRange = (r: DatedRelease) => r.at.getTime() >= from.getTime() && r.at.getTime() < to.getTime();
    const releases = (await this.records(ids))
      .flatMap((records) => releasesOf(records, { prefix: this.settings.prefix, apiBase: at.apiBase }))
      .filter(inRange)
      .sort((a, b) => a.at.getTime() - b.at.getTime() || a.release.id.localeCompare(b.release.id));
    if (!releases.length) throw OcdsNoReleases();
    return this.pack(releases, at);
  }

  private pack(releases: DatedRelease[], at: PackageLocation): ReleasePackage {
    // generated on demand: the package is as new as its newest release (release-package schema, publishedDate)
    const newest = releases.reduce((max, r) => (r.at.getTime() > max ? r.at.getTime() : max), 0);
    return {
      uri: at.uri,
      version: OCDS_VERSION,
      extensions: [LOTS_EXTENSION],
      publishedDate: shanghaiDateTime(new Date(newest || this.clock.now().getTime())),
      publisher: { name: this.settings.publisherName },
      releases: releases.map((r) => r.release),
    };
  }

  /** The public records of the published tenders among `tenderIds`, in publication order. */
  private async records(tenderIds: string[]): Promise<TenderRecords[]> {
    const tenders = await repo.publishedTenders(this.db, tenderIds);
    if (!tenders.length) return [];
    const ids = tenders.map((t) => t.id);
    const [sections, documents, clarifications, openings, awards, contracts] = await Promise.all([
      repo.sections(this.db, ids),
      repo.documents(this.db, ids),
      repo.clarifications(this.db, ids),
      repo.openings(this.db, ids),
      repo.awards(this.db, ids),
      repo.contracts(this.db, ids),
    ]);
    const read = new Map(openings.filter(pricesRead).map((o) => [o.tenderId, o]));
    // EB 30: the bids of a tender are read only once its prices have been read out
    const bids = await repo.countedBids(this.db, [...read.keys()]);
    const orgIds = [
      ...tenders.flatMap((t) => [t.tendererOrgId, t.agencyOrgId]),
      ...bids.map((b) => b.bidderOrgId),
      ...awards.map((a) => a.winnerOrgId),
    ];
    const organisations = new Map((await repo.organisations(this.db, orgIds)).map((o) => [o.id, o]));
    const of = <T extends { tenderId: string }>(rows: T[], id: string) => rows.filter((r) => r.tenderId === id);
    return tenders.map((tender) => {
      const o = read.get(tender.id);
      return {
        tender,
        sections: of(sections, tender.id),
        documents: of(documents, tender.id),
        clarifications: of(clarifications, tender.id),
        opening: o
          ? { readAt: o.windowClosedAt!, bidders: of(bids, tender.id).map((b) => ({ orgId: b.bidderOrgId, sectionId: b.sectionId })), failedSectionIds: o.failedSectionIds }
          : null,
        awards: of(awards, tender.id),
        contracts: of(contracts, tender.id),
        organisations,
      };
    });
  }
}

/** The prices have been read (the window closed, EB 30): from then on the bidders are public. */
function pricesRead(o: OpeningState): boolean {
  return !SEALED_STATES.has(o.state) && o.windowClosedAt !== null;
}
