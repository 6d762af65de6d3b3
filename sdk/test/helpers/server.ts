// The one place the SDK's tests touch byo-server: a real server, started in-process.
export { startTestServer, type TestProject, type TestServer, usingPostgres } from '../../../server/test/helpers/server.js';
