//! Satisfaction index maths (chỉ số hài lòng) as the Ministry of Home Affairs computes it.
//!
//! Criterion index = share of valid answers that are 4 or 5, in percent; element index = mean of
//! its criteria's indices; overall = mean of the element indices. A criterion or element with no
//! valid answer has no index (`None`, never 0) and is left out of the means above it. Full
//! precision is kept here; rounding to two decimals is the display's job.

use serde::{Deserialize, Serialize};

use super::precision::wilson_interval;
use super::questionnaire::Questionnaire;

/// How many valid answers a criterion got at each level 1..=5: whole numbers, except where a
/// report restates a split unit's answers to its successors by shares.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CriterionCounts {
    pub code: String,
    pub counts: [f64; 5],
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CriterionIndex {
    pub code: String,
    /// Percent of valid answers that are 4 (Hài lòng) or 5 (Rất hài lòng).
    pub index: Option<f64>,
    /// Valid answers, and those at each level, rounded to whole numbers where a restated
    /// share made them fractions (the index is worked out from the fractions).
    pub valid: u64,
    pub counts: [u64; 5],
    /// Mean score on the 1–5 scale.
    pub mean: Option<f64>,
    /// Wilson score 95% interval of the index, in percent.
    pub ci95: Option<[f64; 2]>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ElementIndex {
    pub code: String,
    pub index: Option<f64>,
    /// 95 % interval of the index worked out per respondent (see `domain::precision`), in
    /// percent; none where the aggregates cannot give it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ci95: Option<[f64; 2]>,
    /// The fewest valid answers any of its answered criteria got (0: none answered): what
    /// [`SatisfactionIndex::holding`] holds against the element minimum.
    #[serde(default)]
    pub valid: u64,
    pub criteria: Vec<CriterionIndex>,
}

/// The indices of one population of responses (an agency subtree over a period).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SatisfactionIndex {
    pub agency: String,
    pub responses: u64,
    pub overall: Option<f64>,
    pub elements: Vec<ElementIndex>,
    /// Why no figure is given (a population of fewer than k responses): then `overall` is null
    /// and `elements` empty, so that nothing describes fewer than k citizens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withheld: Option<String>,
    /// The elements the overall leaves out: none answered, or fewer valid answers than the
    /// element minimum (see [`SatisfactionIndex::holding`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub left_out: Vec<String>,
    /// 95 % interval of the overall, per respondent (see `domain::precision`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ci95: Option<[f64; 2]>,
}

/// Fewest valid answers an element needs (in each of its answered criteria) to count in the
/// overall, unless the province sets another: two answers of 2 would make it 0 %.
pub const ELEMENT_MINIMUM: u64 = 10;
pub const ELEMENT_MINIMUM_RANGE: std::ops::RangeInclusive<u64> = 1..=10_000;

/// Fewest responses a published figure may describe (k), unless the province sets another.
pub const MIN_CELL: u64 = 5;
/// The range a province may set k in: 1 would publish single answers; above 100 hardly any
/// commune would have a figure.
pub const MIN_CELL_RANGE: std::ops::RangeInclusive<u64> = 2..=100;

/// Why a figure about fewer than `min_cell` responses is not shown: "dưới 5 phiếu".
pub fn below_min_cell(min_cell: u64) -> String {
    format!("dưới {min_cell} phiếu")
}

impl ElementIndex {
    /// Its 95 % interval: per respondent where the aggregates allow, else Wilson's at the mean
    /// number of valid answers of its criteria ([`mean_interval`]).
    pub fn interval(&self) -> Option<[f64; 2]> {
        self.ci95.or_else(|| mean_interval(self.index, self.criteria.iter()))
    }
}

impl CriterionIndex {
    pub fn from_counts(code: &str, counts: [f64; 5]) -> Self {
        let n: f64 = counts.iter().sum();
        let satisfied = counts[3] + counts[4];
        let score_sum: f64 = counts.iter().zip(1..=5).map(|(n, level)| n * f64::from(level)).sum();
        let (index, mean, ci95) = if n <= 0.0 {
            (None, None, None)
        } else {
            let (lo, hi) = wilson_interval(satisfied, n);
            (Some(satisfied / n * 100.0), Some(score_sum / n), Some([lo * 100.0, hi * 100.0]))
        };
        Self { code: code.to_owned(), index, valid: whole(n), counts: counts.map(whole), mean, ci95 }
    }
}

/// An interval for an index that is a mean of proportions (an element's, or the overall one):
/// Wilson's, with the mean number of valid answers of its `criteria` as n — an approximation
/// that shows how much the index can move.
pub fn mean_interval<'a>(index: Option<f64>, criteria: impl Iterator<Item = &'a CriterionIndex>) -> Option<[f64; 2]> {
    let valid: Vec<u64> = criteria.filter(|c| c.index.is_some()).map(|c| c.valid).collect();
    let index = index?;
    if valid.is_empty() {
        return None;
    }
    let n = valid.iter().sum::<u64>() as f64 / valid.len() as f64;
    let (lo, hi) = wilson_interval(index / 100.0 * n, n);
    Some([lo * 100.0, hi * 100.0])
}

/// A count as shown and as the rules that count people read it: restated shares make fractions.
fn whole(count: f64) -> u64 {
    count.round() as u64
}

/// Mean of the values that exist; `None` when none does.
fn mean_of_present(values: impl Iterator<Item = Option<f64>>) -> Option<f64> {
    let present: Vec<f64> = values.flatten().collect();
    (!present.is_empty()).then(|| present.iter().sum::<f64>() / present.len() as f64)
}

impl SatisfactionIndex {
    /// Builds the indices for `agency` from per-criterion counts, following the structure of
    /// `questionnaire`; criteria absent from `counts` simply have no answers.
    pub fn compute(questionnaire: &Questionnaire, agency: &str, responses: f64, counts: &[CriterionCounts]) -> Self {
        let elements: Vec<ElementIndex> = questionnaire
            .elements
            .iter()
            .map(|element| {
                let criteria: Vec<CriterionIndex> = element
                    .criteria
                    .iter()
                    .map(|criterion| {
                        let found = counts.iter().find(|c| c.code == criterion.code);
                        CriterionIndex::from_counts(&criterion.code, found.map(|c| c.counts).unwrap_or_default())
                    })
                    .collect();
                let index = mean_of_present(criteria.iter().map(|c| c.index));
                let valid = criteria.iter().map(|c| c.valid).filter(|n| *n > 0).min().unwrap_or(0);
                ElementIndex { code: element.code.clone(), index, ci95: None, valid, criteria }
            })
            .collect();
        let overall = mean_of_present(elements.iter().map(|e| e.index));
        let left_out = elements.iter().filter(|e| e.index.is_none()).map(|e| e.code.clone()).collect();
        let responses = whole(responses);
        Self { agency: agency.to_owned(), responses, overall, elements, withheld: None, left_out, ci95: None }
    }

    /// These indices with the 95 % intervals of each element and of the overall (of the
    /// elements it holds), worked out per respondent from `stats` (see `domain::precision`).
    /// `responses` is the number of responses unrounded (see [`super::tally::Totals`]).
    pub fn with_intervals(mut self, stats: &super::tally::Respondents, responses: f64) -> Self {
        for element in &mut self.elements {
            element.ci95 =
                element.index.and_then(|i| super::precision::interval(stats, responses, &[&element.code], i));
        }
        let held: Vec<&str> =
            self.elements.iter().filter(|e| !self.left_out.contains(&e.code)).map(|e| e.code.as_str()).collect();
        self.ci95 = self.overall.and_then(|i| super::precision::interval(stats, responses, &held, i));
        self
    }

    /// These indices with an overall of only the elements that hold: those whose answered
    /// criteria each have at least `minimum` valid answers. The others keep their own index and
    /// are named in `left_out`; a unit whose overall lacks an element is not ranked beside
    /// complete ones.
    pub fn holding(self, minimum: u64) -> Self {
        let holds = |e: &ElementIndex| e.index.is_some() && e.valid >= minimum;
        let overall = mean_of_present(self.elements.iter().filter(|e| holds(e)).map(|e| e.index));
        let left_out = self.elements.iter().filter(|e| !holds(e)).map(|e| e.code.clone()).collect();
        Self { overall, left_out, ..self }
    }

    /// These indices as they may be published: none of them for a population of 1 to
    /// `min_cell` − 1 responses, only the number of responses and the reason. An empty
    /// population has nothing to hide.
    pub fn published(self, min_cell: u64) -> Self {
        if self.responses == 0 || self.responses >= min_cell {
            return self;
        }
        Self {
            overall: None,
            elements: Vec::new(),
            left_out: Vec::new(),
            ci95: None,
            withheld: Some(below_min_cell(min_cell)),
            ..self
        }
    }
}

/// Minimum sample for a population of `completed` dossiers: n = N / (1 + N·e²), e = 0.05.
pub fn minimum_sample(completed: u64) -> u64 {
    let n = completed as f64;
    (n / (1.0 + n * 0.05 * 0.05)).ceil() as u64
}

/// Competition ranking by index, highest first: equal indices share a rank ("1, 2, 2, 4").
/// Entries without an index get no rank and come last, in their original order.
pub fn rank<T>(entries: Vec<(T, Option<f64>)>) -> Vec<(T, Option<usize>)> {
    let mut sorted: Vec<(T, Option<f64>)> = entries;
    sorted.sort_by(|a, b| match (a.1, b.1) {
        (Some(x), Some(y)) => y.total_cmp(&x),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    });
    let mut ranked = Vec::with_capacity(sorted.len());
    let mut previous: Option<(f64, usize)> = None;
    for (position, (item, index)) in sorted.into_iter().enumerate() {
        let place = index.map(|value| match previous {
            Some((last, last_place)) if last == value => last_place,
            _ => position + 1,
        });
        if let (Some(value), Some(p)) = (index, place) {
            previous = Some((value, p));
        }
        ranked.push((item, place));
    }
    ranked
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_elements_interval_is_wilsons_at_the_mean_number_of_valid_answers() {
        let criterion = |index: Option<f64>, valid: u64| CriterionIndex {
            code: "X".into(),
            index,
            valid,
            counts: [0; 5],
            mean: None,
            ci95: None,
        };
        // 8 and 12 valid answers: n = 10; 90 % of 10 → Wilson 59.58 %–98.21 %. The criterion
        // nobody answered does not count.
        let criteria = [criterion(Some(87.5), 8), criterion(Some(91.7), 12), criterion(None, 0)];
        let [lo, hi] = mean_interval(Some(90.0), criteria.iter()).unwrap();
        assert!((lo - 59.584).abs() < 0.01 && (hi - 98.212).abs() < 0.01, "{lo} {hi}");
        assert_eq!(mean_interval(None, criteria.iter()), None);
        assert_eq!(mean_interval(Some(90.0), criteria[2..].iter()), None);
    }

    fn close(actual: f64, expected: f64) {
        assert!((actual - expected).abs() < 1e-4, "{actual} is not {expected}");
    }

    #[test]
    fn criterion_index_is_share_of_fours_and_fives() {
        // 1+1+2+3+3 = 10 valid; 3+3 satisfied → 60 %; mean (1+2+6+12+15)/10 = 3.6.
        let c = CriterionIndex::from_counts("A1", whole_levels([1, 1, 2, 3, 3]));
        assert_eq!(c.valid, 10);
        close(c.index.unwrap(), 60.0);
        close(c.mean.unwrap(), 3.6);
        // Wilson 95 % for 6/10 (p̂ = 0.6, z² = 3.8415): 31.2674 % … 83.1820 %.
        let [lo, hi] = c.ci95.unwrap();
        close(lo, 31.2674);
        close(hi, 83.1820);
    }

    #[test]
    fn a_criterion_without_valid_answers_has_no_index() {
        let c = CriterionIndex::from_counts("A1", whole_levels([0; 5]));
        assert_eq!((c.index, c.mean, c.ci95, c.valid), (None, None, None, 0));
    }

    #[test]
    fn all_satisfied_interval_stays_inside_zero_to_hundred() {
        let c = CriterionIndex::from_counts("A1", whole_levels([0, 0, 0, 0, 4]));
        close(c.index.unwrap(), 100.0);
        let [lo, hi] = c.ci95.unwrap();
        // Wilson for 4/4: lower bound 4/(4+z²) = 0.5101.
        close(lo, 51.0109);
        close(hi, 100.0);
    }

    fn whole_levels(counts: [u64; 5]) -> [f64; 5] {
        counts.map(|n| n as f64)
    }

    fn counts(code: &str, counts: [u64; 5]) -> CriterionCounts {
        CriterionCounts { code: code.into(), counts: whole_levels(counts) }
    }

    #[test]
    fn restated_fractions_are_rounded_only_for_display() {
        // 0.4 unsatisfied and 2.6 satisfied answers (a share of a split unit): the index is
        // 2.6 / 3 = 86.67 %, the counts shown 0 and 3.
        let c = CriterionIndex::from_counts("A1", [0.4, 0.0, 0.0, 2.6, 0.0]);
        close(c.index.unwrap(), 2.6 / 3.0 * 100.0);
        assert_eq!((c.valid, c.counts), (3, [0, 0, 0, 3, 0]));
        let index = SatisfactionIndex::compute(&Questionnaire::bundled(), "X", 2.6, &[]);
        assert_eq!(index.responses, 3);
    }

    #[test]
    fn element_and_overall_are_means_that_skip_missing_indices() {
        let q = Questionnaire::bundled();
        // A1 = 50 %, A2 = 100 %, A3 unanswered → A = 75 %.
        // B1 = 0 %, others unanswered → B = 0 %. C, D, E have no answers at all.
        // Overall = mean(75, 0) = 37.5 %, not diluted by C, D, E.
        let index = SatisfactionIndex::compute(
            &q,
            "SNV",
            2.0,
            &[counts("A1", [0, 1, 0, 1, 0]), counts("A2", [0, 0, 0, 0, 2]), counts("B1", [1, 0, 1, 0, 0])],
        );
        let a = &index.elements[0];
        close(a.index.unwrap(), 75.0);
        assert_eq!(a.criteria[2].index, None);
        close(index.elements[1].index.unwrap(), 0.0);
        assert_eq!(index.elements[2].index, None);
        close(index.overall.unwrap(), 37.5);
    }

    #[test]
    fn an_element_below_its_minimum_keeps_its_index_but_leaves_the_overall() {
        let q = Questionnaire::bundled();
        // A: 12 answers per criterion, 10 satisfied each → A1 = A2 = A3 = 83.33 %, A = 83.33 %.
        // B: B1 and B2 12 answers, all satisfied → B = 100 %.
        // E: two answers of 2 in E1 → E1 = 0 % (E2, E3 unanswered): E = 0 %, valid 2.
        // Over every answered element: (83.33 + 100 + 0) / 3 = 61.11 %. With a minimum of 10,
        // E leaves the overall: (83.33 + 100) / 2 = 91.67 %, and C, D (unanswered) and E are
        // named.
        let mut given = ["A1", "A2", "A3"].map(|c| counts(c, [0, 2, 0, 5, 5])).to_vec();
        given.extend(["B1", "B2"].map(|c| counts(c, [0, 0, 0, 0, 12])));
        given.push(counts("E1", [0, 2, 0, 0, 0]));
        let index = SatisfactionIndex::compute(&q, "X", 12.0, &given);
        close(index.overall.unwrap(), (250.0 / 3.0 + 100.0) / 3.0);
        assert_eq!(index.left_out, ["C", "D"]);
        let e = &index.elements[4];
        assert_eq!((e.index, e.valid), (Some(0.0), 2));
        assert_eq!(index.elements[0].valid, 12);
        let held = index.clone().holding(10);
        close(held.overall.unwrap(), (250.0 / 3.0 + 100.0) / 2.0);
        assert_eq!(held.left_out, ["C", "D", "E"]);
        assert_eq!(held.elements[4].index, Some(0.0), "E keeps its own index");
        // The fewest answers of an element's answered criteria decide: B2 with 9 of 10 fails B.
        let mut thin_b = given.clone();
        thin_b[4] = counts("B2", [0, 0, 0, 0, 9]);
        let held = SatisfactionIndex::compute(&q, "X", 12.0, &thin_b).holding(10);
        assert_eq!(held.left_out, ["B", "C", "D", "E"]);
        close(held.overall.unwrap(), 250.0 / 3.0);
        // At a minimum of 2, E holds.
        assert_eq!(index.clone().holding(2).left_out, ["C", "D"]);
        // Withheld under k: nothing says which elements were answered.
        assert!(index.holding(10).published(20).left_out.is_empty());
    }

    #[test]
    fn an_empty_population_has_no_indices_at_all() {
        let index = SatisfactionIndex::compute(&Questionnaire::bundled(), "SNV", 0.0, &[]);
        assert_eq!(index.overall, None);
        assert!(index.elements.iter().all(|e| e.index.is_none() && e.criteria.len() >= 3));
        assert_eq!(index.elements.iter().map(|e| e.criteria.len()).sum::<usize>(), 16);
    }

    #[test]
    fn a_population_under_k_publishes_its_size_and_no_figure() {
        let q = Questionnaire::bundled();
        let four = SatisfactionIndex::compute(&q, "X", 4.0, &[counts("A1", [0, 0, 1, 2, 1])]);
        assert!(four.overall.is_some());
        let published = four.clone().published(5);
        assert_eq!((published.responses, published.overall), (4, None));
        assert!(published.elements.is_empty(), "no count per level, index, mean or interval");
        assert_eq!(published.withheld.as_deref(), Some("dưới 5 phiếu"));
        let json = serde_json::to_value(&published).unwrap();
        assert_eq!(json["overall"], serde_json::Value::Null);
        assert_eq!(json["elements"], serde_json::json!([]));
        assert_eq!(four.clone().published(4), four, "k responses are published");
        let none = SatisfactionIndex::compute(&q, "X", 0.0, &[]);
        assert_eq!(none.clone().published(5), none);
    }

    #[test]
    fn minimum_sample_follows_the_2012_rule() {
        // 1000 / (1 + 1000 × 0.0025) = 285.7 → 286.
        assert_eq!(minimum_sample(1000), 286);
        assert_eq!(minimum_sample(0), 0);
        assert_eq!(minimum_sample(100), 80);
    }

    #[test]
    fn ranking_shares_places_on_ties_and_puts_unknowns_last() {
        let ranked =
            rank(vec![("a", Some(80.0)), ("b", None), ("c", Some(90.0)), ("d", Some(80.0)), ("e", Some(70.0))]);
        assert_eq!(ranked, vec![("c", Some(1)), ("a", Some(2)), ("d", Some(2)), ("e", Some(4)), ("b", None)]);
    }
}
