/**
 * The dashboard's token check exempts exactly the GET /login route: paths that merely start with
 * "/login" (the old prefix test let them all through unchecked) are refused like any other.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { startDashboardServer, type DashboardServer } from '../coordinator/dashboard/server.ts';
import { SqliteStore } from '../coordinator/store/sqlite-store.ts';

/** A raw request: the path is sent as written (fetch would normalise `..` away). */
function get(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET' }, (res) => { res.resume(); resolve(res.statusCode ?? 0); });
    req.on('error', reject);
    req.end();
  });
}

describe('dashboard token check on exact routes', () => {
  let server: DashboardServer;
  let store: SqliteStore;
  let port: number;
  before(async () => {
    store = new SqliteStore(':memory:');
    server = await startDashboardServer({ store, host: '0.0.0.0', port: 0 });
    port = Number(new URL(server.url).port);
  });
  after(async () => {
    await server?.close();
    store?.close();
  });

  test('only GET /login is served without the token', async () => {
    for (const path of ['/login/../api/data', '/loginx', '/login/index.html', '/login%2F..%2Fapi%2Fdata', '/login/', '/api/data?next=/login', '/login.html']) {
      assert.equal(await get(port, path), 401, `${path} needs the token`);
    }
    assert.equal(await get(port, '/login?token=wrong-token-wrong-token'), 401, 'the login route checks the token itself');
    assert.equal(await get(port, `/login?token=${encodeURIComponent(server.policy.token!)}`), 302, 'the right token sets the cookie and redirects');
  });
});
