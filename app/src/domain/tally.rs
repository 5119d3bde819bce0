//! Tallies (bảng đếm): how many responses, comments and answers at each level a group of
//! responses holds. The report aggregates are tallies per Vietnam day and per month, kept by the
//! response writer; every index, ranking and breakdown adds tallies up and never reads responses.
//!
//! A stored tally is a flat list of counts in the layout of its questionnaire version:
//! `[responses, comments, criterion 1 levels 1..=5, criterion 2 …, area 1 levels 1..=4, …]`.
//! Adding tallies of different versions goes through [`Totals`], keyed by code.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::questionnaire::Questionnaire;
use super::submission::{Channel, ValidResponse};
use super::CriterionCounts;

/// Levels of the rating scale and of the expectations scale.
const LEVELS: usize = 5;
const EXPECTATION_LEVELS: usize = 4;

/// Where each count of a questionnaire version's tally sits, and each answer in a stored
/// response row (`storage::packed`): criteria, areas and profile questions in the
/// questionnaire's order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    pub version: String,
    pub criteria: Vec<String>,
    pub areas: Vec<String>,
    /// Each profile question's code with its options' codes.
    pub profile: Vec<(String, Vec<String>)>,
}

impl Layout {
    pub fn of(questionnaire: &Questionnaire) -> Self {
        Self {
            version: questionnaire.version.clone(),
            criteria: questionnaire.criteria().map(|(_, c)| c.code.clone()).collect(),
            areas: questionnaire.expectations.areas.iter().map(|a| a.code.clone()).collect(),
            profile: questionnaire
                .profile
                .iter()
                .map(|q| (q.code.clone(), q.options.iter().map(|o| o.code.clone()).collect()))
                .collect(),
        }
    }

    /// How many counts a tally of this layout holds.
    pub fn width(&self) -> usize {
        2 + LEVELS * self.criteria.len() + EXPECTATION_LEVELS * self.areas.len()
    }

    fn area_start(&self) -> usize {
        2 + LEVELS * self.criteria.len()
    }
}

/// The counts of one group of responses, in the layout of one questionnaire version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tally(Vec<u64>);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TallyError {
    #[error("a stored tally is not a list of counts: {0}")]
    NotCounts(String),
    #[error("a stored tally has {found} counts where its questionnaire version has {expected}")]
    WrongLength { found: usize, expected: usize },
}

impl Tally {
    pub fn empty(layout: &Layout) -> Self {
        Self(vec![0; layout.width()])
    }

    /// The tally of one response; `response` answers the questionnaire of `layout`.
    pub fn of_response(layout: &Layout, response: &ValidResponse) -> Self {
        let mut counts = vec![0; layout.width()];
        counts[0] = 1;
        counts[1] = u64::from(response.comment.is_some());
        for (code, value) in &response.answers {
            let place = layout.criteria.iter().position(|c| c == code);
            if let (Some(i), Some(level @ 1..=5)) = (place, value) {
                counts[2 + LEVELS * i + usize::from(*level) - 1] += 1;
            }
        }
        for (code, level) in &response.expectations {
            if let (Some(i), 1..=4) = (layout.areas.iter().position(|a| a == code), level) {
                counts[layout.area_start() + EXPECTATION_LEVELS * i + usize::from(*level) - 1] += 1;
            }
        }
        Self(counts)
    }

    /// Adds `other`, a tally of the same layout.
    pub fn add(&mut self, other: &Tally) {
        for (mine, theirs) in self.0.iter_mut().zip(&other.0) {
            *mine += theirs;
        }
    }

    pub fn responses(&self) -> u64 {
        self.0[0]
    }

    /// As stored: a JSON list of numbers, readable with SQL's JSON functions.
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.0).expect("a list of numbers serialises")
    }

    /// Reads a stored tally that must have `expected` counts.
    pub fn from_json(text: &str, expected: usize) -> Result<Self, TallyError> {
        let counts: Vec<u64> = serde_json::from_str(text).map_err(|e| TallyError::NotCounts(e.to_string()))?;
        if counts.len() != expected {
            return Err(TallyError::WrongLength { found: counts.len(), expected });
        }
        Ok(Self(counts))
    }

    /// How many counts it holds: the width of its layout.
    pub fn width(&self) -> usize {
        self.0.len()
    }
}

/// Whether a tally covers one Vietnam day or one month.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Grain {
    Day,
    Month,
}

impl Grain {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Day => "day",
            Self::Month => "month",
        }
    }

    /// The span of this grain that holds `day`: `2026-03-15` or `2026-03`.
    pub fn span(self, day: NaiveDate) -> String {
        match self {
            Self::Day => day.format("%Y-%m-%d").to_string(),
            Self::Month => day.format("%Y-%m").to_string(),
        }
    }
}

/// Everyone, or the respondents who chose one option of one profile question.
pub const EVERYONE: &str = "";

/// Which tally a response counts in: where and when it was collected, and for whom.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TallyKey {
    pub grain: Grain,
    pub span: String,
    pub agency: String,
    pub service_point: String,
    pub channel: Channel,
    pub version: String,
    /// [`EVERYONE`] or a profile question code (`gender`, `age_band`, …).
    pub facet: String,
    /// Empty for everyone, else the option chosen.
    pub facet_value: String,
}

/// A response with where, how and on which Vietnam day it was collected.
pub struct Counted<'a> {
    pub response: &'a ValidResponse,
    pub service_point: &'a str,
    pub channel: Channel,
    pub day: NaiveDate,
}

/// The tallies a set of responses adds, per key: each response counts once per grain for
/// everyone and once for each profile answer it gave.
pub fn tally_responses<'a>(
    layout: &Layout,
    responses: impl IntoIterator<Item = Counted<'a>>,
) -> BTreeMap<TallyKey, Tally> {
    let mut tallies: BTreeMap<TallyKey, Tally> = BTreeMap::new();
    for counted in responses {
        let tally = Tally::of_response(layout, counted.response);
        let facets = std::iter::once((EVERYONE, EVERYONE))
            .chain(counted.response.profile.iter().map(|(q, o)| (q.as_str(), o.as_str())));
        for (facet, value) in facets {
            for grain in [Grain::Day, Grain::Month] {
                let key = TallyKey {
                    grain,
                    span: grain.span(counted.day),
                    agency: counted.response.agency.clone(),
                    service_point: counted.service_point.to_owned(),
                    channel: counted.channel,
                    version: counted.response.questionnaire_version.clone(),
                    facet: facet.to_owned(),
                    facet_value: value.to_owned(),
                };
                match tallies.get_mut(&key) {
                    Some(sum) => sum.add(&tally),
                    None => {
                        tallies.insert(key, tally.clone());
                    }
                }
            }
        }
    }
    tallies
}

/// Tallies added up by code, across questionnaire versions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    pub responses: u64,
    pub comments: u64,
    pub criteria: BTreeMap<String, [u64; LEVELS]>,
    pub expectations: BTreeMap<String, [u64; EXPECTATION_LEVELS]>,
}

impl Totals {
    /// Adds `tally`, laid out as `layout` says.
    pub fn add_tally(&mut self, layout: &Layout, tally: &Tally) {
        let counts = &tally.0;
        self.responses += counts[0];
        self.comments += counts[1];
        for (i, code) in layout.criteria.iter().enumerate() {
            let levels = &counts[2 + LEVELS * i..2 + LEVELS * (i + 1)];
            if levels.iter().any(|n| *n > 0) {
                let sum = self.criteria.entry(code.clone()).or_default();
                sum.iter_mut().zip(levels).for_each(|(s, n)| *s += n);
            }
        }
        let start = layout.area_start();
        for (i, code) in layout.areas.iter().enumerate() {
            let levels = &counts[start + EXPECTATION_LEVELS * i..start + EXPECTATION_LEVELS * (i + 1)];
            if levels.iter().any(|n| *n > 0) {
                let sum = self.expectations.entry(code.clone()).or_default();
                sum.iter_mut().zip(levels).for_each(|(s, n)| *s += n);
            }
        }
    }

    pub fn add(&mut self, other: &Totals) {
        self.responses += other.responses;
        self.comments += other.comments;
        for (code, levels) in &other.criteria {
            let sum = self.criteria.entry(code.clone()).or_default();
            sum.iter_mut().zip(levels).for_each(|(s, n)| *s += n);
        }
        for (code, levels) in &other.expectations {
            let sum = self.expectations.entry(code.clone()).or_default();
            sum.iter_mut().zip(levels).for_each(|(s, n)| *s += n);
        }
    }

    /// These totals less `part` (a part of them): e.g. everyone less those who answered.
    pub fn minus(&self, part: &Totals) -> Totals {
        let mut rest = self.clone();
        rest.responses = rest.responses.saturating_sub(part.responses);
        rest.comments = rest.comments.saturating_sub(part.comments);
        for (code, levels) in &part.criteria {
            let sum = rest.criteria.entry(code.clone()).or_default();
            sum.iter_mut().zip(levels).for_each(|(s, n)| *s = s.saturating_sub(*n));
        }
        for (code, levels) in &part.expectations {
            let sum = rest.expectations.entry(code.clone()).or_default();
            sum.iter_mut().zip(levels).for_each(|(s, n)| *s = s.saturating_sub(*n));
        }
        rest
    }

    /// The per-criterion counts the index maths takes.
    pub fn criterion_counts(&self) -> Vec<CriterionCounts> {
        self.criteria.iter().map(|(code, counts)| CriterionCounts { code: code.clone(), counts: *counts }).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn response(
        answers: &[(&str, Option<u8>)],
        expectations: &[(&str, u8)],
        profile: &[(&str, &str)],
    ) -> ValidResponse {
        let q = Questionnaire::bundled();
        ValidResponse {
            id: Uuid::new_v4(),
            agency: "SNV".into(),
            questionnaire_version: q.version,
            answers: answers.iter().map(|(c, v)| (c.to_string(), *v)).collect(),
            expectations: expectations.iter().map(|(c, v)| (c.to_string(), *v)).collect(),
            profile: profile.iter().map(|(q, o)| (q.to_string(), o.to_string())).collect(),
            comment: None,
            day: None,
        }
    }

    #[test]
    fn a_tally_counts_levels_and_leaves_skipped_answers_out() {
        let layout = Layout::of(&Questionnaire::bundled());
        assert_eq!(layout.width(), 2 + 16 * 5 + 10 * 4);
        let one = Tally::of_response(
            &layout,
            &response(&[("A1", Some(4)), ("A2", None), ("E3", Some(1))], &[("X10", 3)], &[]),
        );
        let mut totals = Totals::default();
        totals.add_tally(&layout, &one);
        totals.add_tally(&layout, &one);
        assert_eq!(totals.responses, 2);
        assert_eq!(totals.criteria["A1"], [0, 0, 0, 2, 0]);
        assert_eq!(totals.criteria["E3"], [2, 0, 0, 0, 0]);
        assert!(!totals.criteria.contains_key("A2"), "a skipped answer is not a valid one");
        assert_eq!(totals.expectations["X10"], [0, 0, 2, 0]);
    }

    #[test]
    fn stored_tallies_read_back_and_wrong_ones_are_refused() {
        let layout = Layout::of(&Questionnaire::bundled());
        let tally = Tally::of_response(&layout, &response(&[("B2", Some(5))], &[], &[]));
        assert_eq!(Tally::from_json(&tally.to_json(), layout.width()), Ok(tally));
        assert_eq!(Tally::from_json("[1,2]", layout.width()), Err(TallyError::WrongLength { found: 2, expected: 122 }));
        assert!(matches!(Tally::from_json("{}", 3), Err(TallyError::NotCounts(_))));
    }

    #[test]
    fn each_response_counts_per_grain_for_everyone_and_per_profile_answer() {
        let layout = Layout::of(&Questionnaire::bundled());
        let a = response(&[("A1", Some(5))], &[], &[("gender", "nu"), ("age_band", "25-34")]);
        let b = response(&[("A1", Some(2))], &[], &[("gender", "nu")]);
        let day = NaiveDate::from_ymd_opt(2026, 3, 15).unwrap();
        let counted = |r| Counted { response: r, service_point: "TT", channel: Channel::Kiosk, day };
        let tallies = tally_responses(&layout, [counted(&a), counted(&b)]);
        // (everyone, gender=nu, age_band=25-34) × (day, month)
        assert_eq!(tallies.len(), 6);
        let women = tallies
            .iter()
            .find(|(k, _)| k.grain == Grain::Month && k.facet == "gender" && k.facet_value == "nu")
            .map(|(k, t)| (k.span.clone(), t.responses()));
        assert_eq!(women, Some(("2026-03".into(), 2)));
        let everyone_today = tallies
            .iter()
            .find(|(k, _)| k.grain == Grain::Day && k.facet == EVERYONE)
            .map(|(k, t)| (k.span.clone(), t.responses()));
        assert_eq!(everyone_today, Some(("2026-03-15".into(), 2)));
    }

    #[test]
    fn totals_add_across_versions_by_code() {
        let mut old = Questionnaire::bundled();
        old.version = "old".into();
        old.elements[0].criteria.retain(|c| c.code != "A2");
        let (old_layout, new_layout) = (Layout::of(&old), Layout::of(&Questionnaire::bundled()));
        let mut earlier = response(&[("A1", Some(1)), ("A3", Some(5))], &[], &[]);
        earlier.questionnaire_version = "old".into();
        let mut totals = Totals::default();
        totals.add_tally(&old_layout, &Tally::of_response(&old_layout, &earlier));
        totals.add_tally(
            &new_layout,
            &Tally::of_response(&new_layout, &response(&[("A3", Some(4)), ("A2", Some(3))], &[], &[])),
        );
        assert_eq!(totals.criteria["A1"], [1, 0, 0, 0, 0]);
        assert_eq!(totals.criteria["A2"], [0, 0, 1, 0, 0]);
        assert_eq!(totals.criteria["A3"], [0, 0, 0, 1, 1]);
        assert_eq!(totals.responses, 2);
    }
}
