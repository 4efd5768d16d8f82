import { createError } from '../shared/errors';

/** A release feed's period that is empty, reversed or longer than the feed serves in one package. */
export const OcdsRangeInvalid = createError<{ reason: string; maxDays: number }>(
  'OCDS_RANGE_INVALID',
  400,
  (p) => `查询时段无效：${p.reason} (invalid period: from must be before to, at most ${p.maxDays} days)`,
);

/**
 * No release is dated in the period. An OCDS release package holds at least one release (release-package schema:
 * `releases` minItems 1), so there is no package to answer with.
 */
export const OcdsNoReleases = createError('OCDS_NO_RELEASES', 404, '该时段没有公开发布的开放数据 (no releases dated in this period)');
