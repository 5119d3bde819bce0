//! Validation of a submitted response (phiếu trả lời) against the questionnaire it answers.
//!
//! The input is typed field by field, each field [`Given`]: a wrong type in one field gives that
//! field its own Vietnamese message, not one parse error for the whole body.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::de::IgnoredAny;
use uuid::{Uuid, Version};

use super::given::Given;
use super::questionnaire::Questionnaire;

/// Field path (`answers.A1`, `comment`, …) → what is wrong, in Vietnamese.
pub type FieldErrors = BTreeMap<String, String>;

/// Levels (of a criterion or an expectation) by code, as received.
pub type Levels = BTreeMap<String, Given<i64>>;

/// A submission as received: the JSON object of the API, or the same built by the survey
/// screens from a draft ([`crate::survey::flow::Draft::to_submission`]).
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct Submission {
    /// The response's id, a random UUID the device made.
    pub id: Given<String>,
    /// The competent agency; may be left out where the point serves one.
    pub agency: Given<String>,
    pub answers: Given<Levels>,
    pub expectations: Given<Levels>,
    pub profile: Given<BTreeMap<String, Given<String>>>,
    pub comment: Given<String>,
    /// `YYYY-MM-DD`, the Vietnam day answered on, from a kiosk that was offline.
    pub day: Given<String>,
    /// Fields the questionnaire does not have: only their names are kept, to refuse them.
    #[serde(flatten)]
    pub unknown: BTreeMap<String, IgnoredAny>,
}

/// A response that passed validation; every criterion of the questionnaire is present, in order,
/// `None` meaning skipped (không trả lời).
#[derive(Clone, Debug, PartialEq)]
pub struct ValidResponse {
    pub id: Uuid,
    pub agency: String,
    pub questionnaire_version: String,
    pub answers: Vec<(String, Option<u8>)>,
    pub expectations: Vec<(String, u8)>,
    pub profile: Vec<(String, String)>,
    pub comment: Option<String>,
    /// The Vietnam day the citizen answered on, when the client says (a kiosk that was offline
    /// sends its queue later); `None` means today.
    pub day: Option<NaiveDate>,
}

/// How many days back a submission's `day` may be: a kiosk offline for longer has lost touch.
pub const MAX_DAYS_LATE: i64 = 7;

/// How a response reached us (kênh khảo sát).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Kiosk,
    Link,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Kiosk => "kiosk",
            Self::Link => "link",
        }
    }

    /// How reports name it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Kiosk => "Tại kiosk",
            Self::Link => "Qua đường liên kết",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Kiosk, Self::Link].into_iter().find(|c| c.as_str() == s)
    }
}

/// Validates `submission` for `questionnaire`; `served` are the agencies the collecting point
/// serves (the competent agency must be one of them, and may be left out when there is one);
/// `today` is the Vietnam day now, which a submitted `day` may not pass.
pub fn validate(
    questionnaire: &Questionnaire,
    served: &[String],
    submission: &Submission,
    today: NaiveDate,
) -> Result<ValidResponse, FieldErrors> {
    let mut errors = FieldErrors::new();
    for key in submission.unknown.keys() {
        errors.insert(key.clone(), "Trường này không có trong phiếu khảo sát.".into());
    }
    let id = parse_id(&submission.id, &mut errors);
    let agency = parse_agency(&submission.agency, served, &mut errors);
    let answers = parse_answers(questionnaire, &submission.answers, &mut errors);
    let expectations = parse_expectations(questionnaire, &submission.expectations, &mut errors);
    let profile = parse_profile(questionnaire, &submission.profile, &mut errors);
    let comment = parse_comment(questionnaire, &submission.comment, &mut errors);
    let day = parse_day(&submission.day, today, &mut errors);
    match (id, agency) {
        (Some(id), Some(agency)) if errors.is_empty() => Ok(ValidResponse {
            id,
            agency,
            questionnaire_version: questionnaire.version.clone(),
            answers,
            expectations,
            profile,
            comment,
            day,
        }),
        _ => Err(errors),
    }
}

/// A response's id must be a random (version 4) UUID. An id made from the clock (versions 1, 6,
/// 7) would store the second the citizen answered, which the hour-granular row hides; the nil
/// UUID is what a client with a broken generator sends, and it would swallow every response.
fn parse_id(value: &Given<String>, errors: &mut FieldErrors) -> Option<Uuid> {
    let parsed = value.as_ref().ok().and_then(|s| Uuid::parse_str(s).ok());
    let message = match (value, parsed) {
        (_, Some(id)) if id.get_version() == Some(Version::Random) => return parsed,
        (Given::Absent, _) => "Thiếu mã phiếu (id) do thiết bị tạo.",
        (_, Some(_)) => "Mã phiếu (id) phải là UUID ngẫu nhiên (phiên bản 4); mã tạo từ đồng hồ để lộ lúc trả lời.",
        (_, None) => "Mã phiếu (id) phải là một UUID hợp lệ.",
    };
    errors.insert("id".into(), message.into());
    None
}

fn parse_agency(value: &Given<String>, served: &[String], errors: &mut FieldErrors) -> Option<String> {
    let chosen = match value {
        Given::Absent => match served {
            [only] => return Some(only.clone()),
            _ => Err("Vui lòng chọn cơ quan giải quyết hồ sơ của Ông/Bà."),
        },
        Given::Is(code) if served.contains(code) => Ok(code.clone()),
        Given::Is(_) => Err("Cơ quan này không được phục vụ tại điểm khảo sát này."),
        Given::Wrong => Err("Mã cơ quan phải là một chuỗi ký tự."),
    };
    chosen.map_err(|message| errors.insert("agency".into(), message.into())).ok()
}

/// The day answered: `YYYY-MM-DD`, one of the last [`MAX_DAYS_LATE`] days up to `today`.
fn parse_day(value: &Given<String>, today: NaiveDate, errors: &mut FieldErrors) -> Option<NaiveDate> {
    let text = match value {
        Given::Absent => return None,
        Given::Is(text) => text,
        Given::Wrong => {
            errors.insert("day".into(), "Ngày trả lời (day) phải có dạng YYYY-MM-DD.".into());
            return None;
        }
    };
    let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d") else {
        errors.insert("day".into(), "Ngày trả lời (day) phải có dạng YYYY-MM-DD.".into());
        return None;
    };
    let earliest = today - chrono::Days::new(MAX_DAYS_LATE as u64 - 1);
    if day > today {
        errors.insert("day".into(), "Ngày trả lời (day) ở tương lai: hãy kiểm tra đồng hồ của thiết bị.".into());
    } else if day < earliest {
        errors.insert(
            "day".into(),
            format!("Phiếu trả lời quá {MAX_DAYS_LATE} ngày (trước {earliest}) không còn được nhận."),
        );
    }
    Some(day)
}

/// The object under `field`, or an error when it is there but is not an object.
fn object<'a, T>(
    field: &str,
    value: &'a Given<BTreeMap<String, T>>,
    errors: &mut FieldErrors,
) -> Option<&'a BTreeMap<String, T>> {
    match value {
        Given::Absent => None,
        Given::Is(map) => Some(map),
        Given::Wrong => {
            errors.insert(field.into(), "Phải là một đối tượng {mã: giá trị}.".into());
            None
        }
    }
}

/// A level in 1..=max, `None` for null (skipped), an error message otherwise.
fn level(value: &Given<i64>, max: u8) -> Result<Option<u8>, String> {
    match *value {
        Given::Absent => Ok(None),
        Given::Is(v) if (1..=i64::from(max)).contains(&v) => Ok(Some(v as u8)),
        Given::Is(_) => Err(format!("Mức đánh giá phải từ 1 đến {max} (hoặc null để bỏ qua).")),
        Given::Wrong => Err(format!("Mức đánh giá phải là một số nguyên từ 1 đến {max} (hoặc null để bỏ qua).")),
    }
}

fn parse_answers(
    questionnaire: &Questionnaire,
    value: &Given<Levels>,
    errors: &mut FieldErrors,
) -> Vec<(String, Option<u8>)> {
    if *value == Given::Absent {
        errors.insert("answers".into(), "Thiếu câu trả lời cho các tiêu chí.".into());
        return Vec::new();
    }
    let none = Levels::new();
    let map = object("answers", value, errors).unwrap_or(&none);
    for code in map.keys().filter(|code| !questionnaire.has_criterion(code)) {
        errors.insert(format!("answers.{code}"), "Tiêu chí này không có trong phiếu khảo sát.".into());
    }
    let answers: Vec<(String, Option<u8>)> = questionnaire
        .criteria()
        .map(|(_, criterion)| {
            let answer = map.get(&criterion.code).map_or(Ok(None), |v| level(v, 5));
            let answer = answer.unwrap_or_else(|message| {
                errors.insert(format!("answers.{}", criterion.code), message);
                None
            });
            (criterion.code.clone(), answer)
        })
        .collect();
    let answer_errors = errors.keys().any(|k| k.starts_with("answers"));
    if !answer_errors && answers.iter().all(|(_, a)| a.is_none()) {
        errors.insert("answers".into(), "Vui lòng đánh giá ít nhất một tiêu chí.".into());
    }
    answers
}

fn parse_expectations(
    questionnaire: &Questionnaire,
    value: &Given<Levels>,
    errors: &mut FieldErrors,
) -> Vec<(String, u8)> {
    let Some(map) = object("expectations", value, errors) else { return Vec::new() };
    let max = questionnaire.max_expectation();
    let mut parsed = Vec::new();
    for (code, value) in map {
        let field = format!("expectations.{code}");
        if !questionnaire.expectations.areas.iter().any(|a| &a.code == code) {
            errors.insert(field, "Nội dung mong đợi này không có trong phiếu khảo sát.".into());
            continue;
        }
        match level(value, max) {
            Ok(Some(v)) => parsed.push((code.clone(), v)),
            Ok(None) => {}
            Err(message) => {
                errors.insert(field, message);
            }
        }
    }
    parsed
}

fn parse_profile(
    questionnaire: &Questionnaire,
    value: &Given<BTreeMap<String, Given<String>>>,
    errors: &mut FieldErrors,
) -> Vec<(String, String)> {
    let Some(map) = object("profile", value, errors) else { return Vec::new() };
    let mut parsed = Vec::new();
    for (code, value) in map {
        let field = format!("profile.{code}");
        let Some(question) = questionnaire.profile.iter().find(|q| &q.code == code) else {
            errors.insert(field, "Thông tin này không có trong phiếu khảo sát.".into());
            continue;
        };
        match value {
            Given::Absent => {}
            Given::Is(option) if question.options.iter().any(|o| &o.code == option) => {
                parsed.push((code.clone(), option.clone()))
            }
            _ => {
                errors.insert(field, format!("{}: giá trị không nằm trong danh sách lựa chọn.", question.label));
            }
        }
    }
    parsed
}

fn parse_comment(questionnaire: &Questionnaire, value: &Given<String>, errors: &mut FieldErrors) -> Option<String> {
    let text = match value {
        Given::Absent => return None,
        // Form posts send line breaks as CRLF; count and store them as one character.
        Given::Is(text) => text.replace("\r\n", "\n"),
        Given::Wrong => {
            errors.insert("comment".into(), "Ý kiến phải là văn bản.".into());
            return None;
        }
    };
    let text = text.trim();
    let max = questionnaire.comment.max_chars;
    if text.chars().count() > max {
        errors.insert("comment".into(), format!("Ý kiến dài quá {max} ký tự, vui lòng rút gọn."));
        return None;
    }
    // Masked before it is stored: nobody, not even an admin, reads a phone number in it.
    (!text.is_empty()).then(|| super::comment::mask_personal(text))
}

/// What became of a submitted survey, whichever way it came in (the kiosk page, a form posted
/// without JavaScript, the JSON API): decided once by the service, shown by each way in its own
/// form; its HTTP status is [`Verdict::status`].
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Verdict {
    /// Stored now.
    Stored,
    /// Stored before with the same answers (sent again): counted once.
    AlreadyCounted,
    /// Its id was stored before with other answers: those are counted; the citizen is done.
    Conflict,
    /// The survey link was answered, or has closed, meanwhile.
    LinkClosed,
    /// What must be fixed, field by field.
    Fix(FieldErrors),
    /// Not stored now; to send again after `seconds`: the kiosk sent too fast (`busy` false), or
    /// the server could not store it (`busy` true).
    RetryAfter { seconds: u32, busy: bool },
    /// This browser is not (or no longer) a paired kiosk.
    NotPaired,
    /// Never the server's: the kiosk's service worker answers it when it keeps the survey in the
    /// browser, to send later.
    Queued,
}

/// Whom a verdict is answered to: a program (the JSON API), or a person on a survey page (the
/// page's server function and the form posted without JavaScript).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Way {
    Api,
    Page,
}

impl Verdict {
    /// The HTTP status a verdict is answered with: the one place it is decided.
    pub fn status(&self, way: Way) -> u16 {
        match (self, way) {
            (Self::Stored, Way::Api) => 201,
            (Self::Stored | Self::AlreadyCounted | Self::Queued, _) => 200,
            (Self::Conflict, _) | (Self::LinkClosed, Way::Api) => 409,
            (Self::LinkClosed, Way::Page) => 410,
            (Self::Fix(_), _) => 422,
            (Self::RetryAfter { busy: false, .. }, _) => 429,
            (Self::RetryAfter { busy: true, .. }, _) => 503,
            (Self::NotPaired, _) => 401,
        }
    }

    /// Seconds to wait before sending again, when it must be sent again.
    pub fn retry_after(&self) -> Option<u32> {
        match self {
            Self::RetryAfter { seconds, .. } => Some(*seconds),
            _ => None,
        }
    }

    /// Whether the citizen's part is done: their answers are (or will be) counted.
    pub fn counted(&self) -> bool {
        matches!(self, Self::Stored | Self::AlreadyCounted | Self::Conflict | Self::Queued)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;

    const ID: &str = "6f1c2a64-8a6e-4c59-9a43-0f2f3f6b9f10";

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()
    }

    fn served() -> Vec<String> {
        vec!["SNV".to_string()]
    }

    fn check(body: Value) -> Result<ValidResponse, FieldErrors> {
        validate(&Questionnaire::bundled(), &served(), &serde_json::from_value(body).unwrap(), today())
    }

    fn error_keys(body: Value) -> Vec<String> {
        check(body).unwrap_err().into_keys().collect()
    }

    #[test]
    fn a_full_answer_is_accepted_in_questionnaire_order() {
        let response = check(json!({
            "id": ID,
            "answers": {"B1": 4, "A1": 5, "A2": null},
            "expectations": {"X1": 4, "X2": null},
            "profile": {"gender": "nu", "age_band": "25-34"},
            "comment": "  Cán bộ nhiệt tình.  "
        }))
        .unwrap();
        assert_eq!(response.agency, "SNV");
        assert_eq!(response.answers.len(), 16);
        assert_eq!(response.answers[0], ("A1".to_string(), Some(5)));
        assert_eq!(response.answers[1], ("A2".to_string(), None));
        assert_eq!(response.answers[3], ("B1".to_string(), Some(4)));
        assert_eq!(response.expectations, vec![("X1".to_string(), 4)]);
        assert_eq!(response.comment.as_deref(), Some("Cán bộ nhiệt tình."));
    }

    #[test]
    fn out_of_range_and_wrong_types_are_rejected_per_field() {
        let keys = error_keys(json!({
            "id": ID,
            "answers": {"A1": 0, "A2": 6, "A3": "5", "B1": 4.5, "B2": 4},
        }));
        assert_eq!(keys, ["answers.A1", "answers.A2", "answers.A3", "answers.B1"]);
    }

    #[test]
    fn unknown_codes_and_fields_are_rejected() {
        let errors = check(json!({
            "id": ID,
            "answers": {"Z9": 5, "A1": 4},
            "expectations": {"X99": 2},
            "profile": {"birth_date": "1990-01-01", "gender": "robot"},
            "kiosk": 3
        }))
        .unwrap_err();
        let keys: Vec<&str> = errors.keys().map(String::as_str).collect();
        assert_eq!(keys, ["answers.Z9", "expectations.X99", "kiosk", "profile.birth_date", "profile.gender"]);
        assert_eq!(errors["answers.Z9"], "Tiêu chí này không có trong phiếu khảo sát.");
    }

    #[test]
    fn the_id_must_be_a_uuid() {
        assert_eq!(error_keys(json!({"answers": {"A1": 4}})), ["id"]);
        assert_eq!(error_keys(json!({"id": "abc", "answers": {"A1": 4}})), ["id"]);
        assert_eq!(error_keys(json!({"id": 7, "answers": {"A1": 4}})), ["id"]);
        assert_eq!(error_keys(json!({"id": "00000000-0000-0000-0000-000000000000", "answers": {"A1": 4}})), ["id"]);
    }

    #[test]
    fn an_id_made_from_the_clock_is_refused() {
        // versions 1, 6 and 7 carry the time they were made; the same bits with version 4 pass
        for clock_id in [
            "c232ab00-9414-11ec-b3c8-9f6bdeced846",
            "1ec9414c-232a-6b00-b3c8-9f6bdeced846",
            "017f22e2-79b0-7cc3-98c4-dc0c0c07398f",
        ] {
            let errors = check(json!({"id": clock_id, "answers": {"A1": 4}})).unwrap_err();
            assert_eq!(
                errors["id"],
                "Mã phiếu (id) phải là UUID ngẫu nhiên (phiên bản 4); mã tạo từ đồng hồ để lộ lúc trả lời.",
                "{clock_id}"
            );
        }
        assert!(check(json!({"id": "017f22e2-79b0-4cc3-98c4-dc0c0c07398f", "answers": {"A1": 4}})).is_ok());
    }

    #[test]
    fn a_comment_over_the_limit_is_rejected() {
        let long = "ý".repeat(2001);
        let errors = check(json!({"id": ID, "answers": {"A1": 4}, "comment": long})).unwrap_err();
        assert_eq!(errors["comment"], "Ý kiến dài quá 2000 ký tự, vui lòng rút gọn.");
        // exactly at the limit, counted in characters not bytes, is fine
        assert!(check(json!({"id": ID, "answers": {"A1": 4}, "comment": "ý".repeat(2000)})).is_ok());
        assert_eq!(error_keys(json!({"id": ID, "answers": {"A1": 4}, "comment": 12})), ["comment"]);
        // a form post's CRLF line breaks count once, as the textarea counted them
        let lines = format!("{}\r\n{}", "a".repeat(1000), "b".repeat(999));
        let stored = check(json!({"id": ID, "answers": {"A1": 4}, "comment": lines})).unwrap().comment.unwrap();
        assert_eq!(stored.chars().count(), 2000);
    }

    #[test]
    fn an_all_skipped_or_missing_answer_set_is_rejected() {
        assert_eq!(error_keys(json!({"id": ID})), ["answers"]);
        assert_eq!(error_keys(json!({"id": ID, "answers": {}})), ["answers"]);
        assert_eq!(error_keys(json!({"id": ID, "answers": {"A1": null}})), ["answers"]);
        assert_eq!(error_keys(json!({"id": ID, "answers": [5, 4]})), ["answers"]);
    }

    #[test]
    fn the_agency_must_be_one_the_point_serves() {
        let q = Questionnaire::bundled();
        let two = vec!["SNV".to_string(), "STP".to_string()];
        let body = |agency: Value| json!({"id": ID, "answers": {"A1": 4}, "agency": agency});
        let run = |v: Value| validate(&q, &two, &serde_json::from_value(v).unwrap(), today());
        assert_eq!(run(body(json!("STP"))).unwrap().agency, "STP");
        assert!(run(body(Value::Null)).unwrap_err().contains_key("agency"));
        assert!(run(body(json!("SYT"))).unwrap_err().contains_key("agency"));
        assert!(run(body(json!(5))).unwrap_err().contains_key("agency"));
    }

    #[test]
    fn a_day_from_the_last_seven_is_kept_and_others_are_refused() {
        let body = |day: Value| json!({"id": ID, "answers": {"A1": 4}, "day": day});
        assert_eq!(check(body(Value::Null)).unwrap().day, None);
        assert_eq!(check(body(json!("2026-11-25"))).unwrap().day, today().into());
        // 25 November and the six days before it
        assert_eq!(check(body(json!("2026-11-19"))).unwrap().day, NaiveDate::from_ymd_opt(2026, 11, 19));
        let refused = check(body(json!("2026-11-18"))).unwrap_err();
        assert_eq!(refused["day"], "Phiếu trả lời quá 7 ngày (trước 2026-11-19) không còn được nhận.");
        assert!(check(body(json!("2026-11-26"))).unwrap_err()["day"].contains("tương lai"));
        for bad in [json!("25/11/2026"), json!("2026-02-30"), json!(20261125)] {
            assert_eq!(error_keys(body(bad.clone())), ["day"], "{bad}");
        }
    }
    #[test]
    fn a_verdict_has_one_status_for_a_program_and_one_for_a_person() {
        use super::{Verdict, Way};
        let cases = [
            (Verdict::Stored, 201, 200),
            (Verdict::AlreadyCounted, 200, 200),
            (Verdict::Conflict, 409, 409),
            (Verdict::LinkClosed, 409, 410),
            (Verdict::Fix(Default::default()), 422, 422),
            (Verdict::RetryAfter { seconds: 60, busy: false }, 429, 429),
            (Verdict::RetryAfter { seconds: 30, busy: true }, 503, 503),
            (Verdict::NotPaired, 401, 401),
        ];
        for (verdict, api, page) in cases {
            assert_eq!((verdict.status(Way::Api), verdict.status(Way::Page)), (api, page), "{verdict:?}");
        }
        assert_eq!(Verdict::RetryAfter { seconds: 30, busy: true }.retry_after(), Some(30));
        assert_eq!(Verdict::Stored.retry_after(), None);
    }
}
