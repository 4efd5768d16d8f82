import { createError } from '../shared/errors';

export const BidAfterDeadline = createError<{ bidDeadline: string }>(
  'BID_AFTER_DEADLINE',
  409,
  '投标截止时间已过，投标文件未被接收；以平台服务器时间为准 (the deadline has passed; the server clock decides)',
  'EB 27; TL 28',
);
export const TenderNotAcceptingBids = createError<{ status: string }>(
  'TENDER_NOT_ACCEPTING_BIDS',
  409,
  '该项目当前不接收投标文件 (the tender is not accepting bids)',
);
export const BidNotEncrypted = createError<{ reason: string }>(
  'BID_NOT_ENCRYPTED',
  422,
  '投标文件未按要求加密：须为 CMS AuthEnvelopedData（AES-256-GCM，RSA-OAEP-SHA256）数字信封 (the bid is not encrypted as required)',
  'EB 26',
);
export const BidEnvelopeMalformed = createError<{ reason: string }>(
  'BID_ENVELOPE_MALFORMED',
  422,
  '投标文件数字信封不完整或已损坏 (the envelope is truncated or malformed)',
  'EB 26',
);
export const BidNotForThisTender = createError(
  'BID_NOT_FOR_THIS_TENDER',
  422,
  '投标文件未加密给本项目的开标证书，开标时无法解密 (the envelope is not addressed to this tender’s opening certificate)',
  'EB 26',
);
export const BidMissingBidderRecipient = createError(
  'BID_MISSING_BIDDER_RECIPIENT',
  422,
  '投标文件未加密给本单位的加密证书，开标时本单位无法远程解密 (the envelope is not addressed to your own encryption certificate)',
  'EB 30',
);
export const BidSignatureInvalid = createError<{ reason: string }>(
  'BID_SIGNATURE_INVALID',
  422,
  '投标文件电子签名验证失败 (the bid signature does not verify)',
  'EB 40',
);
export const BidSignatureForeign = createError(
  'BID_SIGNATURE_FOREIGN',
  422,
  '签名证书不属于投标单位 (the signing certificate belongs to another organisation)',
  'EB 40',
);
export const BidHashMismatch = createError<{ declared: string; received: string }>(
  'BID_HASH_MISMATCH',
  422,
  '收到的文件摘要与声明及签名不符，文件在传输中被改变 (the bytes received do not match the signed digest)',
);
export const BidTooLarge = createError<{ maxBytes: number }>('BID_TOO_LARGE', 413, '投标文件超过平台允许的大小 (bid too large)');
export const UploadOffsetMismatch = createError<{ offset: number }>(
  'UPLOAD_OFFSET_MISMATCH',
  409,
  '续传位置不符，请从服务器记录的位置继续 (resume from the offset the server has)',
);
export const UploadNotOpen = createError<{ status: string }>('UPLOAD_NOT_OPEN', 409, '该上传已结束 (this upload is no longer open)');
export const SectionNotInTender = createError('SECTION_NOT_IN_TENDER', 404, '该项目没有此标段 (no such section in this tender)');
export const BidNotCurrent = createError<{ status: string }>('BID_NOT_CURRENT', 409, '该投标文件已被替换或撤回 (the bid was superseded or withdrawn)');
