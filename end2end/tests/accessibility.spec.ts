import { expect, test } from "@playwright/test";
import { accessible, answerSurvey, logIn, pairAsKiosk, waitHydrated } from "./helpers";

// axe-core on every screen a citizen sees, at a kiosk and on a phone: no WCAG 2.1 AA violation.

test("every kiosk screen passes axe-core (WCAG 2.1 AA)", async ({ page }) => {
  await page.goto("/kiosk/pair");
  await accessible(page, "pairing");
  await pairAsKiosk(page);
  await waitHydrated(page);
  await answerSurvey(page, { check: (screen) => accessible(page, `kiosk ${screen}`) });
});

test("a kiosk question starts with nothing chosen, and a level has a face", async ({ page }) => {
  await pairAsKiosk(page);
  await waitHydrated(page);
  await page.getByRole("button", { name: "Bắt đầu" }).click();
  await page.getByText("Sở Tư pháp", { exact: true }).click();
  await page.getByRole("button", { name: "Tiếp tục →" }).click();
  const question = page.locator("fieldset.question").first();
  await expect(question.locator("input:checked")).toHaveCount(0);
  await expect(question.locator("label.level:not(.skip) svg.face")).toHaveCount(5);
  // "Bỏ qua" is the quiet choice: smaller and greyer than a level.
  const skip = await question.locator("label.skip").boundingBox();
  const level = await question.locator("label.level-5").boundingBox();
  expect(skip!.height).toBeLessThanOrEqual(level!.height);
  await question.getByText("Bỏ qua").click();
  await expect(question.locator("input[value=skip]")).toBeChecked();
});

test("every survey-link screen on a phone passes axe-core (WCAG 2.1 AA)", async ({ browser }) => {
  const officer = await browser.newPage();
  await logIn(officer, "motcua.ttpvhcc", "hailong-demo-staff");
  await officer.getByLabel("Mã hồ sơ").fill(`HS-A11Y-${Date.now()}`);
  await officer.getByLabel("Cơ quan giải quyết").selectOption({ label: "Sở Tư pháp" });
  await officer.getByRole("button", { name: "Tạo đường dẫn khảo sát" }).click();
  const url = await officer.locator("#survey-link").getAttribute("href");

  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
  const citizen = await phone.newPage();
  await citizen.goto(url!);
  await waitHydrated(citizen);
  await answerSurvey(citizen, { agencyStep: false, check: (screen) => accessible(citizen, `link ${screen}`) });
  await citizen.goto(url!);
  await expect(citizen.getByRole("heading", { name: "Phiếu khảo sát đã được trả lời" })).toBeVisible();
  await accessible(citizen, "link answered");
  await citizen.goto("/s/0000000000000000000000000000000000000000");
  await accessible(citizen, "link unknown");
  await phone.close();
});
