import { expect, test, type Page } from "@playwright/test";
import { answerSurvey, logIn, stored, waitHydrated } from "./helpers";

async function logInAsAdmin(page: Page) {
  await logIn(page, "admin", "hailong-demo-admin");
  await expect(page.getByRole("heading", { name: "Chỉ số hài lòng" })).toBeVisible();
}

test("an admin registers a kiosk, the tablet pairs with the code and answers; once revoked, it must pair again", async ({ browser, request }) => {
  const admin = await browser.newPage();
  await logInAsAdmin(admin);
  await admin.goto("/admin/kiosks");
  await waitHydrated(admin);
  const name = `Kiosk quầy ${Date.now()}`;
  await admin.getByLabel("Tên thiết bị").fill(name);
  await admin.getByLabel("Điểm phục vụ").first().selectOption("PT-TTPVHCC");
  await admin.getByRole("button", { name: "Đăng ký và lấy mã ghép nối" }).click();
  const secret = admin.locator("#notice-secret");
  await expect(secret).toHaveText(/^\d{8}$/);
  await expect(admin.locator(".notice .qr svg")).toHaveCount(1);
  const code = (await secret.innerText()).trim();

  // The tablet: a browser of its own, pairing by the code (as typed from the admin's screen).
  const tablet = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  await tablet.goto("/kiosk/pair");
  await waitHydrated(tablet);
  await tablet.getByLabel("Mã ghép nối").fill("1234 5678");
  await tablet.getByRole("button", { name: "Ghép nối" }).click();
  await expect(tablet.getByRole("alert")).toContainText("Mã ghép nối không đúng");
  await tablet.getByLabel("Mã ghép nối").fill(code);
  await tablet.getByRole("button", { name: "Ghép nối" }).click();
  await expect(tablet).toHaveURL(/\/kiosk$/);
  await waitHydrated(tablet);
  const before = stored("PT-STP");
  await answerSurvey(tablet);
  expect((stored("PT-STP")).responses).toBe(before.responses + 1);
  await expect(tablet.getByRole("button", { name: "Bắt đầu" })).toBeVisible({ timeout: 10_000 });

  // The admin sees the kiosk working, then revokes it while the tablet waits for the next citizen.
  await admin.goto("/admin/kiosks");
  const row = admin.locator("tr", { has: admin.locator(`input[value="${name}"]`) });
  await expect(row.locator(".kiosk-status")).toHaveText("Đang hoạt động");
  await expect(row.locator("td.num")).toHaveText("1");
  await waitHydrated(admin);
  await row.getByRole("button", { name: "Thu hồi" }).click();
  await expect(admin.locator(".notice")).toContainText("Đã thu hồi kiosk");

  // The next survey on the tablet is refused, and the tablet asks to be paired again.
  await answerSurvey(tablet, { expectThanks: false });
  await expect(tablet).toHaveURL(/\/kiosk\/pair\?lost=1$/);
  await expect(tablet.getByRole("alert")).toContainText("đã bị thu hồi");
  expect((stored("PT-STP")).responses).toBe(before.responses + 1);
});

test("pairing works with JavaScript off too", async ({ browser }) => {
  const admin = await browser.newPage();
  await logInAsAdmin(admin);
  await admin.goto("/admin/kiosks");
  await waitHydrated(admin);
  await admin.getByLabel("Tên thiết bị").fill(`Kiosk không JS ${Date.now()}`);
  await admin.getByRole("button", { name: "Đăng ký và lấy mã ghép nối" }).click();
  const code = (await admin.locator("#notice-secret").innerText()).trim();

  const plain = await browser.newContext({ javaScriptEnabled: false });
  const tablet = await plain.newPage();
  await tablet.goto(`/kiosk/pair?code=${code}`);
  await expect(tablet.getByLabel("Mã ghép nối")).toHaveValue(code);
  await tablet.getByRole("button", { name: "Ghép nối" }).click();
  await expect(tablet.getByRole("button", { name: "Bắt đầu" })).toBeVisible();
  await plain.close();
});

test("an admin uploads a registry file, checks the preview, applies it, and adds an account", async ({ page }) => {
  await logInAsAdmin(page);
  await page.goto("/admin/agencies");
  // Sở Y tế gets a new code from 1 January 2026: a new department, and the old one closed into it.
  const csv = "code,name,kind,parent,valid_from,successor,serves\n" +
    "PT-SYTE,Sở Y tế (mã mới),department,PT,2026-01-01,,\n" +
    "PT-SYT,Sở Y tế,department,PT,2026-01-01,PT-SYTE,\n";
  await page.locator("input[type=file][name=file]").setInputFiles({ name: "don-vi.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
  await page.getByRole("button", { name: "Tải lên và xem trước" }).click();
  await expect(page).toHaveURL(/\/admin\/agencies\/import\/\d+$/);
  await expect(page.locator("#import-added")).toContainText("PT-SYTE — Sở Y tế (mã mới)");
  await expect(page.locator("#import-closed")).toContainText("PT-SYT — Sở Y tế: đóng từ 2026-01-01 (kế thừa: PT-SYTE)");
  await page.getByRole("button", { name: "Áp dụng các thay đổi" }).click();
  await expect(page).toHaveURL(/\/admin\/agencies$/);
  await expect(page.locator(".notice")).toContainText("1 thêm, 0 sửa, 1 đóng");
  await expect(page.locator("tr[data-code=PT-SYT]")).toContainText("Đã đóng từ 01/01/2026");

  // A file with a bad line: every error is listed, nothing is applied.
  await page.locator("input[type=file][name=file]").setInputFiles({
    name: "loi.csv", mimeType: "text/csv",
    buffer: Buffer.from("code,name,kind,parent,valid_from,successor,serves\nPT-X-2,Xã hai,district,NOPE,,,\n"),
  });
  await page.getByRole("button", { name: "Tải lên và xem trước" }).click();
  await expect(page.locator("#import-errors")).toContainText("Dòng 2 (PT-X-2): loại đơn vị \"district\" không có");
  await expect(page.getByRole("button", { name: "Áp dụng các thay đổi" })).toHaveCount(0);

  await page.goto("/admin/users");
  await waitHydrated(page);
  const username = `canbo${Date.now() % 100000}`;
  await page.getByLabel("Tên đăng nhập").fill(username);
  await page.getByLabel("Vai trò").first().selectOption("staff");
  await page.getByLabel("Cơ quan, đơn vị").first().selectOption("PT-TTPVHCC");
  await page.getByRole("button", { name: "Tạo tài khoản" }).click();
  await expect(page.locator("#notice-secret")).toHaveText(/^[a-z0-9]{16}$/);
  await expect(page.locator(`tr[data-user="${username}"]`)).toContainText("Chưa đổi mật khẩu dùng một lần");
  await page.goto("/admin/audit?action=user.add");
  await expect(page.locator("table.audit")).toContainText(username);
});
