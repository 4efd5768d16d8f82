/**
 * 远程解密 in the page: the bidder picks its key files and its sealed bid (the .cms it submitted); the page unwraps
 * the content key with WebCrypto, signs contentKeyDigest(bidId, key) and hands both to the platform — what
 * `bidtool post-key` does. The private keys stay non-extractable CryptoKeys in this page; only the head of the
 * envelope (its recipients) is read, never the bid; the key bytes are wiped once sent.
 */
import { post } from '../lib/api';
import { unwrapOwnKey, contentKeyDigest, signDigest, EnvelopeError } from '../lib/cms';
import { h, field } from '../lib/dom';
import { readKeyFiles, FILE_HINT, type KeyKit } from '../lib/keys';
import { toBase64 } from '../lib/pem';
import { notify, notifyError } from '../lib/layout';

export interface OwnBid {
  bidId: string;
  sectionLabel: string;
}

/** The form for one tender's own bids; `now` gives platform time for the signature's signing time. */
export function decryptForm(tenderId: string, bids: OwnBid[], now: () => Date, onDone: () => void): HTMLElement {
  const keys = h('input', { type: 'file', multiple: true, accept: '.pem,.crt,.key', name: 'keys' });
  const envelopes = bids.map((b) => ({ bid: b, input: h('input', { type: 'file', accept: '.cms,.p7m,.bin', name: `envelope-${b.bidId}` }) }));
  const submit = h('button', { type: 'submit' }, '在本机解密并提交密钥 / Decrypt here and hand over the key');
  const status = h('p', { class: 'muted', role: 'status', 'aria-live': 'polite' });
  const form = h(
    'form',
    { class: 'decrypt-form', 'data-testid': 'decrypt-form' },
    h('p', {}, '选择本单位的密钥文件和投标时提交的数字信封（.cms）。解密在本页面内完成，私钥不会上传。 / Pick your key files and the sealed bid you submitted; the key never leaves this page.'),
    field('密钥文件 / Key files', keys, FILE_HINT),
    envelopes.map(({ bid, input }) => field(`投标文件数字信封（${bid.sectionLabel}） / Sealed bid`, input)),
    submit,
    status,
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    submit.disabled = true;
    let kit: KeyKit | null = null;
    try {
      kit = await readKeyFiles(keys.files ?? []);
      if (!kit.encryption || !kit.signing) {
        throw new Error('需要加密私钥与证书（encryption.*.pem）和签名私钥与证书（signing.*.pem） / both key pairs are needed');
      }
      for (const { bid, input } of envelopes) {
        const file = input.files?.[0];
        if (!file) throw new Error(`请选择${bid.sectionLabel}的投标文件数字信封 / pick the sealed bid`);
        status.textContent = `正在解密${bid.sectionLabel}… / unwrapping`;
        const key = await unwrapOwnKey(file, kit.encryption.key).catch((e: unknown) => {
          throw e instanceof EnvelopeError
            ? new Error(`${file.name} 不是本单位可解密的数字信封（${e.message}） / not an envelope your key opens`)
            : e;
        });
        try {
          const signature = await signDigest({ digest: await contentKeyDigest(bid.bidId, key), cert: kit.signing.cert, key: kit.signing.key, signingTime: now() });
          status.textContent = `正在提交${bid.sectionLabel}的解密密钥… / handing over`;
          await post(`/tenders/${encodeURIComponent(tenderId)}/opening/bids/${encodeURIComponent(bid.bidId)}/content-key`, {
            contentKey: toBase64(key),
            signature: toBase64(signature),
          });
        } finally {
          key.fill(0);
        }
      }
      status.textContent = '';
      notify('解密密钥已提交，平台正在解密 / key handed over; the platform is decrypting', 'ok');
      onDone();
    } catch (err) {
      status.textContent = '';
      notifyError(err);
    } finally {
      kit = null;
      submit.disabled = false;
    }
  });
  return form;
}

export function bidtoolHint(tenderId: string): HTMLElement {
  return h(
    'details',
    {},
    h('summary', {}, '或用 bidtool 在本机解密 / or use bidtool'),
    h('pre', { class: 'evidence' }, `bidtool post-key --server ${location.origin} --dir ./keys --tender ${tenderId} --in bid.cms`),
  );
}
