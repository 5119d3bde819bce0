import { expect, test } from "@playwright/test";
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { BIN, ROOT } from "../paths";
import { CENTRE, answerSurvey, pairAsKiosk, stored, waitHydrated } from "./helpers";

// A kiosk that loses its network: a server of its own (so that it can be killed), the browser
// context offline. Surveys wait in the browser and are stored exactly once when the network
// returns.
const PORT = 3124;
const BASE = `http://127.0.0.1:${PORT}`;
const DIR = path.join(ROOT, "target/e2e-offline");
const DATABASE_URL = `sqlite://${path.join(DIR, "hailong.db")}`;
const ENV = {
  ...process.env,
  HAILONG_DATABASE_URL: DATABASE_URL,
  HAILONG_ADMIN_TOKEN: "e2e-admin-token-0001",
  HAILONG_PUBLIC_URL: BASE,
  HAILONG_KIOSK_IDLE_SECONDS: "60",
  HAILONG_KIOSK_THANKS_SECONDS: "1",
  LEPTOS_SITE_ROOT: "/nonexistent",
  RUST_LOG: "warn",
};

let server: ChildProcess | null = null;

async function startServer() {
  server = spawn(BIN, ["serve", "--addr", `127.0.0.1:${PORT}`], { env: ENV, cwd: os.tmpdir(), stdio: "ignore" });
  for (let i = 0; i < 150; i++) {
    try {
      if ((await fetch(`${BASE}/healthz`)).ok) return;
    } catch {}
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error("the server did not start");
}

/** The power goes: SIGKILL, no goodbye. */
async function killServer() {
  const running = server;
  server = null;
  if (!running || running.exitCode !== null) return;
  const exited = new Promise((resolve) => running.once("exit", resolve));
  running.kill("SIGKILL");
  await exited;
}

test.beforeAll(async () => {
  fs.rmSync(DIR, { recursive: true, force: true });
  execFileSync(BIN, ["demo"], { env: ENV, cwd: os.tmpdir(), stdio: "ignore" });
  await startServer();
});

test.afterAll(killServer);

test("offline kiosk: 5 surveys answered with no network, a reload included, are stored exactly once when it returns", async ({ browser }) => {
  test.setTimeout(180_000);
  const context = await browser.newContext({ baseURL: BASE });
  const page = await context.newPage();
  await pairAsKiosk(page, CENTRE, DATABASE_URL);
  await waitHydrated(page);
  // The service worker has cached the page and now sees its requests.
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 20_000 });
  const before = stored("PT-STP", DATABASE_URL);
  const queue = page.locator(".kiosk-queue");

  await killServer();
  await context.setOffline(true);
  for (let n = 1; n <= 5; n++) {
    await answerSurvey(page);
    await expect(queue).toHaveText(`${n} phiếu chờ gửi`);
    if (n === 3) {
      // Reloaded with no network: the page and its wasm come from the worker's cache, and
      // staff still see what waits.
      await page.reload();
      await waitHydrated(page);
      await expect(queue).toHaveText("3 phiếu chờ gửi");
    }
  }
  expect(stored("PT-STP", DATABASE_URL).responses).toBe(before.responses);

  await startServer();
  await context.setOffline(false);
  await expect(queue).toHaveCount(0, { timeout: 90_000 });
  const after = stored("PT-STP", DATABASE_URL);
  expect(after.responses).toBe(before.responses + 5);
  expect(after.today, "counted on the day they were answered").toBe(before.today + 5);

  // Nothing is sent twice: a reload and the worker's next rounds leave the count alone.
  await page.reload();
  await waitHydrated(page);
  await page.waitForTimeout(6_000);
  expect(stored("PT-STP", DATABASE_URL).responses).toBe(before.responses + 5);
  await context.close();
});
