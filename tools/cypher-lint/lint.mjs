// Syntax-check every statement under a folder with Neo4j's Cypher parser.
// Why: the same files run on FalkorDB and Neo4j; a typo must fail CI, not production.
// Backend-specific files (schema/falkordb.cypher, *.falkordb.cypher) use FalkorDB-only
// syntax and are skipped. Parameters are undeclared without a schema, so that warning
// (and every other non-error) is ignored. The parser's semantic pass is slow (about half a
// second per statement), so the statements are shared out over one worker per core.
import * as ls from '@neo4j-cypher/language-support';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, relative } from 'node:path';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

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

/** Error lines ("path:line: message") for one statement. */
function lint({ path, stmt }) {
  const result = ls.lintCypherQuery(stmt, {});
  const diagnostics = Array.isArray(result) ? result : (result?.diagnostics ?? []);
  return diagnostics
    .filter((d) => d.severity === 1) // 1 = Error in the LSP protocol
    .filter((d) => !/Parameter \$\w+ is not defined/.test(d.message))
    .map((d) => `${path}:${(d.range?.start?.line ?? 0) + 1}: ${d.message.split('\n')[0]}`);
}

if (!isMainThread) {
  parentPort.postMessage(workerData.flatMap(lint));
} else {
  const root = process.argv[2] ?? 'cypher';
  let files = 0;
  const jobs = [];
  for (const path of walk(root)) {
    if (skipped(relative(root, path))) continue;
    files += 1;
    for (const stmt of statements(readFileSync(path, 'utf8'))) jobs.push({ path, stmt });
  }
  // Longest first, dealt round-robin: the workers finish at about the same time.
  jobs.sort((a, b) => b.stmt.length - a.stmt.length);
  const n = Math.max(1, Math.min(availableParallelism(), 8, jobs.length));
  const shares = Array.from({ length: n }, (_, i) => jobs.filter((_, j) => j % n === i));
  const results = await Promise.all(
    shares.map(
      (share) =>
        new Promise((resolve, reject) => {
          const worker = new Worker(new URL(import.meta.url), { workerData: share });
          worker.once('message', resolve);
          worker.once('error', reject);
        }),
    ),
  );
  const errors = results.flat().sort();
  for (const line of errors) console.error(line);
  console.log(`cypher-lint: ${files} files, ${jobs.length} statements, ${errors.length} errors`);
  process.exit(errors.length > 0 ? 1 : 0);
}
