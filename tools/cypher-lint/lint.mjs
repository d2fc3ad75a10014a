// Syntax-check every statement under a folder with Neo4j's Cypher parser.
// Why: the same files run on FalkorDB and Neo4j; a typo must fail CI, not production.
// Backend-specific files (schema/falkordb.cypher, *.falkordb.cypher) use FalkorDB-only
// syntax and are skipped. Parameters are undeclared without a schema, so that warning
// (and every other non-error) is ignored.
import * as ls from '@neo4j-cypher/language-support';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = process.argv[2] ?? 'cypher';

function* walk(dir) {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* walk(path);
    else if (name.endsWith('.cypher')) yield path;
  }
}

function skipped(rel) {
  return rel === join('schema', 'falkordb.cypher') || rel.endsWith('.falkordb.cypher');
}

function statements(text) {
  const body = text
    .split('\n')
    .map((line) => (line.trimStart().startsWith('//') ? '' : line))
    .join('\n');
  return body.split(';').map((s) => s.trim()).filter((s) => s.length > 0);
}

let files = 0;
let checked = 0;
let errors = 0;
for (const path of walk(root)) {
  const rel = relative(root, path);
  if (skipped(rel)) continue;
  files += 1;
  for (const stmt of statements(readFileSync(path, 'utf8'))) {
    checked += 1;
    const result = ls.lintCypherQuery(stmt, {});
    const diagnostics = Array.isArray(result) ? result : (result?.diagnostics ?? []);
    for (const d of diagnostics) {
      if (d.severity !== 1) continue; // 1 = Error in the LSP protocol
      if (/Parameter \$\w+ is not defined/.test(d.message)) continue;
      errors += 1;
      const line = (d.range?.start?.line ?? 0) + 1;
      console.error(`${path}:${line}: ${d.message.split('\n')[0]}`);
    }
  }
}
console.log(`cypher-lint: ${files} files, ${checked} statements, ${errors} errors`);
process.exit(errors > 0 ? 1 : 0);
