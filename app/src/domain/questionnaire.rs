//! The questionnaire as data (phiếu khảo sát): elements, criteria, scales, expectations, profile.
//!
//! A questionnaire version is immutable once loaded; everything else (the kiosk screens, the
//! validation, the indices) reads its structure from here instead of hard-coding SIPAS.

use serde::{Deserialize, Serialize};

/// The SIPAS questionnaire that ships with hailong (`questionnaires/sipas.json`).
pub const BUNDLED_SIPAS: &str = include_str!("../../../questionnaires/sipas.json");

/// Options a profile question may have at most: a stored response keeps each profile answer as
/// one character, the option's place (`1`–`9`, then `a`–`z`).
pub const MAX_PROFILE_OPTIONS: usize = 35;

/// The highest level of the expectations scale: tallies and stored responses keep four.
pub const MAX_EXPECTATION_LEVEL: u8 = 4;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Questionnaire {
    pub version: String,
    pub title: String,
    /// The rating scale (thang đo), 1 = Rất không hài lòng … 5 = Rất hài lòng.
    pub scale: Vec<ScaleLevel>,
    pub elements: Vec<Element>,
    pub expectations: Expectations,
    pub profile: Vec<ProfileQuestion>,
    pub comment: CommentRule,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScaleLevel {
    pub value: u8,
    pub label: String,
}

/// An element (yếu tố), e.g. "B — Thủ tục hành chính".
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Element {
    pub code: String,
    pub title: String,
    pub criteria: Vec<Criterion>,
}

/// A criterion (tiêu chí), e.g. "B4 — Thời hạn giải quyết đúng quy định".
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Criterion {
    pub code: String,
    pub text: String,
}

/// Improvement areas (sự mong đợi), each rated on their own 4-level scale.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Expectations {
    pub prompt: String,
    pub scale: Vec<ScaleLevel>,
    pub areas: Vec<Criterion>,
}

/// An optional respondent-profile question with a closed list of options.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProfileQuestion {
    pub code: String,
    pub label: String,
    pub options: Vec<ProfileOption>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProfileOption {
    pub code: String,
    pub label: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CommentRule {
    pub label: String,
    pub max_chars: usize,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum QuestionnaireError {
    #[error("questionnaire is not valid JSON: {0}")]
    Json(String),
    #[error("questionnaire is inconsistent: {0}")]
    Inconsistent(String),
}

impl Questionnaire {
    /// Parses a questionnaire file and checks that its structure is usable.
    pub fn parse(json: &str) -> Result<Self, QuestionnaireError> {
        let questionnaire: Self = serde_json::from_str(json).map_err(|e| QuestionnaireError::Json(e.to_string()))?;
        questionnaire.check()?;
        Ok(questionnaire)
    }

    pub fn bundled() -> Self {
        Self::parse(BUNDLED_SIPAS).expect("the bundled questionnaire is checked by a unit test")
    }

    fn check(&self) -> Result<(), QuestionnaireError> {
        let inconsistent = |what: String| Err(QuestionnaireError::Inconsistent(what));
        if self.version.trim().is_empty() {
            return inconsistent("empty version".into());
        }
        if self.elements.is_empty() {
            return inconsistent("no elements".into());
        }
        let scale: Vec<u8> = self.scale.iter().map(|l| l.value).collect();
        if scale != [1, 2, 3, 4, 5] {
            return inconsistent(format!("rating scale must be 1..=5, is {scale:?}"));
        }
        let levels: Vec<u8> = self.expectations.scale.iter().map(|l| l.value).collect();
        if levels.iter().any(|v| !(1..=MAX_EXPECTATION_LEVEL).contains(v)) {
            return inconsistent(format!(
                "expectation levels must be within 1..={MAX_EXPECTATION_LEVEL}, are {levels:?}"
            ));
        }
        if let Some(question) = self.profile.iter().find(|q| q.options.len() > MAX_PROFILE_OPTIONS) {
            return inconsistent(format!(
                "profile question {} has {} options, more than {MAX_PROFILE_OPTIONS}",
                question.code,
                question.options.len()
            ));
        }
        let mut codes = std::collections::HashSet::new();
        for element in &self.elements {
            if element.criteria.is_empty() {
                return inconsistent(format!("element {} has no criteria", element.code));
            }
            for code in std::iter::once(&element.code).chain(element.criteria.iter().map(|c| &c.code)) {
                if !codes.insert(code.clone()) {
                    return inconsistent(format!("code {code} used twice"));
                }
            }
        }
        Ok(())
    }

    pub fn criteria(&self) -> impl Iterator<Item = (&Element, &Criterion)> {
        self.elements.iter().flat_map(|e| e.criteria.iter().map(move |c| (e, c)))
    }

    pub fn has_criterion(&self, code: &str) -> bool {
        self.criteria().any(|(_, c)| c.code == code)
    }

    pub fn max_expectation(&self) -> u8 {
        self.expectations.scale.iter().map(|l| l.value).max().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_sipas_has_five_elements_and_sixteen_criteria() {
        let q = Questionnaire::parse(BUNDLED_SIPAS).unwrap();
        let elements: Vec<&str> = q.elements.iter().map(|e| e.code.as_str()).collect();
        assert_eq!(elements, ["A", "B", "C", "D", "E"]);
        assert_eq!(q.criteria().count(), 16);
        assert_eq!(q.scale[0].label, "Rất không hài lòng");
        assert_eq!(q.expectations.areas.len(), 10);
        assert_eq!(q.max_expectation(), 4);
    }

    #[test]
    fn duplicate_codes_are_rejected() {
        let mut q = Questionnaire::bundled();
        q.elements[1].criteria[0].code = "A1".into();
        let json = serde_json::to_string(&q).unwrap();
        assert_eq!(Questionnaire::parse(&json), Err(QuestionnaireError::Inconsistent("code A1 used twice".into())));
    }

    #[test]
    fn profile_answers_and_expectation_levels_must_fit_a_stored_response() {
        let mut q = Questionnaire::bundled();
        let option = q.profile[0].options[0].clone();
        q.profile[0].options = vec![option; MAX_PROFILE_OPTIONS + 1];
        let json = serde_json::to_string(&q).unwrap();
        assert_eq!(
            Questionnaire::parse(&json),
            Err(QuestionnaireError::Inconsistent("profile question gender has 36 options, more than 35".into()))
        );
        let mut q = Questionnaire::bundled();
        q.expectations.scale.push(ScaleLevel { value: 5, label: "Cực kỳ mong muốn".into() });
        let json = serde_json::to_string(&q).unwrap();
        assert!(matches!(Questionnaire::parse(&json), Err(QuestionnaireError::Inconsistent(_))));
    }

    #[test]
    fn a_scale_other_than_one_to_five_is_rejected() {
        let mut q = Questionnaire::bundled();
        q.scale.pop();
        let json = serde_json::to_string(&q).unwrap();
        assert!(matches!(Questionnaire::parse(&json), Err(QuestionnaireError::Inconsistent(_))));
    }
}
