import { execFileSync } from "node:child_process";
import AxeBuilder from "@axe-core/playwright";
import { expect, type APIRequestContext, type Page } from "@playwright/test";
import { BIN, DATABASE_URL } from "../paths";

export const ADMIN_TOKEN = "e2e-admin-token-0001";
/** The demo's provincial service centre: it serves several departments. */
export const CENTRE = "PT-TTPVHCC";

/**
 * What is stored for an agency, read straight from the SQLite file (reports show closed days
 * only, so a response given now is checked here): all its responses, those of today (Vietnam
 * time) and the answers per criterion and level, shaped like an index for `criterion()`.
 */
export function stored(agency: string, databaseUrl = DATABASE_URL) {
  const script = `
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
agency = sys.argv[2]
responses, today = db.execute("SELECT COUNT(*), COALESCE(SUM(date(hour * 3600, 'unixepoch', '+7 hours') = date('now', '+7 hours')), 0) FROM responses WHERE agency_code = ?", (agency,)).fetchone()
# answers are packed one character per criterion in the questionnaire's order: 1-5, '-' skipped, '.' not shown
layouts = {v: [c["code"] for e in json.loads(b)["elements"] for c in e["criteria"]] for v, b in db.execute("SELECT version, body FROM questionnaires")}
criteria = {}
for version, packed, n in db.execute("SELECT questionnaire_version, answers, COUNT(*) FROM responses WHERE agency_code = ? GROUP BY 1, 2", (agency,)):
    for code, value in zip(layouts[version], packed):
        if value == ".":
            continue
        counts = criteria.setdefault(code, [0] * 5)
        if value != "-":
            counts[int(value) - 1] += n
print(json.dumps({"responses": responses, "today": today, "elements": [{"criteria": [{"code": c, "counts": v, "valid": sum(v)} for c, v in criteria.items()]}]}))
`;
  const out = execFileSync("python3", ["-c", script, databaseUrl.replace(/^sqlite:\/\//, ""), agency]);
  return JSON.parse(out.toString());
}

export function criterion(index: any, code: string) {
  for (const element of index.elements) {
    for (const c of element.criteria) if (c.code === code) return c;
  }
  throw new Error(`no criterion ${code}`);
}

/** Registers a kiosk at `point` with the CLI, as an admin would, and returns its pairing code. */
export function pairingCode(point = CENTRE, databaseUrl = DATABASE_URL): string {
  const out = execFileSync(BIN, ["kiosk", "add", "--agency", point, "--name", `Kiosk e2e ${Date.now()}`, "--json"], {
    env: { ...process.env, HAILONG_DATABASE_URL: databaseUrl },
  });
  return JSON.parse(out.toString()).pairing_code;
}

/** A device token of a new kiosk at `point`, as kiosk software gets it. */
export async function kioskToken(request: APIRequestContext, point = CENTRE): Promise<string> {
  const res = await request.post("/api/v1/kiosks/pair", { data: { code: pairingCode(point) } });
  expect(res.status()).toBe(201);
  return (await res.json()).token;
}

/** Pairs this browser as a kiosk at `point` through the pairing page. */
export async function pairAsKiosk(page: Page, point = CENTRE, databaseUrl = DATABASE_URL) {
  await page.goto("/kiosk/pair");
  await page.getByLabel("Mã ghép nối").fill(pairingCode(point, databaseUrl));
  await page.getByRole("button", { name: "Ghép nối" }).click();
  await expect(page).toHaveURL(/\/kiosk$/);
}

export async function waitHydrated(page: Page) {
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1, { timeout: 20_000 });
}

/** Picks a level for a criterion: `value` 1–5, or "Bỏ qua". */
async function rate(page: Page, code: string, label: string) {
  await page.locator("fieldset.question", { hasText: code }).getByText(label, { exact: true }).click();
}

/**
 * Answers the whole survey at the centre's kiosk for Sở Tư pháp: A1 "Rất hài lòng", A2 skipped,
 * A3 "Không hài lòng", the rest untouched (skipped), one expectation, a profile item, a comment.
 */
export async function answerSurvey(
  page: Page,
  { agencyStep = true, expectThanks = true, check = async (_screen: string) => {} } = {},
) {
  await expect(page.getByRole("button", { name: "Bắt đầu" })).toBeVisible();
  await check("welcome");
  await page.getByRole("button", { name: "Bắt đầu" }).click();
  if (agencyStep) {
    await expect(page.getByRole("heading", { name: "Hồ sơ của Ông/Bà thuộc cơ quan nào?" })).toBeVisible();
    await check("agency");
    await page.getByRole("button", { name: "Tiếp tục →" }).click();
    await expect(page.getByRole("alert")).toContainText("Vui lòng chọn cơ quan");
    await check("agency, not chosen");
    await page.getByText("Sở Tư pháp", { exact: true }).click();
    await page.getByRole("button", { name: "Tiếp tục →" }).click();
  }

  await expect(page.getByText("Bước 1/8")).toBeVisible();
  await check("step 1");
  await rate(page, "A1", "Rất hài lòng");
  await rate(page, "A2", "Bỏ qua");
  await rate(page, "A3", "Không hài lòng");
  await page.getByRole("button", { name: "Tiếp tục →" }).click();
  await expect(page.getByText("Bước 2/8")).toBeVisible();
  // Back keeps what was chosen.
  await page.getByRole("button", { name: "← Quay lại" }).click();
  await expect(page.locator("fieldset.question", { hasText: "A1" }).locator("input[value='5']")).toBeChecked();
  for (let step = 2; step <= 6; step++) {
    await page.getByRole("button", { name: "Tiếp tục →" }).click();
    await expect(page.getByText(`Bước ${step}/8`)).toBeVisible();
    await check(`step ${step}`);
  }
  await expect(page.getByRole("heading", { name: "Sự mong đợi" })).toBeVisible();
  await page.locator("fieldset.question", { hasText: "Chuyển đổi số" }).getByText("Rất mong muốn", { exact: true }).click();
  await page.getByRole("button", { name: "Tiếp tục →" }).click();
  await check("profile");
  await page.locator("fieldset.question", { hasText: "Độ tuổi" }).getByText("Từ 25 đến 34", { exact: true }).click();
  await page.getByRole("button", { name: "Tiếp tục →" }).click();
  await expect(page.getByText("Bước 8/8")).toBeVisible();
  await check("comment");
  await page.getByRole("textbox").fill("Cán bộ hướng dẫn tận tình, nhưng phải chờ lâu.");
  await page.getByRole("button", { name: "Gửi phiếu" }).click();
  if (expectThanks) {
    await expect(page.getByRole("heading", { name: "Xin cảm ơn Ông/Bà!" })).toBeVisible();
    await check("thanks");
  }
}

/** Runs axe-core on the page: no WCAG 2.1 A or AA violation on `screen`. */
export async function accessible(page: Page, screen: string) {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  const found = results.violations.map(
    (v) => `${screen}: ${v.id} (${v.impact}) ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(", ")}`,
  );
  expect(found, `accessibility of ${screen}`).toEqual([]);
}

/**
 * The password the browser tests choose for a demo account at its first login: demo passwords
 * are one-time, and the specs share one database, so whichever spec logs in first changes it.
 */
export function chosenPassword(demoPassword: string): string {
  return `${demoPassword}-e2e`;
}

/**
 * Submits the login form: true once the browser is on a signed-in page (or the password page),
 * false when the login is refused — said in the page's alert, with or without JavaScript (without,
 * the refusal comes back in the login page's address).
 */
export async function submitLogin(page: Page, username: string, password: string): Promise<boolean> {
  await page.goto("/login");
  await page.getByLabel("Tên đăng nhập").fill(username);
  await page.getByLabel("Mật khẩu").fill(password);
  await page.getByRole("button", { name: "Đăng nhập", exact: true }).click();
  const outcome = async (): Promise<"in" | "refused" | "waiting"> => {
    const url = new URL(page.url());
    if (/^\/(admin|staff|account\/password)(\/|$)/.test(url.pathname)) return "in";
    if (await page.getByRole("alert").first().isVisible()) return "refused";
    return "waiting";
  };
  await expect.poll(outcome, { timeout: 20_000 }).not.toBe("waiting");
  return (await outcome()) === "in";
}

/**
 * Logs a demo account in through the form (with or without JavaScript) and waits until it is
 * past the login and password pages. `demoPassword` is what `hailong demo` printed: the first
 * login anywhere in the run replaces it by `chosenPassword(demoPassword)` on /account/password;
 * later logins use the chosen one.
 */
export async function logIn(page: Page, username: string, demoPassword: string) {
  const chosen = chosenPassword(demoPassword);
  if (!(await submitLogin(page, username, chosen))) {
    if (!(await submitLogin(page, username, demoPassword))) {
      throw new Error(`${username} cannot log in with ${chosen} nor with the demo password (${page.url()})`);
    }
    await expect(page).toHaveURL(/\/account\/password$/);
    await page.getByLabel("Mật khẩu hiện tại", { exact: true }).fill(demoPassword);
    await page.getByLabel("Mật khẩu mới", { exact: true }).fill(chosen);
    await page.getByLabel("Nhập lại mật khẩu mới", { exact: true }).fill(chosen);
    await page.getByRole("button", { name: "Đổi mật khẩu", exact: true }).click();
  }
  await page.waitForURL((url) => !url.pathname.startsWith("/login") && !url.pathname.startsWith("/account/password"));
}
