import { expect, test } from "@playwright/test";
import { ADMIN_TOKEN, CENTRE_KIOSK, waitHydrated } from "./helpers";

test("admin view: login, indices of an agency, and a new response shows up", async ({ page, request }) => {
  await page.goto("/admin");
  await expect(page.getByRole("heading", { name: "Đăng nhập quản trị" })).toBeVisible();
  await waitHydrated(page);
  await page.getByLabel("Mã quản trị").fill("wrong");
  await page.getByRole("button", { name: "Đăng nhập" }).click();
  await expect(page.getByRole("alert")).toContainText("Mã quản trị không đúng");
  await page.getByLabel("Mã quản trị").fill(ADMIN_TOKEN);
  await page.getByRole("button", { name: "Đăng nhập" }).click();
  await expect(page.getByRole("heading", { name: "Chỉ số hài lòng" })).toBeVisible();

  await page.goto("/admin?agency=PT-SXD");
  await expect(page.getByRole("heading", { name: "Sở Xây dựng" })).toBeVisible();
  const count = Number(await page.locator("#response-count").innerText());
  await expect(page.locator("tr[data-criterion]")).toHaveCount(16);
  await expect(page.locator("table.ranking tr.current")).toContainText("Sở Xây dựng");

  const res = await request.post("/api/v1/responses", {
    headers: { Authorization: `Bearer ${CENTRE_KIOSK}` },
    data: { id: crypto.randomUUID(), agency: "PT-SXD", answers: { B4: 1 } },
  });
  expect(res.status()).toBe(201);

  await page.reload();
  await expect(page.locator("#response-count")).toHaveText(String(count + 1));
  // A date range that ends before today leaves the new response out.
  await page.goto("/admin?agency=PT-SXD&from=2020-01-01&to=2020-12-31");
  await expect(page.locator("#response-count")).toHaveText("0");
  await expect(page.locator("#overall-index")).toHaveText("—");
});
