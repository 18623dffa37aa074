import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { SqliteStore } from '../coordinator/store/sqlite-store.ts';
import { CliProcess, killAllCliProcesses } from '../harness/cli-processes.ts';
import { runCli } from './helpers/run-cli.ts';
import { assertCliError } from './helpers/coded-errors.ts';

describe('dashboard CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ep-dash-cli-'));
  const db = join(dir, 'fleet.sqlite');
  new SqliteStore(db).close();
  after(killAllCliProcesses);

  test('`dashboard` beyond loopback prints a generated token and refuses requests without it', async () => {
    const p = new CliProcess('dashboard', ['dashboard', '--db', db, '--http', '0', '--http-host', '0.0.0.0']);
    await p.waitFor(/open: http:\/\/\S+/, 30_000);
    const login = new URL(/open: (http:\/\/\S+)/.exec(p.output)![1]);
    const token = login.searchParams.get('token')!;
    assert.ok(token.length >= 16);
    const base = `http://127.0.0.1:${login.port}`;
    assert.equal((await fetch(`${base}/api/data`)).status, 401);
    const ok = await fetch(`${base}/api/data`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(ok.status, 200);
    assert.deepEqual((await ok.json() as { devices: unknown[] }).devices, []);
    await p.kill();
  });

  test('a too-short configured token is a user error', () => {
    const r = runCli(['dashboard', '--db', db, '--http', '0', '--http-host', '0.0.0.0', '--http-token', 'short']);
    assertCliError(r, 'EP_DASHBOARD_TOKEN_SHORT', /5 characters/);
  });

  test('`coordinator --http` serves the dashboard on loopback even while the broker is unreachable', async () => {
    const p = new CliProcess('coordinator', ['coordinator', '--broker', 'mqtt://127.0.0.1:1', '--db', db, '--http', '0']);
    await p.waitFor(/dashboard listening url=(http:\/\/127\.0\.0\.1:\d+\/)/, 30_000);
    const url = /dashboard listening url=(http:\/\/127\.0\.0\.1:\d+\/)/.exec(p.output)![1];
    const page = await fetch(url);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /edgeprobe fleet dashboard/);
    const chart = await fetch(`${url}vendor/chart.umd.min.js`);
    assert.equal(chart.status, 200, 'Chart.js is served from the installed package');
    assert.match(chart.headers.get('content-type') ?? '', /javascript/);
    assert.doesNotMatch(p.output, /dashboard token|open: /, 'loopback: no token generated');
    await p.kill();
  });

  test('`report --html` writes one self-contained file', () => {
    const out = join(dir, 'report.html');
    const r = runCli(['report', '--db', db, '--html', out, '--json']);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(existsSync(out));
    const html = readFileSync(out, 'utf8');
    assert.doesNotMatch(html, /<(script|link)[^>]+(src|href)=/i, 'nothing loaded from elsewhere');
    assert.match(html, /<script id="embedded-data" type="application\/json">\{/);
    assert.ok(html.length > 200_000, 'Chart.js inlined');
    const bad = runCli(['report', '--db', db, '--html', out, '--model', 'nodir']);
    assertCliError(bad, 'EP_MODEL_DIR_FLAG_INVALID', /"nodir"/);
  });
});
