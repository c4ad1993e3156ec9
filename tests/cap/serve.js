// Serves srv/dataverse.cds with SAP CAP (a third-party OData v4 server) on in-memory SQLite at
// 127.0.0.1 on a free port, for the client's interop tests. Usage: node serve.js
// Prints "listening http://127.0.0.1:PORT/odata/v4/dataverse/" when ready; stops when stdin closes.
// CAP's own log goes to stderr: warnings and 5xx errors only (4xx, which tests provoke on purpose, are
// not logged); set DEBUG=all (or DEBUG=odata, sql, ...) to get CAP's full log.
const path = require("path");
const cds = require("@sap/cds");

const SERVICE_PATH = "/odata/v4/dataverse/";

async function main() {
  // Config (package.json "cds") and plugins (@cap-js/sqlite) are found from cds.root, so pin it
  // to this folder whatever the current directory is.
  cds.root = __dirname;
  cds.log.Logger = (label, level) => {
    const { ERROR, WARN, INFO, DEBUG, TRACE } = cds.log.levels;
    // The "error" logger logs 4xx responses as warnings and 5xx as errors.
    const max = process.env.DEBUG ? level : Math.min(level, label === "error" ? ERROR : WARN);
    const out = (at) => (max < at ? () => {} : (...args) => console.error(`[${label}] -`, ...args));
    return { trace: out(TRACE), debug: out(DEBUG), log: out(INFO), info: out(INFO), warn: out(WARN), error: out(ERROR) };
  };
  // cds.server calls app.listen(port) on all interfaces: bind to loopback only.
  cds.once("bootstrap", (app) => {
    const listen = app.listen;
    app.listen = (port, ...rest) => listen.call(app, port, "127.0.0.1", ...rest);
  });
  const server = await cds.server({
    from: path.join(__dirname, "srv"),
    in_memory: true, // deploy the model to the (in-memory) database at start
    silent: true, // cds.deploy would print "successfully deployed" on stdout
    port: 0,
    index: undefined,
    favicon: undefined,
    static: undefined,
  });
  if (!server.listening) await new Promise((resolve, reject) => server.once("listening", resolve).once("error", reject));
  console.log(`listening http://127.0.0.1:${server.address().port}${SERVICE_PATH}`);
  process.stdin.on("end", () => process.exit(0));
  process.stdin.resume();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
