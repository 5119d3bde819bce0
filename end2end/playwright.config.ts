import { defineConfig } from "@playwright/test";

// The browser tests run against the release build, served from a fresh database with the demo
// province loaded. Short kiosk timers let the idle and thank-you resets be seen in seconds.
const port = 3123;
const bin = process.env.HAILONG_BIN ?? "../target/release/hailong";
const db = "../target/e2e/hailong.db";

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
    command: `rm -rf ../target/e2e && ${bin} demo > /dev/null && exec ${bin} serve --addr 127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}/healthz`,
    reuseExistingServer: false,
    timeout: 60_000,
    env: {
      HAILONG_DATABASE_URL: `sqlite://${db}`,
      HAILONG_ADMIN_TOKEN: "e2e-admin-token-0001",
      HAILONG_PUBLIC_URL: `http://127.0.0.1:${port}`,
      HAILONG_KIOSK_IDLE_SECONDS: "4",
      HAILONG_KIOSK_THANKS_SECONDS: "3",
      LEPTOS_SITE_ROOT: "../target/site",
      RUST_LOG: "warn",
    },
  },
});
