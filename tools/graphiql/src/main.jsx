// Baton's GraphiQL page: GraphiQL, React and graphql-ws bundled into one file served by Baton
// itself (no CDN), with a token box that fills the Authorization header (kept in
// sessionStorage, like /inbox) and a fetcher that runs subscriptions over graphql-ws
// (the graphql-transport-ws subprotocol on /graphql, authenticated in connection_init).
import { createGraphiQLFetcher } from "@graphiql/toolkit";
import { GraphiQL } from "graphiql";
import "graphiql/style.css";
import { createClient } from "graphql-ws";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import "./baton.css";

const KEY = "baton-token"; // shared with /inbox: sign in once per tab
const DEFAULT_QUERY = `# Baton's GraphQL API. Paste your token above (it fills the Authorization header),
# then run with Ctrl-Enter. Subscriptions run over WebSocket, e.g.
#   subscription { graphChanges { seq type subject } }
{
  me {
    id
    roles
  }
}
`;

const httpUrl = new URL(location.pathname, location.href);
httpUrl.search = "";
httpUrl.hash = "";
const wsUrl = new URL(httpUrl);
wsUrl.protocol = httpUrl.protocol === "https:" ? "wss:" : "ws:";

const stored = () => sessionStorage.getItem(KEY) || "";
const bearer = (token) => (token ? `Bearer ${token}` : "");

function authorization(headers) {
  for (const [name, value] of Object.entries(headers || {})) {
    if (name.toLowerCase() === "authorization" && typeof value === "string") return value;
  }
  return bearer(stored());
}

// One socket per Authorization value: the server authenticates a socket once, in
// connection_init, so a different token (edited in the Headers tab) needs a new socket.
let socket = null;
let socketAuth = null;
function wsClient(auth) {
  if (socket && socketAuth === auth) return socket;
  if (socket) socket.dispose();
  socketAuth = auth;
  socket = createClient({
    url: wsUrl.toString(),
    connectionParams: auth ? { Authorization: auth } : {},
    lazy: true,
    retryAttempts: 3,
  });
  return socket;
}

function fetcher(params, opts) {
  const headers = opts && opts.headers;
  return createGraphiQLFetcher({ url: httpUrl.toString(), wsClient: wsClient(authorization(headers)) })(
    params,
    opts,
  );
}

// A query to open with, as /graphql#query=... (a fragment: GET /graphql?query=... runs it).
function initialQuery() {
  const q = new URLSearchParams(location.hash.slice(1)).get("query");
  return q || undefined;
}

const root = createRoot(document.getElementById("graphiql"));
let generation = 0;

function render() {
  const token = stored();
  const headers = token ? JSON.stringify({ Authorization: bearer(token) }, null, 2) : undefined;
  generation += 1; // a new token: a fresh GraphiQL (schema fetched again with it)
  root.render(
    <StrictMode>
      <GraphiQL
        key={generation}
        fetcher={fetcher}
        query={initialQuery()}
        defaultQuery={DEFAULT_QUERY}
        headers={headers}
        defaultEditorToolsVisibility={token ? "headers" : undefined}
      />
    </StrictMode>,
  );
  document.getElementById("baton-state").textContent = token
    ? "token set for this tab"
    : "no token: paste one to sign in";
}

const form = document.getElementById("baton-auth");
const input = document.getElementById("baton-token");
form.addEventListener("submit", (event) => {
  event.preventDefault();
  const value = input.value.trim();
  if (value) sessionStorage.setItem(KEY, value);
  else sessionStorage.removeItem(KEY);
  input.value = "";
  render();
});
document.getElementById("baton-forget").addEventListener("click", () => {
  sessionStorage.removeItem(KEY);
  render();
});
render();
