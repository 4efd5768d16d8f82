/**
 * Sealed-bid commands (投标文件加密、签名、递交):
 *   encrypt        — seal a file (the bid package) into a CMS envelope for the tender's opening certificate and
 *                    the bidder's own encryption certificate
 *   decrypt        — open an envelope with one's own encryption key
 *   sign           — detached CMS signature over the envelope with the signing key
 *   submit         — resumable, chunked upload; verifies and saves the time-stamped receipt (回执)
 *   test-decrypt   — proves locally that one's key opens the envelope (and, with the platform, that it will at the opening)
 *   verify-receipt — checks a receipt (RFC 3161 token) against the envelope and the platform CA
 *   unwrap-key     — hands out the envelope's content key, for the decryption window at the opening
 *
 * Keys never leave this machine; the only secret that may ever be printed is
 * the content key, by unwrap-key, when asked to.
 */
import type { Command } from 'commander';
import type { CliContext } from '../../context';
import { registerDecryptCommand } from './decrypt';
import { registerEncryptCommand } from './encrypt';
import { registerVerifyReceiptCommand } from './receipt';
import { registerSignCommand } from './sign';
import { registerSubmitCommand } from './submit';
import { registerTestDecryptCommand } from './test-decrypt';
import { registerUnwrapKeyCommand } from './unwrap-key';

export type { BidCliContext, UploadHooks } from './shared';

export function registerBidCommands(program: Command, ctx: CliContext): void {
  // The issue text spells it "enroll"; the command is registered as "enrol" by the account commands.
  program.commands.find((c) => c.name() === 'enrol')?.alias('enroll');

  registerEncryptCommand(program, ctx);
  registerDecryptCommand(program, ctx);
  registerSignCommand(program, ctx);
  registerSubmitCommand(program, ctx);
  registerTestDecryptCommand(program, ctx);
  registerVerifyReceiptCommand(program, ctx);
  registerUnwrapKeyCommand(program, ctx);
}
