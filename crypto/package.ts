/**
 * The bid package (投标文件包): the plaintext inside a sealed bid. A ZIP with
 * manifest.json — the bid form (开标一览表), bidder, tender/section, tool serial,
 * machine code, author — and the bid's documents, each with its SHA-256.
 *
 * Like pki.ts, this ships to bidders alone: Node built-ins, yazl, yauzl and zod
 * only, nothing from the server. The code lives in ./package/*.ts.
 */
export { PackageError, type PackageErrorCode } from './package/errors';
export {
  MANIFEST_NAME,
  idNumberCheckChar,
  isValidCreditCode,
  isValidIdNumber,
  maskIdNumber,
  validateManifest,
  type BidForm,
  type Manifest,
  type ManifestDocument,
} from './package/manifest';
export { entryPathProblem, pathKey } from './package/paths';
export {
  BIDTOOL_VERSION,
  defaultToolSerialPath,
  fingerprintOf,
  isValidToolSerial,
  loadOrCreateToolSerial,
  machineFacts,
  machineFingerprint,
  newToolSerial,
  type MachineFacts,
} from './package/machine';
export { packBid, type PackFile, type PackManifestInput, type PackOptions } from './package/pack';
export { MAX_MANIFEST_BYTES, readManifest, unpackBid, verifyBid } from './package/unpack';
export { DEFAULT_UNPACK_LIMITS, RATIO_CHECK_MIN_BYTES, type UnpackLimits } from './package/zipread';
