// PostGraphile 5 as bench/compare.sh runs it: the Amber preset (PostGraphile's default) over the
// `public` schema of the seeded database (DATABASE_URL), production settings: no GraphiQL, no
// schema watching, no EXPLAIN, errors masked. Its pool is pg's default (10 connections).
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { makePgService } from "postgraphile/adaptors/pg";

/** @type {GraphileConfig.Preset} */
const preset = {
  extends: [PostGraphileAmberPreset],
  pgServices: [
    makePgService({
      connectionString: process.env.DATABASE_URL,
      schemas: ["public"],
      pubsub: false,
    }),
  ],
  grafserv: {
    graphiql: false,
    watch: false,
  },
  grafast: {
    explain: false,
  },
};

export default preset;
