//! `hailong demo`: a realistic demo province in the two-level shape of 1 July 2025, with one
//! kiosk per service point and a few hundred sample responses. Running it again changes nothing.

use anyhow::Context;
use app::domain::account::Role;
use app::domain::audit::{Actor, AuditAction};
use app::domain::given::Given;
use app::domain::splitmix::SplitMix;
use app::domain::submission::Levels;
use app::domain::{AgencyKind, Submission};
use app::service::AppState;
use app::storage::Kiosk;
use chrono::{Datelike, Duration, Utc};

const PROVINCE: &str = "PT";
const CENTRE: &str = "PT-TTPVHCC";

/// (code, name, kind, parent)
const AGENCIES: &[(&str, &str, AgencyKind, Option<&str>)] = &[
    (PROVINCE, "UBND tỉnh Phú Thọ", AgencyKind::Province, None),
    ("PT-SNV", "Sở Nội vụ", AgencyKind::Department, Some(PROVINCE)),
    ("PT-STP", "Sở Tư pháp", AgencyKind::Department, Some(PROVINCE)),
    ("PT-STC", "Sở Tài chính", AgencyKind::Department, Some(PROVINCE)),
    ("PT-SXD", "Sở Xây dựng", AgencyKind::Department, Some(PROVINCE)),
    ("PT-SNNMT", "Sở Nông nghiệp và Môi trường", AgencyKind::Department, Some(PROVINCE)),
    ("PT-SYT", "Sở Y tế", AgencyKind::Department, Some(PROVINCE)),
    (CENTRE, "Trung tâm Phục vụ hành chính công tỉnh Phú Thọ", AgencyKind::ServiceCentre, Some(PROVINCE)),
    ("PT-TTPVHCC-VY", "Chi nhánh Trung tâm PVHCC tại phường Vĩnh Yên", AgencyKind::ServiceBranch, Some(CENTRE)),
    ("PT-TTPVHCC-HB", "Chi nhánh Trung tâm PVHCC tại phường Hòa Bình", AgencyKind::ServiceBranch, Some(CENTRE)),
    ("PT-P-VIETTRI", "UBND phường Việt Trì", AgencyKind::Commune, Some(PROVINCE)),
    ("PT-P-VINHYEN", "UBND phường Vĩnh Yên", AgencyKind::Commune, Some(PROVINCE)),
    ("PT-P-HOABINH", "UBND phường Hòa Bình", AgencyKind::Commune, Some(PROVINCE)),
    ("PT-X-TAMNONG", "UBND xã Tam Nông", AgencyKind::Commune, Some(PROVINCE)),
    ("PT-X-MAICHAU", "UBND xã Mai Châu", AgencyKind::Commune, Some(PROVINCE)),
    ("PT-CA", "Công an tỉnh Phú Thọ", AgencyKind::Vertical, Some(PROVINCE)),
];

/// The centre and its branches receive the departments' dossiers; communes serve themselves.
const CENTRE_SERVES: &[&str] = &["PT-SNV", "PT-STP", "PT-STC", "PT-SXD", "PT-SNNMT", "PT-SYT", "PT-CA"];
const SERVICE_POINTS: &[&str] = &[
    CENTRE,
    "PT-TTPVHCC-VY",
    "PT-TTPVHCC-HB",
    "PT-P-VIETTRI",
    "PT-P-VINHYEN",
    "PT-P-HOABINH",
    "PT-X-TAMNONG",
    "PT-X-MAICHAU",
];

/// One account per role: (username, role, agency, password). Known passwords: one-time, to be
/// changed at first login; `hailong serve` warns while any still works.
const DEMO_ACCOUNTS: &[(&str, Role, Option<&str>, &str)] = &[
    ("admin", Role::Admin, None, "hailong-demo-admin"),
    ("lanhdao.stp", Role::Manager, Some("PT-STP"), "hailong-demo-manager"),
    ("motcua.ttpvhcc", Role::Staff, Some(CENTRE), "hailong-demo-staff"),
];

/// A few procedures (thủ tục hành chính) for the invitation form; an admin extends the list.
const PROCEDURES: &[(&str, &str)] = &[
    ("KS", "Đăng ký khai sinh"),
    ("KH", "Đăng ký kết hôn"),
    ("LLTP", "Cấp Phiếu lý lịch tư pháp"),
    ("GPXD", "Cấp giấy phép xây dựng"),
    ("GCN-QSDD", "Cấp Giấy chứng nhận quyền sử dụng đất lần đầu"),
    ("DKKD", "Đăng ký thành lập hộ kinh doanh"),
];

/// How many sample responses the demo stores.
const SAMPLE_RESPONSES: u64 = 1200;

/// The demo's agencies as the registry's import format: the same path a province takes.
fn registry_csv() -> String {
    let mut csv = String::from("code,name,kind,parent,valid_from,successor,serves\n");
    for (code, name, kind, parent) in AGENCIES {
        let serves = if SERVICE_POINTS[..3].contains(code) { CENTRE_SERVES.join(";") } else { String::new() };
        csv.push_str(&format!("{code},{name},{},{},,,{serves}\n", kind.as_str(), parent.unwrap_or("")));
    }
    csv
}

pub async fn load(state: &AppState, public_url: &str) -> anyhow::Result<()> {
    // The demo's accounts have known passwords and its responses are made up: never mix them
    // into a province's real data.
    let foreign = state.agencies().await?.into_iter().find(|a| AGENCIES.iter().all(|(code, ..)| *code != a.code));
    if let Some(agency) = foreign {
        anyhow::bail!(
            "cơ sở dữ liệu này đã có cơ quan {} ({}) không thuộc tỉnh demo; chỉ nạp demo vào một cơ sở dữ liệu thử",
            agency.code,
            agency.name
        );
    }
    let demo = Actor::new("demo", None);
    let rows = AppState::read_registry_csv(&registry_csv()).map_err(|e| anyhow::anyhow!(e.to_string()))?;
    state
        .apply_registry(&demo, &rows, None, AuditAction::AgenciesImported)
        .await
        .map_err(|e| anyhow::anyhow!(e.to_string()))?;
    let mut kiosks = Vec::new();
    let mut pairing = Vec::new();
    let existing = state.kiosks().await?;
    for point in SERVICE_POINTS {
        // One kiosk per point; each run gives it a fresh pairing code to print.
        let name = format!("Kiosk demo {point}");
        let code = match existing.iter().find(|k| k.kiosk.name == name) {
            Some(listed) => {
                kiosks.push(listed.kiosk.clone());
                state.repair_kiosk(&demo, listed.kiosk.id).await?
            }
            None => {
                let pairing = state.register_kiosk(&demo, point, &name).await?;
                kiosks.push(Kiosk { id: pairing.kiosk_id, agency_code: point.to_string(), name });
                pairing
            }
        };
        pairing.push((point, code));
    }
    for (username, role, agency, password) in DEMO_ACCOUNTS {
        state.add_demo_user(username, *role, *agency, password, true).await?;
    }
    for (code, name) in PROCEDURES {
        state.save_procedure(&demo, code, name).await.map_err(|e| anyhow::anyhow!(e.to_string()))?;
    }
    let stored = store_samples(state, &kiosks).await.context("không lưu được phiếu mẫu")?;
    // Sở Xây dựng entered its completed dossiers: far more than its survey answers, so the
    // ranking lists it apart as "chưa đủ mẫu". The others' N is not entered (ranked on the floor).
    let this_month = app::domain::period::vietnam_day(Utc::now()).with_day(1).expect("a first day");
    let counts: Vec<String> = (0..3)
        .filter_map(|back| this_month.checked_sub_months(chrono::Months::new(back)))
        .map(|month| format!("PT-SXD,{},400", month.format("%Y-%m")))
        .collect();
    state.enter_dossier_counts(&demo, &counts.join("\n")).await.map_err(|e| anyhow::anyhow!(e.to_string()))?;

    println!(
        "Đã nạp tỉnh demo: {} cơ quan, {} điểm phục vụ, {stored} phiếu mẫu mới.",
        AGENCIES.len(),
        SERVICE_POINTS.len()
    );
    let until =
        pairing.first().map(|(_, p)| p.expires_at.with_timezone(&app::domain::period::vietnam()).format("%H:%M %d/%m"));
    println!(
        "\nGhép nối máy tính bảng: mở {public_url}/kiosk/pair và nhập mã của điểm phục vụ (dùng một lần, đến {}):",
        until.map(|u| u.to_string()).unwrap_or_default()
    );
    for (point, code) in &pairing {
        println!("  {point:<16} {}", code.code);
    }
    println!("  (Hết hạn thì cấp mã mới tại {public_url}/admin/kiosks, hoặc chạy lại hailong demo.)");
    println!("\nKiosk: {public_url}/kiosk · Chỉ số hài lòng: {public_url}/admin · Đăng nhập: {public_url}/login");
    println!("Tài khoản demo (tên đăng nhập / mật khẩu dùng một lần):");
    for (username, role, agency, password) in DEMO_ACCOUNTS {
        println!("  {:<18} {username} / {password}  ({})", role.label(), agency.unwrap_or("toàn tỉnh"));
    }
    println!(
        "  Lần đăng nhập đầu, mỗi tài khoản phải chọn mật khẩu mới (ít nhất {} ký tự).",
        app::domain::account::MIN_PASSWORD_CHARS
    );
    Ok(())
}

/// The demo accounts that still log in with their known password (`hailong serve` warns).
pub async fn accounts_still_on_demo_password(state: &AppState) -> anyhow::Result<Vec<String>> {
    let known: Vec<(&str, &str)> =
        DEMO_ACCOUNTS.iter().map(|(username, .., password)| (*username, *password)).collect();
    Ok(state.accounts_with_password(&known).await?)
}

/// Stores deterministic sample responses through the same validation and writer as the API
/// (without the kiosk limits: they are back-dated over two months).
async fn store_samples(state: &AppState, kiosks: &[Kiosk]) -> anyhow::Result<u64> {
    let mut random = SplitMix(0x5EED_2025);
    let mut stored = 0;
    for n in 0..SAMPLE_RESPONSES {
        let kiosk = &kiosks[(random.draw() % kiosks.len() as u64) as usize];
        let served = state.served_agencies(&kiosk.agency_code).await?;
        let agency = &served[(random.draw() % served.len() as u64) as usize];
        // Each agency leans to its own level of satisfaction, so the ranking has something to show.
        let lean = agency.code.bytes().map(u64::from).sum::<u64>() % 3;
        let mut answers = Levels::new();
        for (_, criterion) in state.questionnaire.criteria() {
            let roll = random.draw() % 20;
            let level = match roll {
                0 => Given::Absent,
                1 => Given::Is(1),
                2 => Given::Is(2),
                r if r < 4 + lean * 2 => Given::Is(3),
                r if r < 12 => Given::Is(4),
                _ => Given::Is(5),
            };
            answers.insert(criterion.code.clone(), level);
        }
        let id = uuid::Builder::from_random_bytes(random.bytes::<16>(n)).into_uuid();
        let expectations = [("X7", random.draw()), ("X9", random.draw())];
        let body = Submission {
            id: Given::Is(id.to_string()),
            agency: Given::Is(agency.code.clone()),
            answers: Given::Is(answers),
            expectations: Given::Is(
                expectations.map(|(code, r)| (code.to_owned(), Given::Is(1 + (r % 4) as i64))).into(),
            ),
            ..Submission::default()
        };
        let submitted_at = Utc::now() - Duration::minutes((random.draw() % (60 * 24 * 60)) as i64);
        let outcome = state.store_from_kiosk(kiosk, &body, submitted_at).await?;
        if outcome.1 == app::storage::Outcome::New {
            stored += 1;
        }
    }
    Ok(stored)
}

/// Responses per transaction of the bulk path at most: a transaction holds one day.
const BULK_BATCH: usize = 20_000;
/// Days the bulk responses spread over: the last 24 months.
const BULK_DAYS: u64 = 730;

/// `hailong demo --responses N`: N made-up responses spread evenly over the last 24 months,
/// written a day per transaction (the aggregates merge once per day, not per response) under
/// ids in the order they are written (each insert appends to the tables instead of touching a
/// random page). Each agency has its own level of satisfaction that improves over the two years, so
/// the rankings, trends and breakdowns have something to show. The same N gives the same
/// responses, so running it again adds nothing.
pub async fn load_bulk(state: &AppState, count: u64) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let stored = load_bulk_at(state, count, SERVICE_POINTS).await?;
    println!("Đã nạp {stored} phiếu tổng hợp mới (trên {count}) trong {:.1} giây.", started.elapsed().as_secs_f64());
    Ok(())
}

/// The bulk path of [`load_bulk`] at `service_points` of whatever registry the database holds
/// (the submit benchmark's, for one); returns how many responses were new.
pub async fn load_bulk_at(state: &AppState, count: u64, service_points: &[&str]) -> anyhow::Result<u64> {
    use app::domain::submission::Channel;
    use app::domain::ValidResponse;
    use app::storage::NewResponse;

    let points: Vec<(String, Vec<String>)> = {
        let mut points = Vec::new();
        for point in service_points {
            let served = state.served_agencies(point).await?.into_iter().map(|a| a.code).collect();
            points.push((point.to_string(), served));
        }
        points
    };
    let q = state.questionnaire.clone();
    let criteria: Vec<String> = q.criteria().map(|(_, c)| c.code.clone()).collect();
    let areas: Vec<String> = q.expectations.areas.iter().map(|a| a.code.clone()).collect();
    let mut random = SplitMix(0xB01D_2026 ^ count);
    let first_day = app::domain::period::vietnam_day(Utc::now()) - Duration::days(BULK_DAYS as i64);
    let mut stored = 0;
    let mut batch = Vec::with_capacity(BULK_BATCH);
    let day_of = |n: u64| first_day + Duration::days((n * BULK_DAYS / count.max(1)) as i64);
    for n in 0..count {
        let day = day_of(n);
        let (point, served) = &points[(random.draw() % points.len() as u64) as usize];
        let agency = &served[(random.draw() % served.len() as u64) as usize];
        // 0..=40 points of lean per agency, up to 8 more by the end of the two years, and a
        // wobble from quarter to quarter, so that ranks move.
        let quarter = u64::from(chrono::Datelike::month(&day) - 1) / 3;
        let seed = agency.bytes().map(u64::from).sum::<u64>();
        let lean = seed % 41 + n * 8 / count.max(1) + seed * (quarter + 3) % 9;
        let answers = criteria
            .iter()
            .map(|code| {
                let roll = random.draw() % 100;
                let value = match roll {
                    0..=3 => None,
                    r if r < 8 => Some(1),
                    r if r < 14 => Some(2),
                    // A lean past 50 leaves no 3s (and does not underflow).
                    r if r < 50u64.saturating_sub(lean) => Some(3),
                    r if r < 80 => Some(4),
                    _ => Some(5),
                };
                (code.clone(), value)
            })
            .collect();
        let expectations = areas
            .iter()
            .filter_map(|a| {
                let roll = random.draw();
                (!roll.is_multiple_of(3)).then(|| (a.clone(), 1 + (roll / 3 % 4) as u8))
            })
            .collect();
        let profile = q
            .profile
            .iter()
            .filter_map(|question| {
                let roll = random.draw();
                let option = &question.options[(roll / 5 % question.options.len() as u64) as usize];
                (!roll.is_multiple_of(5)).then(|| (question.code.clone(), option.code.clone()))
            })
            .collect();
        let kiosk = !random.draw().is_multiple_of(5);
        let hour = 1 + random.draw() % 10; // 08:00–17:00 in Vietnam
        batch.push(NewResponse {
            response: ValidResponse {
                id: uuid::Builder::from_unix_timestamp_millis(n, &random.bytes::<10>(count)).into_uuid(),
                agency: agency.clone(),
                questionnaire_version: q.version.clone(),
                answers,
                expectations,
                profile,
                comment: None,
                day: None,
            },
            service_point: if kiosk { point.clone() } else { agency.clone() },
            kiosk_id: None,
            channel: if kiosk { Channel::Kiosk } else { Channel::Link },
            submitted_at: app::domain::period::start_of_day(day) + Duration::hours(hour as i64),
        });
        if batch.len() == BULK_BATCH || n + 1 == count || day_of(n + 1) != day {
            stored += state.store_bulk(&batch).await?;
            batch.clear();
        }
    }
    Ok(stored)
}
