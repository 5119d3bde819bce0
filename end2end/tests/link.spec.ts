import { expect, test, type Page } from "@playwright/test";
import { answerSurvey, indices } from "./helpers";

async function logIn(page: Page, username: string, password: string) {
  await page.goto("/login");
  await page.getByLabel("Tên đăng nhập").fill(username);
  await page.getByLabel("Mật khẩu").fill(password);
  await page.getByRole("button", { name: "Đăng nhập" }).click();
}

for (const javaScriptEnabled of [true, false]) {
  test(`survey link (JavaScript ${javaScriptEnabled ? "on" : "off"}): officer invites, citizen answers on a phone once, manager sees it`, async ({ browser, request }) => {
    const dossier = `HS-E2E-${javaScriptEnabled ? "JS" : "NOJS"}-${Date.now()}`;
    const before = await indices(request, "PT-STP");

    const officer = await browser.newContext({ javaScriptEnabled });
    const staff = await officer.newPage();
    await logIn(staff, "motcua.ttpvhcc", "hailong-demo-staff");
    await expect(staff.getByRole("heading", { name: "Gửi phiếu khảo sát" })).toBeVisible();
    await staff.getByLabel("Mã hồ sơ").fill(dossier);
    await staff.getByLabel("Thủ tục hành chính").selectOption({ label: "Đăng ký khai sinh" });
    await staff.getByLabel("Cơ quan giải quyết").selectOption({ label: "Sở Tư pháp" });
    await staff.getByRole("button", { name: "Tạo đường dẫn khảo sát" }).click();
    await expect(staff.locator("#invitation-status")).toHaveText("Chưa trả lời");
    await expect(staff.locator(".slip svg")).toHaveCount(1);
    const url = await staff.locator("#survey-link").getAttribute("href");
    expect(url).toMatch(/\/s\/[0-9a-f]{40}$/);

    // The same dossier again gives the same link.
    await staff.goto("/staff");
    await staff.getByLabel("Mã hồ sơ").fill(dossier);
    await staff.getByRole("button", { name: "Tạo đường dẫn khảo sát" }).click();
    await expect(staff.locator("#survey-link")).toHaveAttribute("href", url!);

    const phone = await browser.newContext({ javaScriptEnabled, viewport: { width: 390, height: 844 }, isMobile: true });
    const citizen = await phone.newPage();
    await citizen.goto(url!);
    await expect(citizen.getByText("Thủ tục: Đăng ký khai sinh")).toBeVisible();
    if (javaScriptEnabled) await expect(citizen.locator("body[data-hydrated=true]")).toHaveCount(1);
    await answerSurvey(citizen, { agencyStep: false });
    await expect(citizen.getByText("Ông/Bà có thể đóng trang này.")).toBeVisible();

    // A second attempt on the same link is refused with a clear page.
    const again = await citizen.goto(url!);
    expect(again?.status()).toBe(410);
    await expect(citizen.getByRole("heading", { name: "Phiếu khảo sát đã được trả lời" })).toBeVisible();
    const unknown = await citizen.goto("/s/0000000000000000000000000000000000000000");
    expect(unknown?.status()).toBe(404);

    await staff.goto(`/staff/invitations/${dossier}`);
    await expect(staff.locator("#invitation-status")).toHaveText("Đã trả lời");

    const after = await indices(request, "PT-STP");
    expect(after.responses).toBe(before.responses + 1);

    const lead = await browser.newPage();
    await logIn(lead, "lanhdao.stp", "hailong-demo-manager");
    await expect(lead.locator("#response-count")).toHaveText(String(after.responses));
    await officer.close();
    await phone.close();
  });
}
