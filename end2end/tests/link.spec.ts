import { expect, test } from "@playwright/test";
import { answerSurvey, logIn, stored } from "./helpers";

for (const javaScriptEnabled of [true, false]) {
  test(`survey link (JavaScript ${javaScriptEnabled ? "on" : "off"}): officer invites, citizen answers on a phone once, manager sees it`, async ({ browser, request }) => {
    const dossier = `HS-E2E-${javaScriptEnabled ? "JS" : "NOJS"}-${Date.now()}`;
    const before = stored("PT-STP");

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

    // The same dossier of the same agency again gives the same link.
    await staff.goto("/staff");
    await staff.getByLabel("Mã hồ sơ").fill(dossier);
    await staff.getByLabel("Cơ quan giải quyết").selectOption({ label: "Sở Tư pháp" });
    await staff.getByRole("button", { name: "Tạo đường dẫn khảo sát" }).click();
    await expect(staff.locator("#survey-link")).toHaveAttribute("href", url!);

    // The link belongs to the citizen: another officer of the province looking the dossier up
    // sees where it stands, never the link or its QR code.
    const other = await browser.newContext({ javaScriptEnabled });
    const admin = await other.newPage();
    await logIn(admin, "admin", "hailong-demo-admin");
    await admin.goto(`/staff/invitations/PT-STP/${dossier}`);
    await expect(admin.locator("#invitation-status")).toHaveText("Chưa trả lời");
    await expect(admin.locator("#no-link")).toContainText("chỉ hiển thị cho cán bộ đã tạo");
    await expect(admin.locator("#survey-link")).toHaveCount(0);
    expect(await admin.content()).not.toContain(url!.split("/s/")[1]);
    await other.close();

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

    await staff.goto(`/staff/invitations/PT-STP/${dossier}`);
    await expect(staff.locator("#invitation-status")).toHaveText("Đã trả lời");

    const after = stored("PT-STP");
    expect(after.responses).toBe(before.responses + 1);

    const lead = await browser.newPage();
    await logIn(lead, "lanhdao.stp", "hailong-demo-manager");
    // Today's answers show on the manager's dashboard as a count only, never per level.
    await expect(lead.locator("#today-count strong")).toHaveText(String(after.today));
    await officer.close();
    await phone.close();
  });
}

test("an officer sends the link by SMS and e-mail; with no gateway it waits in the admin's outbox", async ({ browser }) => {
  const dossier = `HS-E2E-SEND-${Date.now()}`;
  const officer = await browser.newContext();
  const staff = await officer.newPage();
  await logIn(staff, "motcua.ttpvhcc", "hailong-demo-staff");
  await staff.getByLabel("Mã hồ sơ").fill(dossier);
  await staff.getByLabel("Số điện thoại di động").fill("12345");
  await staff.getByRole("button", { name: "Tạo đường dẫn khảo sát" }).click();
  await expect(staff.getByRole("alert")).toContainText("Số điện thoại di động không hợp lệ");
  const none = await staff.request.get(`/staff/invitations/PT-CA/${dossier}`);
  expect(none.status()).toBe(404); // a bad number created nothing

  await staff.getByLabel("Số điện thoại di động").fill("0912 345 678");
  await staff.getByLabel("E-mail").fill("dan@example.vn");
  await staff.getByRole("button", { name: "Tạo đường dẫn khảo sát" }).click();
  const deliveries = staff.locator("table.deliveries tbody tr");
  await expect(deliveries).toHaveCount(2);
  await expect(deliveries.nth(0)).toHaveAttribute("data-status", "outbox");
  await expect(deliveries.nth(0)).toContainText("091•••••78");
  await expect(deliveries.nth(0)).toContainText("Chưa gửi");
  await expect(deliveries.nth(1)).toContainText("d•••@example.vn");
  const url = await staff.locator("#survey-link").getAttribute("href");

  const adminContext = await browser.newContext();
  const admin = await adminContext.newPage();
  await logIn(admin, "admin", "hailong-demo-admin");
  await admin.goto("/admin/outbox");
  const sms = admin.locator("table.outbox tbody tr", { hasText: dossier }).filter({ hasText: "0912345678" });
  await expect(sms).toHaveCount(1);
  await expect(sms.locator("pre.message")).toContainText(url!);
  await sms.getByRole("button", { name: "Đã gửi" }).click();
  await expect(admin.locator("table.outbox tbody tr", { hasText: "0912345678" }).filter({ hasText: dossier })).toHaveCount(0);
  await expect(admin.locator("table.outbox tbody tr", { hasText: dossier })).toHaveCount(1); // the e-mail still waits

  await staff.reload();
  await expect(deliveries.nth(0)).toHaveAttribute("data-status", "sent");
  await expect(deliveries.nth(0)).toContainText("Đã gửi lúc");
  await expect(deliveries.nth(1)).toHaveAttribute("data-status", "outbox");
  await officer.close();
  await adminContext.close();
});
