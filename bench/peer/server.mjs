// PostGraphile 5 on 127.0.0.1:$PORT (POST /graphql), on DATABASE_URL (graphile.config.mjs).
// Run with NODE_ENV=production and the Promise.withResolvers polyfill on Node 20:
//   DATABASE_URL=postgres://… PORT=5678 node --require ./polyfill.cjs server.mjs
import { createServer } from "node:http";
import { postgraphile } from "postgraphile";
import { grafserv } from "postgraphile/grafserv/node";
import preset from "./graphile.config.mjs";

const port = Number(process.env.PORT ?? 5678);
const pgl = postgraphile(preset);
const serv = pgl.createServ(grafserv);
const server = createServer();
server.on("error", (e) => {
  console.error(e);
  process.exit(1);
});
await serv.addTo(server);
// Build the schema before accepting requests, so the first request does not pay for it.
await pgl.getSchema();
server.listen(port, "127.0.0.1", () => console.log(`PostGraphile on http://127.0.0.1:${port}/graphql`));
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    server.close();
    pgl.release().finally(() => process.exit(0));
  });
}
