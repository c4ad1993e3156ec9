// Serves one EDMX document with SAP's fe-mockserver-core (a third-party OData server) on 127.0.0.1,
// for the fetch end-to-end test. Usage: node serve.js METADATA.xml URL_PATH
// Prints "listening http://127.0.0.1:PORT" when ready; stops when stdin closes.
const http = require("http");
const os = require("os");
const path = require("path");
const fs = require("fs");
const FEMockserver = require("@sap-ux/fe-mockserver-core").default;

async function main() {
  const [metadataPath, urlPath] = process.argv.slice(2);
  const mockdata = fs.mkdtempSync(path.join(os.tmpdir(), "dualsync-mockdata-"));
  const server = new FEMockserver({
    services: [{ urlPath, metadataPath: path.resolve(metadataPath), mockdataPath: mockdata, generateMockData: true }],
  });
  await server.isReady;
  const router = server.getRouter();
  const httpServer = http.createServer((req, res) => {
    router(req, res, () => {
      res.statusCode = 404;
      res.end("not found");
    });
  });
  httpServer.listen(0, "127.0.0.1", () => {
    console.log(`listening http://127.0.0.1:${httpServer.address().port}`);
  });
  process.stdin.on("end", () => process.exit(0));
  process.stdin.resume();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
