/**
 * unwrap-key — hands out the envelope's content key, for the decryption window at the opening.
 * The content key is the only secret this tool ever prints, and only when asked to.
 */
import type { Command } from 'commander';
import { EnvelopeError, unwrapContentKey } from '../../../envelope';
import { PkiError } from '../../../pki';
import { CliExit, EXIT_BAD_INPUT, println, writeSecretFile, type CliContext } from '../../context';
import { envelopeExit, inspectEnvelope, readEncryptionKey, refuseOverwrite } from './shared';

interface UnwrapKeyOptions {
  in: string;
  dir: string;
  out?: string;
  force?: boolean;
}

export function registerUnwrapKeyCommand(program: Command, ctx: CliContext): void {
  program
    .command('unwrap-key')
    .description('解出信封的内容密钥（仅在开标解密时限内使用）/ Unwrap the envelope’s content key (only during the decryption window)')
    .requiredOption('--in <file>', '数字信封 (.cms) / envelope')
    .requiredOption('--dir <dir>', '密钥目录 (encryption.key.pem, encryption.cert.pem) / key directory')
    .option('--out <file>', '写入文件（Base64，权限 0600），缺省输出到屏幕 / write it to this file (base64, mode 0600) instead of printing it')
    .option('--force', '覆盖已有的输出文件 / overwrite an existing output file', false)
    .addHelpText(
      'after',
      '\n警告：内容密钥可直接解开投标文件。只能在开标后的解密时限内、按平台要求提交时使用，切勿提前交给任何人。\n' +
        'WARNING: the content key opens the bid. Use it only during the decryption window at the opening, when the platform\n' +
        'asks for it; never hand it to anyone before.',
    )
    .action((opts: UnwrapKeyOptions) => unwrapKey(ctx, opts));
}

async function unwrapKey(ctx: CliContext, opts: UnwrapKeyOptions): Promise<void> {
  if (opts.out !== undefined) refuseOverwrite(opts.out, opts.force);
  const key = readEncryptionKey(opts.dir);
  const inspection = await inspectEnvelope(opts.in);
  let contentKey: Buffer;
  try {
    contentKey = unwrapContentKey(inspection, key);
  } catch (e) {
    if (e instanceof EnvelopeError) throw envelopeExit(e, '无法解出内容密钥 / Cannot unwrap the content key');
    if (e instanceof PkiError) throw new CliExit(EXIT_BAD_INPUT, `私钥或证书无效 / Invalid key or certificate: ${e.message}`);
    throw e;
  }
  const b64 = contentKey.toString('base64');
  contentKey.fill(0);
  println(ctx.stderr, '警告：内容密钥可解开投标文件，只能在开标解密时限内交给平台 / WARNING: the content key opens the bid; hand it over only during the decryption window');
  if (opts.out !== undefined) {
    writeSecretFile(opts.out, b64 + '\n', opts.force === true);
    println(ctx.stdout, `内容密钥已写入（权限 0600）/ Content key written (mode 0600): ${opts.out}`);
    return;
  }
  println(ctx.stdout, b64);
}
