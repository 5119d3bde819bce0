import { defineConfig } from "@playwright/test";
import os from "node:os";
import { BIN, DATABASE_URL, E2E_DIR } from "./paths";

// The browser tests run against the release build, served from a fresh database with the demo
// province loaded, started from a folder outside the checkout with no LEPTOS_SITE_ROOT: every
// page's styles and wasm come from the binary. Short kiosk timers let the idle and thank-you
// resets be seen in seconds.
const port = 3123;

export default defineConfig({
  testDir: "./tests",
  timeout: 60_000,
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [["list"]],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    launchOptions: {
      executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
      args: [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
      ],
    },
  },
  webServer: {
    command: `rm -rf ${E2E_DIR} && ${BIN} demo > /dev/null && exec ${BIN} serve --addr 127.0.0.1:${port}`,
    cwd: os.tmpdir(),
    url: `http://127.0.0.1:${port}/healthz`,
    reuseExistingServer: false,
    timeout: 60_000,
    env: {
      HAILONG_DATABASE_URL: DATABASE_URL,
      HAILONG_ADMIN_TOKEN: "e2e-admin-token-0001",
      HAILONG_PUBLIC_URL: `http://127.0.0.1:${port}`,
      HAILONG_KIOSK_IDLE_SECONDS: "4",
      HAILONG_KIOSK_THANKS_SECONDS: "3",
      // Link answers are stored at once (a mixed batch of one), so specs can count them.
      HAILONG_LINK_MIX: "1",
      LEPTOS_SITE_ROOT: "/nonexistent",
      RUST_LOG: "warn",
    },
  },
});
