import { expect, test } from "@playwright/test";
import { logIn, waitHydrated } from "./helpers";
import * as XLSX from "xlsx";
import { readFileSync } from "node:fs";

const from = new Date(Date.now() - 90 * 86_400_000).toISOString().slice(0, 10);

test("a manager opens the dashboard, the ranking and the expectations, downloads the XLSX and prints the report", async ({ page }) => {
  await logIn(page, "lanhdao.stp", "hailong-demo-manager");
  await page.goto(`/admin?agency=PT-STP&from=${from}`);
  await expect(page.getByRole("heading", { name: "Sở Tư pháp" })).toBeVisible();
  const responses = Number(await page.locator("#response-count").innerText());
  const overall = await page.locator("#overall-index").innerText();
  expect(responses).toBeGreaterThan(0);
  await expect(page.locator("#overall-index")).toHaveText(/^\d+,\d\d%$/);
  await expect(page.locator("#overall-interval")).toHaveText(/^\d+,\d\d – \d+,\d\d%$/);
  await expect(page.locator("figure.chart svg")).toHaveCount(2);
  await expect(page.locator("#channels tbody tr")).toHaveCount(2);
  // Expectations: the areas ranked, the first with rank 1.
  await expect(page.locator("#expectations tbody tr").first().locator("td").first()).toHaveText("1");

  await page.getByRole("link", { name: "Xếp hạng" }).click();
  await expect(page.getByRole("heading", { name: "Xếp hạng đơn vị" })).toBeVisible();
  await expect(page.locator("#ranking tbody tr")).toHaveCount(1);
  await expect(page.locator("#ranking tbody tr").first()).toContainText("Sở Tư pháp");
  await expect(page.locator("#movement")).toContainText("đơn vị tăng điểm");

  await page.getByRole("link", { name: "Phân tổ" }).click();
  await page.locator("select[name=by]").selectOption("channel");
  await page.getByRole("button", { name: "Xem" }).click();
  await expect(page.locator("#breakdown tbody tr")).toHaveCount(2);

  // The responses as XLSX: the manager's own agency only, by month, no profile columns.
  // Hydrated, the link fetches the file itself and says how far it has come.
  await page.goto(`/admin?agency=PT-STP&from=${from}`);
  await waitHydrated(page);
  const xlsx = page.locator(".exports li", { hasText: "Phiếu trả lời" }).getByRole("link", { name: "Excel (.xlsx)" });
  // The page's chunk may still be on its way (a split build): the link says when it is live.
  await expect(xlsx).toHaveAttribute("data-ready", "true");
  const [download] = await Promise.all([page.waitForEvent("download"), xlsx.click()]);
  const workbook = XLSX.read(readFileSync(await download.path()));
  const rows: any[][] = XLSX.utils.sheet_to_json(workbook.Sheets["phieu-1"], { header: 1 });
  expect(rows[0].slice(0, 3)).toEqual(["thang", "co_quan", "diem_tiep_nhan"]);
  expect(rows[0]).not.toContain("gender");
  expect(rows.length - 1).toBe(responses);
  expect(rows.slice(1).every((row) => row[1] === "PT-STP")).toBe(true);
  await expect(page.locator(".exports .download-progress")).toContainText("Đã tải xong");

  // Another department's export is not theirs.
  const other = await page.request.get(`/api/v1/exports/responses.xlsx?agency=PT-SXD&from=${from}`);
  expect(other.status()).toBe(404);

  await page.getByRole("link", { name: "Báo cáo để in (khổ A4)" }).click();
  await expect(page.getByRole("heading", { name: /Báo cáo kết quả đo lường sự hài lòng/i })).toBeVisible();
  await page.emulateMedia({ media: "print" });
  await expect(page.locator("#printed-overall")).toBeVisible();
  await expect(page.locator(".no-print").first()).toBeHidden();
  await expect(page.locator("#printed-overall")).toHaveText(overall);
  const pdf = await page.pdf({ preferCSSPageSize: true });
  expect(pdf.subarray(0, 4).toString()).toBe("%PDF");
});

test("the province's report has the annex, the spread line and the data-quality page, in print and as XLSX", async ({ page }) => {
  await logIn(page, "admin", "hailong-demo-admin");
  await page.goto(`/admin/report?from=${from}&compare=same_period_last_year`);
  await expect(page.locator("#comparisons tbody tr")).toHaveCount(2);
  await expect(page.locator("#spread-department")).toHaveText(/từ \d+,\d\d% \(.+\) đến \d+,\d\d% \(.+\)\./);
  const annex = page.locator("#annex-department");
  await expect(annex.locator("thead th")).toHaveCount(15); // name, A–E, overall, weighted, n, N, rate, sample, rank, rank and score change
  expect(await annex.locator("tbody tr").count()).toBeGreaterThan(3);
  await expect(page.locator("#data-quality .skips tbody tr")).toHaveCount(16);
  await expect(page.locator("#channel-mix")).toContainText("kiosk");
  await expect(page.locator("#sample-drawn")).toContainText("Cách chọn mẫu: không chọn ngẫu nhiên.");
  // The province's reader sees what flagged kiosk-hours would change (the demo has none).
  await expect(page.locator("#sensitivity + p")).toHaveText(/giờ kiosk/);
  await page.emulateMedia({ media: "print" });
  await expect(page.locator("#annex")).toBeVisible();

  const xlsx = await page.request.get(`/api/v1/exports/report.xlsx?agency=PT&from=${from}`);
  expect(xlsx.status()).toBe(200);
  const workbook = XLSX.read(await xlsx.body());
  expect(workbook.SheetNames[0]).toBe("tong-quan");
  expect(workbook.SheetNames).toContain("phu-luc-department");
  expect(workbook.SheetNames.at(-1)).toBe("chat-luong");
});

test("the dashboard and the ranking work with JavaScript off", async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await logIn(page, "admin", "hailong-demo-admin");
  await page.goto(`/admin/rankings?from=${from}`);
  await page.locator("select[name=kind]").selectOption("commune");
  await page.getByRole("button", { name: "Xem" }).click();
  await expect(page).toHaveURL(/kind=commune/);
  await expect(page.locator("#ranking tbody tr")).toHaveCount(5);
  await expect(page.locator("#ranking tbody tr td.rank").first()).toHaveText("1");
  await context.close();
});

test("an admin enters the dossiers completed per month; a bad line is named and nothing is stored", async ({ page }) => {
  await logIn(page, "admin", "hailong-demo-admin");
  await page.goto("/admin/dossiers");
  await waitHydrated(page);
  const month = new Date().toISOString().slice(0, 7);
  const field = page.getByLabel(/Mỗi dòng: mã đơn vị/);
  await field.fill(`PT-P-VIETTRI,${month},1250\nPT-X-KHONGCO,${month},7`);
  await page.getByRole("button", { name: "Lưu số hồ sơ" }).click();
  await expect(page.getByRole("alert")).toContainText("Không có đơn vị mã PT-X-KHONGCO");
  await expect(page.locator("table.dossiers tbody tr", { hasText: "PT-P-VIETTRI" })).toHaveCount(0);

  await field.fill(`PT-P-VIETTRI,${month},1250`);
  await page.getByRole("button", { name: "Lưu số hồ sơ" }).click();
  const row = page.locator("table.dossiers tbody tr", { hasText: "PT-P-VIETTRI" });
  await expect(row).toContainText("1250");
  await expect(row).toContainText("UBND phường Việt Trì");
});
