// Serves one EDMX document with SAP's fe-mockserver-core (a third-party OData server) on 127.0.0.1,
// with mock data taken ONLY from JSON seed files, for interop tests of the OData client.
//
// Usage: node serve-seeded.js METADATA.xml URL_PATH SEED_DIR
//   SEED_DIR holds one <EntitySetName>.json per entity set (a JSON array of entities, property names as in
//   the EDMX). Entity sets without a file start EMPTY: no random data is generated (generateMockData: false).
//   The seed files are read once at startup; all writes (POST/PATCH/DELETE/$batch) live in memory only,
//   so every run starts from the same data.
// Prints exactly one line "listening http://127.0.0.1:PORT" on stdout when ready; stops when stdin closes.
// Diagnostics go to stderr. Exits 2 on bad arguments or an unreadable/invalid seed file.
//
// Two deliberate departures from plain fe-mockserver-core 1.7.x (see README-dataverse.md):
//   * Columns absent from a seed row or a POST body are stored as null (as Dataverse does), not as the library's
//     type defaults ("" even for Edm.Guid, 0, false, the current time for Edm.DateTimeOffset). This is the library's
//     own forceNullableValuesToNull rule, which it does not apply to JSON-seeded entity sets. Keys are still generated.
//   * A request whose Content-Type says JSON but whose body is not valid JSON gets 400 with an OData error body;
//     the library itself throws out of a callback there and the whole process dies.
// Optional environment:
//   MOCKSERVER_VALIDATE_ETAG=1  pass validateETag: true (@odata.etag on entities, If-Match checked on PATCH/PUT)
//   MOCKSERVER_RAW_DEFAULTS=1   keep the library's type defaults for absent columns (no null patch)
//   MOCKSERVER_LOG_REQUESTS=1   log each request to stderr (never to stdout)
const http = require("http");
const path = require("path");
const fs = require("fs");
const FEMockserver = require("@sap-ux/fe-mockserver-core").default;
const { FileBasedMockData } = require("@sap-ux/fe-mockserver-core/dist/mockdata/fileBasedMockData");

// Absent nullable non-key columns -> null (see header). Edm properties without Nullable="false" are nullable.
function patchNullDefaults() {
  const original = FileBasedMockData.prototype.getDefaultValueFromType;
  FileBasedMockData.prototype.getDefaultValueFromType = function (property, ...rest) {
    if (property && property.nullable !== false && !property.isKey) return null;
    return original.call(this, property, ...rest);
  };
}

function getStatus(url) {
  return new Promise((resolve) => {
    http
      .get(url, (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode));
      })
      .on("error", () => resolve(0));
  });
}

function isJson(contentType) {
  return typeof contentType === "string" && contentType.toLowerCase().includes("application/json");
}

// Reads the body up front; hands it to the library's body-parser as already parsed (req._body).
function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function fail(message) {
  process.stderr.write(`serve-seeded: ${message}\n`);
  process.exit(2);
}

// Checks the seed folder up front, because fe-mockserver-core swallows JSON errors silently
// (the entity set would just be empty).
function checkSeeds(metadataPath, seedDir) {
  const xml = fs.readFileSync(metadataPath, "utf8");
  const sets = new Set([...xml.matchAll(/<(?:EntitySet|Singleton)\s+Name="([^"]+)"/g)].map((m) => m[1]));
  const seeded = [];
  for (const file of fs.readdirSync(seedDir)) {
    if (!file.endsWith(".json")) continue;
    const name = file.slice(0, -".json".length);
    let data;
    try {
      data = JSON.parse(fs.readFileSync(path.join(seedDir, file), "utf8"));
    } catch (error) {
      fail(`${file}: invalid JSON: ${error.message}`);
    }
    if (!Array.isArray(data)) fail(`${file}: must be a JSON array`);
    if (!sets.has(name)) process.stderr.write(`serve-seeded: warning: ${file} names no EntitySet of the document\n`);
    else seeded.push(name);
  }
  return seeded;
}

async function main() {
  const [metadataArg, urlPath, seedArg] = process.argv.slice(2);
  if (!metadataArg || !urlPath || !seedArg) fail("usage: node serve-seeded.js METADATA.xml URL_PATH SEED_DIR");
  const metadataPath = path.resolve(metadataArg);
  const seedDir = path.resolve(seedArg);
  if (!fs.existsSync(metadataPath)) fail(`no such metadata file: ${metadataPath}`);
  if (!fs.existsSync(seedDir) || !fs.statSync(seedDir).isDirectory()) fail(`no such seed folder: ${seedDir}`);
  const seededSets = checkSeeds(metadataPath, seedDir);
  if (process.env.MOCKSERVER_RAW_DEFAULTS !== "1") patchNullDefaults();

  const logRequests = process.env.MOCKSERVER_LOG_REQUESTS === "1";
  // Keep stdout for the ready line only: the library writes its request logs to stdout.
  const logger = {
    info: (m) => { if (logRequests) process.stderr.write(`info ${m}\n`); },
    error: (m) => process.stderr.write(`error ${m}\n`),
    warn: (m) => process.stderr.write(`warn ${m}\n`),
  };
  const server = new FEMockserver({
    logger,
    services: [
      {
        urlPath,
        metadataPath,
        mockdataPath: seedDir,
        generateMockData: false,
        validateETag: process.env.MOCKSERVER_VALIDATE_ETAG === "1",
        logRequests: false,
        logResponses: false,
        logger,
      },
    ],
  });
  await server.isReady;
  const router = server.getRouter();
  const httpServer = http.createServer(async (req, res) => {
    if (logRequests) process.stderr.write(`request ${req.method} ${req.url}\n`);
    let body;
    try {
      body = await readBody(req);
    } catch (error) {
      res.statusCode = 400;
      res.end(String(error));
      return;
    }
    if (body.length > 0 && isJson(req.headers["content-type"])) {
      try {
        JSON.parse(body.toString("utf-8"));
      } catch (error) {
        res.statusCode = 400;
        res.setHeader("Content-Type", "application/json; odata.metadata=minimal");
        res.setHeader("OData-Version", "4.0");
        res.end(JSON.stringify({ error: { code: "400", message: `Invalid JSON in request body: ${error.message}` } }));
        return;
      }
    }
    req.body = body;
    req._body = true;
    router(req, res, () => {
      res.statusCode = 404;
      res.end("not found");
    });
  });
  httpServer.listen(0, "127.0.0.1", async () => {
    const base = `http://127.0.0.1:${httpServer.address().port}`;
    // Warm up: load every seeded entity set before announcing readiness (the library loads them lazily).
    for (const name of seededSets) {
      const status = await getStatus(`${base}${urlPath.replace(/\/$/, "")}/${name}/$count`);
      if (status !== 200) process.stderr.write(`serve-seeded: warning: ${name}/$count answered ${status}\n`);
    }
    process.stdout.write(`listening ${base}\n`);
  });
  process.stdin.on("end", () => process.exit(0));
  process.stdin.on("error", () => process.exit(0));
  process.stdin.resume();
}

main().catch((error) => {
  process.stderr.write(`${error && error.stack ? error.stack : error}\n`);
  process.exit(1);
});
