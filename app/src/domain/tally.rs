//! Tallies (bảng đếm): how many responses, comments and answers at each level a group of
//! responses holds. The report aggregates are tallies per Vietnam day and per month, kept by the
//! response writer; every index, ranking and breakdown adds tallies up and never reads responses.
//!
//! A stored tally is a flat list of counts in the layout of its questionnaire version:
//! `[responses, comments, criterion 1 levels 1..=5, criterion 2 …, area 1 levels 1..=4, …]`.
//! Adding tallies of different versions goes through [`Totals`], keyed by code.
//!
//! After those counts come the respondent statistics (see [`Respondents`]): how many responses
//! they cover, then for every ordered pair of elements (e, f) Σ Yₑ·Y_f, Σ Yₑ·a_f and Σ aₑ·a_f,
//! where aₑ is 1 when the respondent answered some criterion of element e and Yₑ is the share
//! of those answers that are 4 or 5, times [`SCALE`]. A tally stored before they existed reads
//! back with none (covering 0 responses).

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::questionnaire::Questionnaire;
use super::submission::{Channel, ValidResponse};
use super::CriterionCounts;

/// What a respondent's share of satisfied answers in an element is multiplied by to be counted
/// whole: 60 divides by any number of criteria up to 6.
pub const SCALE: u64 = 60;

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
    /// Each element's code with the places of its criteria in `criteria`.
    pub elements: Vec<(String, Vec<usize>)>,
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
            elements: {
                let mut place = 0;
                questionnaire
                    .elements
                    .iter()
                    .map(|e| {
                        let places = (place..place + e.criteria.len()).collect();
                        place += e.criteria.len();
                        (e.code.clone(), places)
                    })
                    .collect()
            },
        }
    }

    /// How many counts a tally of this layout holds.
    pub fn width(&self) -> usize {
        self.stats_start() + 1 + 3 * self.elements.len() * self.elements.len()
    }

    fn area_start(&self) -> usize {
        2 + LEVELS * self.criteria.len()
    }

    /// Where the respondent statistics start: the width of a tally stored before them.
    fn stats_start(&self) -> usize {
        self.area_start() + EXPECTATION_LEVELS * self.areas.len()
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
        // per element: answered (a) and the scaled share satisfied (Y)
        let scores: Vec<(u64, u64)> = layout
            .elements
            .iter()
            .map(|(_, places)| {
                let levels = places.iter().map(|i| &counts[2 + LEVELS * i..2 + LEVELS * (i + 1)]);
                let (answered, satisfied) =
                    levels.fold((0, 0), |(a, s), l| (a + l.iter().sum::<u64>(), s + l[3] + l[4]));
                match answered {
                    0 => (0, 0),
                    n => (1, (satisfied * SCALE + n / 2) / n),
                }
            })
            .collect();
        let start = layout.stats_start();
        counts[start] = 1;
        let size = scores.len();
        for (e, (a_e, y_e)) in scores.iter().enumerate() {
            for (f, (a_f, y_f)) in scores.iter().enumerate() {
                let at = start + 1 + 3 * (e * size + f);
                counts[at] = y_e * y_f;
                counts[at + 1] = y_e * a_f;
                counts[at + 2] = a_e * a_f;
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

    /// The responses its respondent statistics cover (0 for a tally stored before them).
    pub fn covers(&self, layout: &Layout) -> u64 {
        self.0[layout.stats_start()]
    }

    /// As stored: a JSON list of numbers, readable with SQL's JSON functions.
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.0).expect("a list of numbers serialises")
    }

    /// Reads a stored tally of `layout`; one stored before the respondent statistics existed
    /// reads back with none (covering no response).
    pub fn from_json(text: &str, layout: &Layout) -> Result<Self, TallyError> {
        let mut counts: Vec<u64> = serde_json::from_str(text).map_err(|e| TallyError::NotCounts(e.to_string()))?;
        let expected = layout.width();
        if counts.len() == layout.stats_start() {
            counts.resize(expected, 0);
        }
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

/// What the intervals of element and overall indices are worked out from, per respondent
/// (see `domain::precision`): over the responses it `covers`, for each ordered pair of
/// elements (e, f): [Σ Yₑ·Y_f, Σ Yₑ·a_f, Σ aₑ·a_f], Y scaled by [`SCALE`]. Counted like
/// [`Totals`]: whole numbers, except where a share of a split unit was added.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Respondents {
    pub covers: f64,
    /// Element codes, in the order of the rows and columns of `sums`.
    elements: Vec<String>,
    /// Row-major: the sums of (e, f) at `e × elements + f`.
    sums: Vec<[f64; 3]>,
}

impl Respondents {
    /// The sums of the pair (e, f), when both elements are here.
    pub fn pair(&self, e: &str, f: &str) -> Option<[f64; 3]> {
        let place = |code: &str| self.elements.iter().position(|c| c == code);
        Some(self.sums[place(e)? * self.elements.len() + place(f)?])
    }

    /// The places of `codes` in `elements`, adding those not here yet (the matrix grows).
    fn places<'c>(&mut self, codes: impl Iterator<Item = &'c String> + Clone) -> Vec<usize> {
        for code in codes.clone() {
            if !self.elements.contains(code) {
                let size = self.elements.len();
                let mut grown = vec![[0.0; 3]; (size + 1) * (size + 1)];
                for e in 0..size {
                    grown[e * (size + 1)..e * (size + 1) + size].copy_from_slice(&self.sums[e * size..(e + 1) * size]);
                }
                self.sums = grown;
                self.elements.push(code.clone());
            }
        }
        codes.map(|code| self.elements.iter().position(|c| c == code).expect("added above")).collect()
    }

    /// Applies `apply` to each of these sums and the matching one of `sums` (laid out by `codes`).
    fn combine<'c>(
        &mut self,
        codes: impl Iterator<Item = &'c String> + Clone,
        sums: &[[f64; 3]],
        apply: impl Fn(&mut f64, f64),
    ) {
        let same = self.elements.iter().eq(codes.clone());
        let places = if same { (0..self.elements.len()).collect() } else { self.places(codes) };
        let (size, theirs) = (self.elements.len(), places.len());
        for (e, pe) in places.iter().enumerate() {
            for (f, pf) in places.iter().enumerate() {
                let mine = &mut self.sums[pe * size + pf];
                mine.iter_mut().zip(sums[e * theirs + f]).for_each(|(s, n)| apply(s, n));
            }
        }
    }

    fn add(&mut self, other: &Respondents, share: f64) {
        self.covers += share * other.covers;
        self.combine(other.elements.iter(), &other.sums, |s, n| *s += share * n);
    }
}

/// Tallies added up by code, across questionnaire versions. The counts are whole numbers as
/// stored; they become fractions only where a report restates a split unit's responses to its
/// successors by shares ([`Totals::add_share`]) and are rounded only for display.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Totals {
    pub responses: f64,
    pub comments: f64,
    pub criteria: BTreeMap<String, [f64; LEVELS]>,
    pub expectations: BTreeMap<String, [f64; EXPECTATION_LEVELS]>,
    pub respondents: Respondents,
}

/// Adds `share` of each of `counts` to `sums`.
fn add_levels(sums: &mut [f64], counts: impl IntoIterator<Item = f64>, share: f64) {
    sums.iter_mut().zip(counts).for_each(|(s, n)| *s += share * n);
}

impl Totals {
    /// Adds `tally`, laid out as `layout` says.
    pub fn add_tally(&mut self, layout: &Layout, tally: &Tally) {
        self.add_tally_share(layout, tally, 1.0);
    }

    /// Adds `share` of `tally` (1: all of it), laid out as `layout` says.
    pub fn add_tally_share(&mut self, layout: &Layout, tally: &Tally, share: f64) {
        let counts = &tally.0;
        let read = |range: std::ops::Range<usize>| counts[range].iter().map(|n| *n as f64);
        self.responses += share * counts[0] as f64;
        self.comments += share * counts[1] as f64;
        for (i, code) in layout.criteria.iter().enumerate() {
            let range = 2 + LEVELS * i..2 + LEVELS * (i + 1);
            if counts[range.clone()].iter().any(|n| *n > 0) {
                add_levels(self.criteria.entry(code.clone()).or_default(), read(range), share);
            }
        }
        let start = layout.area_start();
        for (i, code) in layout.areas.iter().enumerate() {
            let range = start + EXPECTATION_LEVELS * i..start + EXPECTATION_LEVELS * (i + 1);
            if counts[range.clone()].iter().any(|n| *n > 0) {
                add_levels(self.expectations.entry(code.clone()).or_default(), read(range), share);
            }
        }
        let start = layout.stats_start();
        if counts[start] > 0 {
            self.respondents.covers += share * counts[start] as f64;
            let sums: Vec<[f64; 3]> =
                counts[start + 1..].chunks_exact(3).map(|c| [c[0] as f64, c[1] as f64, c[2] as f64]).collect();
            self.respondents.combine(layout.elements.iter().map(|(code, _)| code), &sums, |s, n| *s += share * n);
        }
    }

    pub fn add(&mut self, other: &Totals) {
        self.add_share(other, 1.0);
    }

    /// Adds `share` of `other` (1: all of it): a split unit's part restated to one successor.
    pub fn add_share(&mut self, other: &Totals, share: f64) {
        self.responses += share * other.responses;
        self.comments += share * other.comments;
        for (code, levels) in &other.criteria {
            add_levels(self.criteria.entry(code.clone()).or_default(), levels.iter().copied(), share);
        }
        for (code, levels) in &other.expectations {
            add_levels(self.expectations.entry(code.clone()).or_default(), levels.iter().copied(), share);
        }
        self.respondents.add(&other.respondents, share);
    }

    /// These totals less `part` (a part of them): e.g. everyone less those who answered.
    pub fn minus(&self, part: &Totals) -> Totals {
        let mut rest = self.clone();
        rest.add_share(part, -1.0);
        let at_least_none = |n: &mut f64| *n = n.max(0.0);
        at_least_none(&mut rest.responses);
        at_least_none(&mut rest.comments);
        rest.criteria.values_mut().flatten().for_each(at_least_none);
        rest.expectations.values_mut().flatten().for_each(at_least_none);
        at_least_none(&mut rest.respondents.covers);
        rest.respondents.sums.iter_mut().flatten().for_each(at_least_none);
        rest
    }

    /// The responses, as a whole number for display and for the rules that count people
    /// (k, the sample check): a restated share is rounded only here.
    pub fn whole_responses(&self) -> u64 {
        self.responses.round() as u64
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
        assert_eq!(layout.width(), 2 + 16 * 5 + 10 * 4 + 1 + 3 * 5 * 5);
        let one = Tally::of_response(
            &layout,
            &response(&[("A1", Some(4)), ("A2", None), ("E3", Some(1))], &[("X10", 3)], &[]),
        );
        let mut totals = Totals::default();
        totals.add_tally(&layout, &one);
        totals.add_tally(&layout, &one);
        assert_eq!(totals.responses, 2.0);
        assert_eq!(totals.criteria["A1"], [0.0, 0.0, 0.0, 2.0, 0.0]);
        assert_eq!(totals.criteria["E3"], [2.0, 0.0, 0.0, 0.0, 0.0]);
        assert!(!totals.criteria.contains_key("A2"), "a skipped answer is not a valid one");
        assert_eq!(totals.expectations["X10"], [0.0, 0.0, 2.0, 0.0]);
    }

    #[test]
    fn each_response_adds_its_element_scores_for_the_intervals() {
        let layout = Layout::of(&Questionnaire::bundled());
        // A: A1 4 (satisfied), A2 2, A3 skipped → answered, y = 1/2 → 30 of 60.
        // B: all 5 → 60. C, D, E unanswered: a = 0, y = 0.
        let one = Tally::of_response(
            &layout,
            &response(
                &[("A1", Some(4)), ("A2", Some(2)), ("B1", Some(5)), ("B2", Some(5)), ("B3", Some(5)), ("B4", Some(5))],
                &[],
                &[],
            ),
        );
        let mut totals = Totals::default();
        totals.add_tally(&layout, &one);
        totals.add_tally(&layout, &one);
        let pair = |e: &str, f: &str| totals.respondents.pair(e, f).unwrap();
        assert_eq!(totals.respondents.covers, 2.0);
        // [Σ yA·yB, Σ yA·aB, Σ aA·aB] over two such responses
        assert_eq!(pair("A", "B"), [(2 * 30 * 60) as f64, (2 * 30) as f64, 2.0]);
        assert_eq!(pair("B", "A"), [(2 * 60 * 30) as f64, (2 * 60) as f64, 2.0]);
        assert_eq!(pair("A", "A"), [(2 * 30 * 30) as f64, (2 * 30) as f64, 2.0]);
        assert_eq!(pair("A", "E"), [0.0, 0.0, 0.0]);
        assert_eq!(pair("E", "E"), [0.0, 0.0, 0.0]);
    }

    #[test]
    fn stored_tallies_read_back_and_wrong_ones_are_refused() {
        let layout = Layout::of(&Questionnaire::bundled());
        let tally = Tally::of_response(&layout, &response(&[("B2", Some(5))], &[], &[]));
        assert_eq!(Tally::from_json(&tally.to_json(), &layout), Ok(tally.clone()));
        assert_eq!(Tally::from_json("[1,2]", &layout), Err(TallyError::WrongLength { found: 2, expected: 198 }));
        assert!(matches!(Tally::from_json("{}", &layout), Err(TallyError::NotCounts(_))));
        // stored before the respondent statistics: read with none, covering no response
        let old = serde_json::to_string(&tally.0[..122]).unwrap();
        let read = Tally::from_json(&old, &layout).unwrap();
        let mut totals = Totals::default();
        totals.add_tally(&layout, &read);
        assert_eq!((totals.responses, totals.respondents.covers), (1.0, 0.0));
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
        assert_eq!(totals.criteria["A1"], [1.0, 0.0, 0.0, 0.0, 0.0]);
        assert_eq!(totals.criteria["A2"], [0.0, 0.0, 1.0, 0.0, 0.0]);
        assert_eq!(totals.criteria["A3"], [0.0, 0.0, 0.0, 1.0, 1.0]);
        assert_eq!(totals.responses, 2.0);
    }
}
