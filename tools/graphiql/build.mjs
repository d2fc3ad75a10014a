// Bundles src/main.jsx (GraphiQL + React + graphql-ws) into app/api/static/graphiql/:
// graphiql.js, graphiql.css and the licences of what they contain. Run `npm ci && npm run
// build` here after changing a version in package.json, and commit the output.
import * as esbuild from "esbuild";
import { fileURLToPath } from "node:url";

const out = fileURLToPath(new URL("../../app/api/static/graphiql/", import.meta.url));
await esbuild.build({
  entryPoints: { graphiql: fileURLToPath(new URL("src/main.jsx", import.meta.url)) },
  bundle: true,
  minify: true,
  format: "iife",
  target: ["es2020"],
  jsx: "automatic",
  define: { "process.env.NODE_ENV": '"production"' },
  legalComments: "external",
  loader: { ".woff2": "dataurl", ".png": "dataurl" },
  outdir: out,
  logLevel: "info",
});
