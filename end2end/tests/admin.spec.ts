import { expect, test, type Page } from "@playwright/test";
import { kioskToken, logIn, submitLogin, waitHydrated } from "./helpers";

/** Submits the login form once, hydrated, and leaves the outcome to the test. */
async function tryLogIn(page: Page, username: string, password: string) {
  await page.goto("/login");
  await waitHydrated(page);
  await page.getByLabel("Tên đăng nhập").fill(username);
  await page.getByLabel("Mật khẩu").fill(password);
  await page.getByRole("button", { name: "Đăng nhập" }).click();
}

test("admin view: login, indices of an agency, a new response counts today but not in the indices, logout", async ({ page, request }) => {
  await page.goto("/admin");
  await expect(page.getByRole("heading", { name: "Cần đăng nhập" })).toBeVisible();
  await tryLogIn(page, "admin", "wrong-password");
  await expect(page.getByRole("alert")).toContainText("Tên đăng nhập hoặc mật khẩu không đúng");
  await logIn(page, "admin", "hailong-demo-admin");
  await expect(page.getByRole("heading", { name: "Chỉ số hài lòng" })).toBeVisible();

  const from = new Date(Date.now() - 90 * 86_400_000).toISOString().slice(0, 10);
  await page.goto(`/admin?agency=PT-SXD&from=${from}`);
  await expect(page.getByRole("heading", { name: "Sở Xây dựng" })).toBeVisible();
  const count = Number(await page.locator("#response-count").innerText());
  expect(count).toBeGreaterThan(0);
  const today = Number(await page.locator("#today-count strong").innerText());
  await expect(page.locator("tr[data-criterion]")).toHaveCount(16);

  const res = await request.post("/api/v1/responses", {
    headers: { Authorization: `Bearer ${await kioskToken(request)}` },
    data: { id: crypto.randomUUID(), agency: "PT-SXD", answers: { B4: 1 } },
  });
  expect(res.status()).toBe(201);

  // Until the day ends, a new response is a count, not levels anyone could compare.
  await page.reload();
  await expect(page.locator("#today-count strong")).toHaveText(String(today + 1));
  await expect(page.locator("#response-count")).toHaveText(String(count));
  await page.goto("/admin?agency=PT-SXD&from=2020-01-01&to=2020-12-31");
  await expect(page.locator("#response-count")).toHaveText("0");
  await expect(page.locator("#overall-index")).toHaveText("—");

  await waitHydrated(page);
  await page.getByRole("button", { name: "Đăng xuất" }).click();
  await expect(page).toHaveURL(/\/login$/);
  await page.goto("/admin");
  await expect(page.getByRole("heading", { name: "Cần đăng nhập" })).toBeVisible();
});

test("a manager sees only their agency's subtree; staff see no indices", async ({ browser }) => {
  const manager = await browser.newPage();
  await logIn(manager, "lanhdao.stp", "hailong-demo-manager");
  await expect(manager.getByRole("heading", { name: "Sở Tư pháp" })).toBeVisible();
  await expect(manager.locator("select[name=agency] option")).toHaveCount(1);
  const sibling = await manager.goto("/admin?agency=PT-SXD");
  expect(sibling?.status()).toBe(403);
  await expect(manager.getByRole("heading", { name: "Không có quyền truy cập" })).toBeVisible();

  const staff = await browser.newPage();
  await logIn(staff, "motcua.ttpvhcc", "hailong-demo-staff");
  await expect(staff).toHaveURL(/\/staff$/);
  const page = await staff.goto("/admin");
  expect(page?.status()).toBe(403);
  await expect(staff.getByRole("alert")).toContainText("không xem được chỉ số");
});

test("login works with JavaScript disabled, and a refused one says why on the login page", async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  expect(await submitLogin(page, "khong.co.ai", "khong-phai-mat-khau")).toBe(false);
  await expect(page).toHaveURL(/\/login\?/);
  await expect(page.getByRole("alert")).toContainText("Tên đăng nhập hoặc mật khẩu không đúng");
  await logIn(page, "admin", "hailong-demo-admin");
  await expect(page.getByRole("heading", { name: "Chỉ số hài lòng" })).toBeVisible();
  await context.close();
});
