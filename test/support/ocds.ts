/**
 * Validates OCDS 1.1 release packages against the unmodified OCDS 1.1.5 schemas in test/fixtures/ocds-1.1.5 (JSON
 * Schema draft 4, offline), and every `codelist` value against the codelist's CSV: a code outside a closed codelist
 * is an error; a code outside an open one is reported apart, so a test can insist on standard codes.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv from 'ajv-draft-04';
import type { AnySchemaObject, ErrorObject } from 'ajv';

const DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'ocds-1.1.5');
const readJson = (name: string) => JSON.parse(fs.readFileSync(path.join(DIR, name), 'utf8')) as AnySchemaObject;

/** The Code column of a codelist CSV (RFC 4180: quoted fields may hold commas, quotes and line breaks). */
function readCodes(file: string): Set<string> {
  const text = fs.readFileSync(path.join(DIR, 'codelists', file), 'utf8');
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') row.push(field), (field = '');
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field), rows.push(row), (row = []), (field = '');
    } else field += c;
  }
  if (field || row.length) row.push(field), rows.push(row);
  const [header, ...body] = rows;
  const column = header.indexOf('Code');
  assert.ok(column >= 0, `${file}: a codelist has a Code column`);
  return new Set(body.map((r) => r[column]).filter(Boolean));
}

const codelists = new Map<string, Set<string>>();
export function codelist(file: string): Set<string> {
  let codes = codelists.get(file);
  if (!codes) codelists.set(file, (codes = readCodes(file)));
  return codes;
}

/** Codes outside open codelists, found by the current validation (validation is synchronous). */
let nonStandard: string[] = [];

function buildValidator() {
  // strict: every keyword must be known — the OCDS ones are registered below, so a typo in a schema still fails
  const ajv = new Ajv({ strict: true, allowUnionTypes: true, allErrors: true });
  // OCDS metadata keywords (merge rules, versioning, deprecation): no effect on validity
  for (const keyword of ['openCodelist', 'mergeStrategy', 'omitWhenMerged', 'wholeListMerge', 'versionId', 'deprecated', 'deprecatedVersion']) {
    ajv.addKeyword({ keyword });
  }
  ajv.addKeyword({
    keyword: 'codelist',
    schemaType: 'string',
    errors: true,
    validate: function check(file: string, data: unknown, parent?: AnySchemaObject, cxt?: { instancePath: string }) {
      const values = Array.isArray(data) ? data : [data];
      const codes = codelist(file);
      const outside = values.filter((v) => typeof v === 'string' && !codes.has(v));
      if (!outside.length) return true;
      const where = cxt?.instancePath ?? '';
      if (parent?.openCodelist) {
        nonStandard.push(...outside.map((v) => `${where}: ${String(v)} (open codelist ${file})`));
        return true;
      }
      (check as { errors?: Partial<ErrorObject>[] }).errors = [
        { keyword: 'codelist', message: `${outside.join(', ')} not in closed codelist ${file}`, params: { codelist: file } },
      ];
      return false;
    },
  });
  ajv.addFormat('date-time', (s: string) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(s) && !Number.isNaN(Date.parse(s)));
  ajv.addFormat('uri', (s: string) => URL.canParse(s));
  ajv.addFormat('email', (s: string) => /^[^\s@]+@[^\s@]+$/.test(s));
  // the package schema names the release schema by its canonical URL: the local copy answers to that id
  const release = readJson('release-schema.json');
  assert.equal(release.id, 'https://standard.open-contracting.org/schema/1__1__5/release-schema.json');
  ajv.addSchema(release);
  return ajv.compile(readJson('release-package-schema.json'));
}

let validator: ReturnType<typeof buildValidator> | undefined;

export interface OcdsCheck {
  errors: string[];
  /** Codes the data uses outside open codelists. */
  nonStandardCodes: string[];
}

export function checkReleasePackage(pkg: unknown): OcdsCheck {
  validator ??= buildValidator();
  nonStandard = [];
  const ok = validator(pkg);
  const errors = ok ? [] : (validator.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? e.keyword}`);
  return { errors, nonStandardCodes: [...nonStandard] };
}

/** The package is valid OCDS 1.1.5, uses standard codes only, and its release ids are unique. */
export function assertValidReleasePackage(pkg: { releases?: Array<{ id: string }> }): void {
  const { errors, nonStandardCodes } = checkReleasePackage(pkg);
  assert.deepEqual(errors, [], `OCDS schema errors:\n${errors.join('\n')}`);
  assert.deepEqual(nonStandardCodes, [], 'codes outside the OCDS codelists');
  const ids = (pkg.releases ?? []).map((r) => r.id);
  assert.equal(new Set(ids).size, ids.length, `release ids repeat: ${ids.join(', ')}`);
}
