import { expect, test } from "@playwright/test";
import { answerSurvey, criterion, stored, pairAsKiosk, waitHydrated } from "./helpers";

test("hydrated kiosk: the whole survey without a page load, stored once, then back to welcome", async ({ page, request }) => {
  const before = stored("PT-STP");
  await pairAsKiosk(page);
  // Opened afresh, the kiosk loads the surveys' own wasm, not the site's.
  const wasm: string[] = [];
  page.on("request", (request) => {
    if (request.url().endsWith(".wasm")) wasm.push(new URL(request.url()).pathname);
  });
  await page.goto("/kiosk");
  await waitHydrated(page);
  expect(wasm).toEqual(["/pkg/surveys.wasm"]);
  await expect(page.getByText("Trung tâm Phục vụ hành chính công tỉnh Phú Thọ").first()).toBeVisible();

  let loads = 0;
  page.on("load", () => loads++);
  await answerSurvey(page);
  expect(loads, "the hydrated kiosk never reloads the page").toBe(0);

  const after = stored("PT-STP");
  expect(after.responses).toBe(before.responses + 1);
  expect(criterion(after, "A1").counts[4]).toBe(criterion(before, "A1").counts[4] + 1);
  expect(criterion(after, "A3").counts[1]).toBe(criterion(before, "A3").counts[1] + 1);
  expect(criterion(after, "A2").valid, "a skipped criterion is not a valid answer").toBe(criterion(before, "A2").valid);

  // The thank-you screen returns to welcome by itself (3 s in this test server).
  await expect(page.getByRole("button", { name: "Bắt đầu" })).toBeVisible({ timeout: 8_000 });
});

test("kiosk with JavaScript disabled: every step is a form post, and it stores the response", async ({ browser, request }) => {
  const before = stored("PT-STP");
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await pairAsKiosk(page);
  await answerSurvey(page);
  const after = stored("PT-STP");
  expect(after.responses).toBe(before.responses + 1);
  expect(criterion(after, "A1").counts[4]).toBe(criterion(before, "A1").counts[4] + 1);
  // Without JavaScript a meta refresh brings the welcome screen back.
  await expect(page.getByRole("button", { name: "Bắt đầu" })).toBeVisible({ timeout: 8_000 });
  await context.close();
});

test("idle kiosk discards the answers and returns to welcome", async ({ page, request }) => {
  const before = stored("PT-STP");
  await pairAsKiosk(page);
  await waitHydrated(page);
  await page.getByRole("button", { name: "Bắt đầu" }).click();
  await page.getByText("Sở Tư pháp", { exact: true }).click();
  await page.getByRole("button", { name: "Tiếp tục →" }).click();
  await page.locator("fieldset.question", { hasText: "A1" }).getByText("Rất hài lòng", { exact: true }).click();
  await expect(page.getByText("Bước 1/8")).toBeVisible();
  // 4 s without a touch in this test server.
  await expect(page.getByRole("button", { name: "Bắt đầu" })).toBeVisible({ timeout: 10_000 });
  // Starting again shows a clean form: the earlier answer is gone.
  await page.getByRole("button", { name: "Bắt đầu" }).click();
  await page.getByText("Sở Tư pháp", { exact: true }).click();
  await page.getByRole("button", { name: "Tiếp tục →" }).click();
  await expect(page.locator("fieldset.question", { hasText: "A1" }).locator("input[value='5']")).not.toBeChecked();
  expect((stored("PT-STP")).responses).toBe(before.responses);
});

test("an unpaired browser is told so and cannot post answers", async ({ page }) => {
  await page.goto("/kiosk");
  await expect(page.getByRole("heading", { name: "Thiết bị chưa được đăng ký" })).toBeVisible();
  const res = await page.request.post("/kiosk", { form: { nav: "submit", id: "6f1c2a64-8a6e-4c59-9a43-0f2f3f6b9f10", "a-A1": "5" } });
  expect(res.status()).toBe(401);
  const pair = await page.request.get("/kiosk/pair/not-a-token");
  expect(pair.status()).toBe(404);
});
