/**
 * Sealed-bid commands (投标文件加密、签名、递交): encrypt, decrypt, sign, submit, test-decrypt, verify-receipt,
 * unwrap-key, and the `enroll` alias. One file per command in ./bid/; see ./bid/index.ts.
 */
export { registerBidCommands } from './bid/index';
export type { BidCliContext, UploadHooks } from './bid/shared';
