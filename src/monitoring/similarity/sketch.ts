/**
 * A document's sketch, made in one pass over its text as it streams: the MinHash signature (near duplicates) and the
 * winnowed fingerprints (containment). Neither keeps the text: about 1 KiB plus 4 bytes a fingerprint (some 80 KiB
 * for 2 MB of Chinese text), so hundreds of bids are compared without holding their documents.
 */
import { Winnower, DEFAULT_WINDOW } from './containment';
import { DEFAULT_BINS, OnePermutationMinHash } from './minhash';
import { DEFAULT_SHINGLE_CHARS, ShingleHasher } from './shingles';

export interface SketchOptions {
  shingleChars: number;
  bins: number;
  window: number;
}

export const DEFAULT_SKETCH: SketchOptions = { shingleChars: DEFAULT_SHINGLE_CHARS, bins: DEFAULT_BINS, window: DEFAULT_WINDOW };

export interface Sketch {
  /** Normalised characters. */
  chars: number;
  signature: Uint32Array;
  fingerprints: Uint32Array;
}

export class Sketcher {
  private readonly minhash: OnePermutationMinHash;
  private readonly winnower: Winnower;
  private readonly hasher: ShingleHasher;
  private batch = new Uint32Array(0);

  constructor(opts: Partial<SketchOptions> = {}) {
    const o = { ...DEFAULT_SKETCH, ...opts };
    this.minhash = new OnePermutationMinHash(o.bins);
    this.winnower = new Winnower(o.window);
    this.hasher = new ShingleHasher(o.shingleChars);
  }

  push(text: string): void {
    if (this.batch.length < text.length) this.batch = new Uint32Array(text.length);
    const n = this.hasher.hashInto(text, this.batch);
    this.minhash.addAll(this.batch, n);
    this.winnower.addAll(this.batch, n);
  }

  get chars(): number {
    return this.hasher.chars;
  }

  /** The sketch; null when the text is too short to have a single shingle. */
  finish(): Sketch | null {
    const signature = this.minhash.signature();
    if (!signature) return null;
    return { chars: this.hasher.chars, signature, fingerprints: this.winnower.fingerprints() };
  }
}

export function sketchText(text: string, opts: Partial<SketchOptions> = {}): Sketch | null {
  const s = new Sketcher(opts);
  s.push(text);
  return s.finish();
}
