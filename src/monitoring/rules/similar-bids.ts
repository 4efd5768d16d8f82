/**
 * Bids of different bidders that are abnormally alike (TLR 40(4) 投标文件异常一致) or carry one another's material
 * (TLR 40(5) 相互混装), read from the decrypted packages once the bids are opened:
 * - the same file (same SHA-256 in both manifests, of any type) in the bids of different bidders;
 * - near-duplicate text documents (MinHash + LSH, similarity ≥ minSimilarity);
 * - one bidder's text inside another's (winnowing fingerprints, containment ≥ minContainment).
 * Sketches are made per bid as its text streams out (see ../similarity); only candidate pairs are read again and
 * verified on their text. Material that more than `boilerplateShare` of the bidders carry (forms and clauses of the
 * tender documents) is boilerplate and counts for nothing. Findings name documents by path and hash, give the
 * figures and quote at most one short passage both contain — never the documents themselves.
 */
import type { ManifestDocument } from '../../../crypto/package/manifest';
import { boilerplateLimit, similarPairs, type SimilarPair } from '../similarity/compare';
import { intersectSorted } from '../similarity/containment';
import { BidPackageText } from '../similarity/package-text';
import { Sketcher, type Sketch } from '../similarity/sketch';
import { verifyPair, type Verified } from '../similarity/verify';
import type { BlobStore } from '../../shared/blobs';
import { bidsEvidenceRepository, type OpenedBid } from './bids-evidence.repository';
import { defineRule, setKey, type Finding } from './rule';

const MiB = 1024 * 1024;

interface Doc {
  bid: OpenedBid;
  path: string;
  sha256: string | null;
  sketch: Sketch;
}

type Kind = 'near-duplicate' | 'containment';

const seqsOf = (bids: OpenedBid[]) => bids.map((b) => b.decryptedSeq).filter((s): s is number => s !== null);
const docRef = (bid: OpenedBid, path: string, sha256: string | null) => ({ orgId: bid.bidderOrgId, bidId: bid.bidId, path, sha256 });
const round = (x: number) => Math.round(x * 1000) / 1000;

export default defineRule({
  id: 'similar-bids',
  basis: '《招标投标法实施条例》第四十条第（四）（五）项：不同投标人的投标文件异常一致或者相互混装 (TLR 40(4)(5))',
  description: '同一项目中不同投标人的投标文件含相同文件、内容高度相似，或一家的材料出现在另一家的投标文件中（模板等多数投标人共有的内容除外）',
  defaults: {
    minSimilarity: 0.8,
    minContainment: 0.5,
    shingleChars: 10,
    minDocChars: 200,
    minIdenticalBytes: 1024,
    boilerplateShare: 0.5,
    maxDocMiB: 20,
    maxVerifiedPairs: 50,
  },
  async onOpened(tenderId, env, th) {
    const bids = await bidsEvidenceRepository.openedBids(env.db, tenderId);
    const orgIds = [...new Set(bids.map((b) => b.bidderOrgId))];
    if (orgIds.length < 2) return [];
    const maxGroups = boilerplateLimit(orgIds.length, th.boilerplateShare);
    const findings = identicalFiles(tenderId, bids, th.minIdenticalBytes, maxGroups);

    const docs = await sketchBids(env.blobs, bids, th);
    const groups = docs.map((d) => orgIds.indexOf(d.bid.bidderOrgId));
    const comparison = similarPairs(
      docs.map((d) => d.sketch),
      groups,
      { minSimilarity: th.minSimilarity, minContainment: th.minContainment, maxGroups },
    );
    const candidates = comparison.pairs
      // the same file is evidence already, as an identical file
      .filter((p) => !(docs[p.i]!.sha256 && docs[p.i]!.sha256 === docs[p.j]!.sha256 && sizeOf(docs[p.i]!) >= th.minIdenticalBytes))
      .sort((a, b) => strength(b) - strength(a))
      .slice(0, th.maxVerifiedPairs);
    const verified = await verifyCandidates(env.blobs, docs, candidates, comparison.boilerplate, th);

    const byPair = new Map<string, { kind: Kind; a: OpenedBid; b: OpenedBid; pairs: Array<{ p: SimilarPair; v: Verified }> }>();
    for (const { p, v } of verified) {
      const kind: Kind | null = v.similarity >= th.minSimilarity ? 'near-duplicate' : Math.max(v.containmentAinB, v.containmentBinA) >= th.minContainment ? 'containment' : null;
      if (!kind) continue;
      const [a, b] = [docs[p.i]!.bid, docs[p.j]!.bid];
      const key = `${kind}:${setKey([a.bidderOrgId, b.bidderOrgId])}`;
      const entry = byPair.get(key) ?? { kind, a, b, pairs: [] };
      entry.pairs.push({ p, v });
      byPair.set(key, entry);
    }
    for (const { kind, a, b, pairs } of byPair.values()) {
      const orgs = [a.bidderOrgId, b.bidderOrgId].sort();
      const top = pairs[0]!;
      findings.push({
        key: `${tenderId}:${kind}:${setKey(orgs)}`,
        severity: 'high',
        title: kind === 'near-duplicate' ? `2家投标人的投标文件内容高度相似（${pairs.length}份文件）` : `一家投标人的投标文件含另一家的材料（${pairs.length}份文件）`,
        tenderId,
        orgIds: orgs,
        auditSeqs: seqsOf([a, b]),
        fields: {
          kind,
          documents: pairs.map(({ p, v }) => oriented(docs, p, v, kind)),
          excerpt: top.v.excerpt,
          thresholds: { minSimilarity: th.minSimilarity, minContainment: th.minContainment, shingleChars: th.shingleChars },
        },
      });
    }
    return findings;
  },
});

/**
 * A document pair as the alert shows it: for containment, `a` is the document whose material is inside `b`; for near
 * duplicates, `a` is the one of the bidder whose id sorts first (a stable order whichever bid was received first).
 */
function oriented(docs: Doc[], p: SimilarPair, v: Verified, kind: Kind) {
  const swap = kind === 'containment' ? v.containmentBinA > v.containmentAinB : docs[p.j]!.bid.bidderOrgId < docs[p.i]!.bid.bidderOrgId;
  const [x, y] = swap ? [docs[p.j]!, docs[p.i]!] : [docs[p.i]!, docs[p.j]!];
  const [cxy, cyx, exy, eyx] = swap ? [v.containmentBinA, v.containmentAinB, p.containmentJinI, p.containmentIinJ] : [v.containmentAinB, v.containmentBinA, p.containmentIinJ, p.containmentJinI];
  return {
    a: docRef(x.bid, x.path, x.sha256),
    b: docRef(y.bid, y.path, y.sha256),
    similarity: round(v.similarity),
    containmentAinB: round(cxy),
    containmentBinA: round(cyx),
    estimated: { similarity: round(p.similarity), containmentAinB: round(exy), containmentBinA: round(eyx) },
  };
}

const strength = (p: SimilarPair) => Math.max(p.similarity, p.containmentIinJ, p.containmentJinI);

function sizeOf(d: Doc): number {
  return d.bid.manifest.documents.find((x: ManifestDocument) => x.path === d.path)?.size ?? 0;
}

/** The same file (by its manifest hash) in the bids of 2 to maxGroups bidders, one finding per set of bidders. */
function identicalFiles(tenderId: string, bids: OpenedBid[], minBytes: number, maxGroups: number): Finding[] {
  const bySha = new Map<string, Array<{ bid: OpenedBid; doc: ManifestDocument }>>();
  for (const bid of bids) {
    for (const doc of bid.manifest.documents ?? []) {
      if (doc.size < minBytes) continue;
      bySha.set(doc.sha256, [...(bySha.get(doc.sha256) ?? []), { bid, doc }]);
    }
  }
  const bySet = new Map<string, { orgIds: string[]; files: Array<{ sha256: string; size: number; holders: Array<{ bid: OpenedBid; doc: ManifestDocument }> }> }>();
  for (const [sha256, holders] of bySha) {
    const orgIds = [...new Set(holders.map((h) => h.bid.bidderOrgId))].sort();
    if (orgIds.length < 2 || orgIds.length > maxGroups) continue;
    const set = bySet.get(setKey(orgIds)) ?? { orgIds, files: [] };
    set.files.push({ sha256, size: holders[0]!.doc.size, holders });
    bySet.set(setKey(orgIds), set);
  }
  return [...bySet.values()].map(({ orgIds, files }) => ({
    key: `${tenderId}:identical-files:${setKey(orgIds)}`,
    severity: 'high' as const,
    title: `${orgIds.length}家投标人的投标文件含相同文件（${files.length}份）`,
    tenderId,
    orgIds,
    auditSeqs: seqsOf([...new Set(files.flatMap((f) => f.holders.map((h) => h.bid)))]),
    fields: {
      kind: 'identical-files',
      files: files.map((f) => ({ sha256: f.sha256, size: f.size, in: f.holders.map((h) => docRef(h.bid, h.doc.path, f.sha256)) })),
    },
  }));
}

/** One pass per bid: each text document streamed into its sketch, the package copy removed before the next bid. */
async function sketchBids(blobs: BlobStore, bids: OpenedBid[], th: Record<string, number>): Promise<Doc[]> {
  const docs: Doc[] = [];
  for (const bid of bids) {
    const pkg = await BidPackageText.open(blobs, bid.plaintextBlobKey);
    try {
      await pkg.eachText(th.maxDocMiB! * MiB, async (path, chunks) => {
        const sketcher = new Sketcher({ shingleChars: th.shingleChars });
        for await (const chunk of chunks) sketcher.push(chunk);
        if (sketcher.chars < th.minDocChars!) return;
        const sketch = sketcher.finish();
        const sha256 = bid.manifest.documents.find((d: ManifestDocument) => d.path === path)?.sha256 ?? null;
        if (sketch) docs.push({ bid, path, sha256, sketch });
      });
    } finally {
      await pkg.close();
    }
  }
  return docs;
}

/** Reads each candidate pair's two texts again and measures them exactly; packages opened once each, removed after. */
async function verifyCandidates(blobs: BlobStore, docs: Doc[], candidates: SimilarPair[], boilerplate: ReadonlySet<number>, th: Record<string, number>): Promise<Array<{ p: SimilarPair; v: Verified }>> {
  const open = new Map<string, BidPackageText>();
  const textOf = async (d: Doc) => {
    let pkg = open.get(d.bid.bidId);
    if (!pkg) {
      pkg = await BidPackageText.open(blobs, d.bid.plaintextBlobKey);
      open.set(d.bid.bidId, pkg);
    }
    return (await pkg.text(d.path, th.maxDocMiB! * MiB)) ?? '';
  };
  try {
    const out: Array<{ p: SimilarPair; v: Verified }> = [];
    for (const p of candidates) {
      const [a, b] = [docs[p.i]!, docs[p.j]!];
      // the excerpt starts from what the two share and the others do not (not from the tender's forms)
      const prefer = new Set(intersectSorted(a.sketch.fingerprints, b.sketch.fingerprints).filter((h) => !boilerplate.has(h)));
      out.push({ p, v: verifyPair(await textOf(a), await textOf(b), { shingleChars: th.shingleChars, prefer }) });
    }
    return out;
  } finally {
    for (const pkg of open.values()) await pkg.close();
  }
}
