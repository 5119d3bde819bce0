import { test } from "@playwright/test";
import { logIn } from "./helpers";

const from = new Date(Date.now() - 365 * 86_400_000).toISOString().slice(0, 10);

test("screenshots for the closing note", async ({ page }) => {
  await page.setViewportSize({ width: 794, height: 1123 });
  await logIn(page, "admin", "hailong-demo-admin");
  await page.goto(`/admin/report?from=${from}&compare=same_period_last_year`);
  await page.emulateMedia({ media: "print" });
  await page.screenshot({ path: "/tmp/shots/report-a4-top.png" });
  await page.locator("#data-quality").scrollIntoViewIfNeeded();
  await page.locator("#data-quality").screenshot({ path: "/tmp/shots/report-a4-quality.png" });
  await page.locator("#annex").screenshot({ path: "/tmp/shots/report-a4-annex.png" });
  await page.locator("#spread-department").locator("xpath=..").screenshot({ path: "/tmp/shots/report-a4-ranking.png" });
  await page.pdf({ path: "/tmp/shots/report.pdf", format: "A4" });
  await page.emulateMedia({ media: "screen" });
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto(`/admin/rankings?kind=department&from=${from}&compare=same_period_last_year`);
  await page.screenshot({ path: "/tmp/shots/ranking.png", fullPage: true });
  await page.goto(`/admin?from=${from}`);
  await page.screenshot({ path: "/tmp/shots/dashboard.png" });
});
