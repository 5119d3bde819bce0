//! The kiosk's step-by-step flow as a pure state machine, shared by the browser (hydrated) and
//! the server (JavaScript off: every step is a form post that carries the whole draft).
//!
//! A draft travels as form fields: `id`, `step`, `agency`, `a-<criterion>`, `x-<area>`,
//! `p-<question>`, `comment`, and the pressed button's `nav`. Values are kept as typed; the
//! domain's validation judges them at submit.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::domain::given::Given;
use crate::domain::submission::{FieldErrors, Levels, Submission, Verdict};
use crate::domain::Questionnaire;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Step {
    #[default]
    Welcome,
    /// Pick the competent agency, when the service point serves several.
    Agency,
    /// One element (yếu tố) of the questionnaire, by position.
    Element(usize),
    Expectations,
    Profile,
    Comment,
    Thanks,
}

/// The button pressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nav {
    Start,
    Next,
    Back,
    Submit,
    Restart,
}

impl Nav {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Start => "start",
            Self::Next => "next",
            Self::Back => "back",
            Self::Submit => "submit",
            Self::Restart => "restart",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [Self::Start, Self::Next, Self::Back, Self::Submit, Self::Restart].into_iter().find(|n| n.as_str() == s)
    }
}

impl Step {
    pub fn encode(self) -> String {
        match self {
            Self::Welcome => "welcome".into(),
            Self::Agency => "agency".into(),
            Self::Element(i) => format!("element-{i}"),
            Self::Expectations => "expectations".into(),
            Self::Profile => "profile".into(),
            Self::Comment => "comment".into(),
            Self::Thanks => "thanks".into(),
        }
    }

    /// Reads a posted step; anything unknown, or an element the questionnaire lacks, is Welcome.
    fn decode(s: &str, elements: usize) -> Self {
        match s {
            "agency" => Self::Agency,
            "expectations" => Self::Expectations,
            "profile" => Self::Profile,
            "comment" => Self::Comment,
            "thanks" => Self::Thanks,
            other => other
                .strip_prefix("element-")
                .and_then(|i| i.parse().ok())
                .filter(|i| *i < elements)
                .map_or(Self::Welcome, Self::Element),
        }
    }
}

/// Everything the citizen has answered so far.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Draft {
    /// The response id (UUID), minted when the citizen presses "Bắt đầu".
    pub id: String,
    pub step: Step,
    pub agency: Option<String>,
    pub answers: BTreeMap<String, String>,
    pub expectations: BTreeMap<String, String>,
    pub profile: BTreeMap<String, String>,
    pub comment: String,
    /// Messages to show on the current step (not carried in the form).
    #[serde(default)]
    pub errors: Vec<String>,
    /// The Vietnam day (`YYYY-MM-DD`) the citizen finished on, set by the hydrated page at
    /// submit: a survey queued offline is counted on that day (not carried in the form).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day: Option<String>,
}

/// What the flow needs to know about the service point.
pub struct Context<'a> {
    pub questionnaire: &'a Questionnaire,
    /// Codes of the agencies the service point serves.
    pub agencies: &'a [String],
}

/// The value that marks a skipped question ("Bỏ qua").
pub const SKIP: &str = "skip";

impl Draft {
    /// Rebuilds a draft and the pressed button from posted form fields.
    pub fn from_form(fields: &[(String, String)], questionnaire: &Questionnaire) -> (Self, Nav) {
        let mut draft = Self::default();
        let mut nav = Nav::Next;
        for (name, value) in fields {
            let keep = |map: &mut BTreeMap<String, String>, key: &str| {
                if value == SKIP || value.is_empty() {
                    map.remove(key);
                } else {
                    map.insert(key.to_owned(), value.clone());
                }
            };
            match name.as_str() {
                "id" => draft.id = value.clone(),
                "step" => draft.step = Step::decode(value, questionnaire.elements.len()),
                "agency" => draft.agency = Some(value.clone()).filter(|v| !v.is_empty()),
                "comment" => draft.comment = value.clone(),
                "nav" => nav = Nav::parse(value).unwrap_or(Nav::Next),
                _ => {
                    if let Some(code) = name.strip_prefix("a-") {
                        keep(&mut draft.answers, code);
                    } else if let Some(code) = name.strip_prefix("x-") {
                        keep(&mut draft.expectations, code);
                    } else if let Some(code) = name.strip_prefix("p-") {
                        keep(&mut draft.profile, code);
                    }
                }
            }
        }
        (draft, nav)
    }

    /// The hidden fields that carry this draft, except those the `step` itself shows.
    pub fn hidden_fields(&self, questionnaire: &Questionnaire) -> Vec<(String, String)> {
        let mut fields = vec![("id".to_owned(), self.id.clone()), ("step".to_owned(), self.step.encode())];
        let shown_here: Vec<&str> = match self.step {
            Step::Element(i) => questionnaire
                .elements
                .get(i)
                .map(|e| e.criteria.iter().map(|c| c.code.as_str()).collect())
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        if self.step != Step::Agency {
            fields.extend(self.agency.iter().map(|a| ("agency".to_owned(), a.clone())));
        }
        fields.extend(
            self.answers
                .iter()
                .filter(|(c, _)| !shown_here.contains(&c.as_str()))
                .map(|(c, v)| (format!("a-{c}"), v.clone())),
        );
        if self.step != Step::Expectations {
            fields.extend(self.expectations.iter().map(|(c, v)| (format!("x-{c}"), v.clone())));
        }
        if self.step != Step::Profile {
            fields.extend(self.profile.iter().map(|(c, v)| (format!("p-{c}"), v.clone())));
        }
        if self.step != Step::Comment && !self.comment.is_empty() {
            fields.push(("comment".to_owned(), self.comment.clone()));
        }
        fields
    }

    /// The draft after pressing `nav`. `new_id` mints the response id at start. `Submit` is not
    /// handled here: the caller stores the response and then calls [`Draft::submitted`].
    pub fn go(mut self, nav: Nav, context: &Context, new_id: impl FnOnce() -> String) -> Self {
        let elements = context.questionnaire.elements.len();
        let several = context.agencies.len() > 1;
        self.errors.clear();
        self.step = match (nav, self.step) {
            (Nav::Restart, _) | (Nav::Next | Nav::Back | Nav::Submit, Step::Welcome | Step::Thanks) => {
                return Self::default()
            }
            (Nav::Start, _) => {
                let fresh = Self { id: new_id(), ..Self::default() };
                return Self { step: if several { Step::Agency } else { Step::Element(0) }, ..fresh };
            }
            (Nav::Back, Step::Agency) => Step::Welcome,
            (Nav::Back, Step::Element(0)) => {
                if several {
                    Step::Agency
                } else {
                    Step::Welcome
                }
            }
            (Nav::Back, Step::Element(i)) => Step::Element(i - 1),
            (Nav::Back, Step::Expectations) => Step::Element(elements.saturating_sub(1)),
            (Nav::Back, Step::Profile) => Step::Expectations,
            (Nav::Back, Step::Comment) => Step::Profile,
            (Nav::Next | Nav::Submit, Step::Agency) => match &self.agency {
                Some(a) if context.agencies.contains(a) => Step::Element(0),
                _ => {
                    self.errors.push("Vui lòng chọn cơ quan giải quyết hồ sơ của Ông/Bà.".into());
                    Step::Agency
                }
            },
            (Nav::Next | Nav::Submit, Step::Element(i)) if i + 1 < elements => Step::Element(i + 1),
            (Nav::Next | Nav::Submit, Step::Element(_)) => Step::Expectations,
            (Nav::Next | Nav::Submit, Step::Expectations) => Step::Profile,
            (Nav::Next | Nav::Submit, Step::Profile) => Step::Comment,
            (Nav::Next | Nav::Submit, Step::Comment) => Step::Comment,
        };
        self
    }

    /// The thank-you state after a successful submit.
    pub fn submitted() -> Self {
        Self { step: Step::Thanks, ..Self::default() }
    }

    /// "Bước n/total" for the numbered steps.
    pub fn progress(&self, questionnaire: &Questionnaire) -> Option<(usize, usize)> {
        let elements = questionnaire.elements.len();
        let total = elements + 3;
        match self.step {
            Step::Element(i) => Some((i + 1, total)),
            Step::Expectations => Some((elements + 1, total)),
            Step::Profile => Some((elements + 2, total)),
            Step::Comment => Some((elements + 3, total)),
            _ => None,
        }
    }

    /// The submission the domain validates: numbers where the citizen tapped a level.
    pub fn to_submission(&self) -> Submission {
        let levels = |map: &BTreeMap<String, String>| -> Levels {
            map.iter().map(|(code, v)| (code.clone(), v.parse().map_or(Given::Wrong, Given::Is))).collect()
        };
        Submission {
            id: Given::Is(self.id.clone()),
            agency: self.agency.clone().into(),
            answers: Given::Is(levels(&self.answers)),
            expectations: Given::Is(levels(&self.expectations)),
            profile: Given::Is(self.profile.iter().map(|(k, v)| (k.clone(), Given::Is(v.clone()))).collect()),
            comment: Some(self.comment.clone()).filter(|c| !c.trim().is_empty()).into(),
            day: self.day.clone().into(),
            unknown: BTreeMap::new(),
        }
    }
}

/// What the citizen reads when the kiosk is over its per-minute limit.
pub const TOO_FAST: &str =
    "Thiết bị này vừa gửi nhiều phiếu trong một phút. Vui lòng đợi một lát rồi bấm \"Gửi phiếu\" lại.";
/// What the citizen reads when the server cannot store now.
pub const UNAVAILABLE: &str = "Máy chủ tạm thời chưa lưu được phiếu. Vui lòng bấm \"Gửi phiếu\" lại sau ít phút.";
/// What the citizen reads when this survey was sent before with other answers.
pub const SENT_BEFORE: &str = "Phiếu này đã được gửi trước đó và đã được ghi nhận. Xin cảm ơn Ông/Bà.";
/// What the citizen reads when the link was answered or has closed.
pub const LINK_CLOSED: &str = "Phiếu khảo sát này đã được trả lời hoặc đã hết hạn. Xin cảm ơn Ông/Bà.";
/// What a browser that is not (or no longer) a paired kiosk shows.
pub const NOT_PAIRED: &str = "Thiết bị này chưa được đăng ký làm kiosk khảo sát. Vui lòng liên hệ quản trị viên.";

/// The sentence a verdict gives a person, where it has one of its own.
pub fn sentence(verdict: &Verdict) -> Option<&'static str> {
    match verdict {
        Verdict::Conflict => Some(SENT_BEFORE),
        Verdict::LinkClosed => Some(LINK_CLOSED),
        Verdict::RetryAfter { busy: false, .. } => Some(TOO_FAST),
        Verdict::RetryAfter { busy: true, .. } => Some(UNAVAILABLE),
        Verdict::NotPaired => Some(NOT_PAIRED),
        Verdict::Stored | Verdict::AlreadyCounted | Verdict::Queued | Verdict::Fix(_) => None,
    }
}

/// The screen after `posted` was submitted and judged `verdict`: the same for the hydrated page
/// and the form posted without JavaScript. Counted answers thank the citizen (sent before with
/// other answers included: the first ones count); otherwise the draft stays, with what to fix
/// or why to send it again. A browser that is no kiosk is sent to pairing by its caller.
pub fn after_submit(posted: Draft, verdict: &Verdict, questionnaire: &Questionnaire) -> Draft {
    if verdict.counted() {
        return Draft::submitted();
    }
    let errors = match verdict {
        Verdict::Fix(errors) => describe_errors(questionnaire, errors),
        other => sentence(other).map(str::to_owned).into_iter().collect(),
    };
    Draft { errors, ..posted }
}

/// Field errors as sentences that name the question.
pub fn describe_errors(questionnaire: &Questionnaire, errors: &FieldErrors) -> Vec<String> {
    errors
        .iter()
        .map(|(field, message)| {
            let code = field.split_once('.').map(|(_, code)| code);
            let criterion = code.and_then(|c| questionnaire.criteria().find(|(_, cr)| cr.code == c));
            match criterion {
                Some((_, c)) => format!("{} — {}: {message}", c.code, c.text),
                None => message.clone(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::submission::validate;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    const ID: &str = "6f1c2a64-8a6e-4c59-9a43-0f2f3f6b9f10";

    #[test]
    fn a_whole_flow_through_form_posts_builds_a_valid_submission() {
        let q = Questionnaire::bundled();
        let served = vec!["SNV".to_string(), "STP".to_string()];
        let context = Context { questionnaire: &q, agencies: &served };
        // Posts like a browser: the hidden fields, the radios the screen shows checked (from the
        // draft), then what the citizen taps now (`shown`, later fields win).
        let step = |draft: &Draft, nav: Nav, shown: &[(&str, &str)]| {
            let mut fields = draft.hidden_fields(&q);
            if let Step::Element(i) = draft.step {
                for c in &q.elements[i].criteria {
                    fields.extend(draft.answers.get(&c.code).map(|v| (format!("a-{}", c.code), v.clone())));
                }
            }
            fields.extend(pairs(shown));
            fields.push(("nav".into(), nav.as_str().into()));
            let (parsed, nav) = Draft::from_form(&fields, &q);
            parsed.go(nav, &context, || ID.to_string())
        };
        let mut draft = step(&Draft::default(), Nav::Start, &[]);
        assert_eq!((draft.step, draft.id.as_str()), (Step::Agency, ID));
        draft = step(&draft, Nav::Next, &[]);
        assert_eq!(draft.step, Step::Agency, "no agency chosen yet");
        assert_eq!(draft.errors.len(), 1);
        draft = step(&draft, Nav::Next, &[("agency", "STP")]);
        assert_eq!(draft.step, Step::Element(0));
        draft = step(&draft, Nav::Next, &[("a-A1", "5"), ("a-A2", SKIP), ("a-A3", "4")]);
        draft = step(&draft, Nav::Back, &[("a-B1", "2")]);
        assert_eq!(draft.step, Step::Element(0));
        assert_eq!(draft.answers.get("B1").map(String::as_str), Some("2"), "answers survive going back");
        draft = step(&draft, Nav::Next, &[("a-A1", "3"), ("a-A3", "4")]);
        for _ in 1..5 {
            draft = step(&draft, Nav::Next, &[]);
        }
        assert_eq!(draft.step, Step::Expectations);
        assert_eq!(draft.progress(&q), Some((6, 8)));
        draft = step(&draft, Nav::Next, &[("x-X1", "4")]);
        draft = step(&draft, Nav::Next, &[("p-gender", "nu")]);
        assert_eq!(draft.step, Step::Comment);
        let (final_draft, nav) = Draft::from_form(
            &{
                let mut f = draft.hidden_fields(&q);
                f.extend(pairs(&[("comment", "Rất tốt"), ("nav", "submit")]));
                f
            },
            &q,
        );
        assert_eq!(nav, Nav::Submit);
        let response =
            validate(&q, &served, &final_draft.to_submission(), crate::domain::period::vietnam_day(chrono::Utc::now()))
                .unwrap();
        assert_eq!(response.agency, "STP");
        assert_eq!(response.answers[0], ("A1".to_string(), Some(3)));
        assert_eq!(response.answers[1], ("A2".to_string(), None));
        assert_eq!(response.answers[3], ("B1".to_string(), Some(2)));
        assert_eq!(response.expectations, vec![("X1".to_string(), 4)]);
        assert_eq!(response.profile, vec![("gender".to_string(), "nu".to_string())]);
        assert_eq!(response.comment.as_deref(), Some("Rất tốt"));
    }

    #[test]
    fn a_single_agency_point_skips_the_agency_step_and_tampering_is_caught_at_submit() {
        let q = Questionnaire::bundled();
        let served = vec!["SNV".to_string()];
        let context = Context { questionnaire: &q, agencies: &served };
        let draft = Draft::default().go(Nav::Start, &context, || ID.into());
        assert_eq!(draft.step, Step::Element(0));
        assert_eq!(draft.go(Nav::Back, &context, String::new).step, Step::Welcome);
        let (tampered, _) = Draft::from_form(&pairs(&[("id", ID), ("a-A1", "9"), ("a-Q7", "5")]), &q);
        let errors =
            validate(&q, &served, &tampered.to_submission(), crate::domain::period::vietnam_day(chrono::Utc::now()))
                .unwrap_err();
        assert!(errors.contains_key("answers.A1") && errors.contains_key("answers.Q7"));
    }

    #[test]
    fn a_tampered_step_falls_back_to_welcome() {
        let q = Questionnaire::bundled();
        for step in ["element-5", "element-18446744073709551615", "element--1", "nonsense"] {
            let (draft, _) = Draft::from_form(&pairs(&[("step", step)]), &q);
            assert_eq!(draft.step, Step::Welcome, "{step}");
        }
        let (draft, _) = Draft::from_form(&pairs(&[("step", "element-4")]), &q);
        assert_eq!(draft.step, Step::Element(4));
    }
    #[test]
    fn a_verdict_turns_into_the_same_next_screen_for_every_way_in() {
        let q = Questionnaire::bundled();
        let posted = Draft { step: Step::Comment, id: "x".into(), comment: "Tốt".into(), ..Draft::default() };
        for counted in [Verdict::Stored, Verdict::AlreadyCounted, Verdict::Conflict, Verdict::Queued] {
            assert_eq!(after_submit(posted.clone(), &counted, &q), Draft::submitted(), "{counted:?}");
        }
        // What to fix names the question; the draft stays as it was.
        let fix = Verdict::Fix([("answers.A1".to_owned(), "Giá trị phải từ 1 đến 5.".to_owned())].into());
        let next = after_submit(posted.clone(), &fix, &q);
        assert_eq!((next.step, next.comment.as_str()), (Step::Comment, "Tốt"));
        let (_, a1) = q.criteria().find(|(_, c)| c.code == "A1").unwrap();
        assert_eq!(next.errors, [format!("A1 — {}: Giá trị phải từ 1 đến 5.", a1.text)]);
        // A wait keeps the draft to send again, with why.
        let busy = after_submit(posted.clone(), &Verdict::RetryAfter { seconds: 30, busy: true }, &q);
        assert_eq!((busy.step, busy.errors.as_slice()), (Step::Comment, [UNAVAILABLE.to_owned()].as_slice()));
        let fast = after_submit(posted.clone(), &Verdict::RetryAfter { seconds: 60, busy: false }, &q);
        assert_eq!(fast.errors, [TOO_FAST]);
        assert_eq!(after_submit(posted, &Verdict::LinkClosed, &q).errors, [LINK_CLOSED]);
    }
}
