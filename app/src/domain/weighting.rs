//! Post-stratified estimates (ước lượng có trọng số): a parent's or the province's index with
//! each unit weighted by the dossiers it completed (N_h) instead of the responses it got (n_h).
//! The pooled index lets a unit that answers much, or a shift between kiosk and link answers,
//! move the province; the weighted one answers "how satisfied are the people each unit served".
//!
//! For each criterion, the share satisfied is Σ N_h · p_h ÷ Σ N_h over the units that got a valid
//! answer to it; elements and the overall are means of those, as in [`super::index`], with the
//! same element minimum. **Coverage rule:** a unit with responses but no N entered cannot be
//! weighted; it is left out of the weighted figure, which says how many units and responses that
//! leaves out. With no N at all there is no weighted figure.

use serde::{Deserialize, Serialize};

use super::questionnaire::Questionnaire;
use super::tally::Totals;

/// One unit: its totals and the completed dossiers entered for it over the period (a month
/// partly inside the period counts in proportion to its days, hence fractional).
pub struct Stratum<'a> {
    pub totals: &'a Totals,
    pub dossiers: Option<f64>,
}

/// An element's weighted index.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WeightedElement {
    pub code: String,
    pub index: Option<f64>,
}

/// A population's post-stratified index, and what it covers.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Weighted {
    /// Mean of the weighted indices of the elements that hold; `None` without any N.
    pub overall: Option<f64>,
    pub elements: Vec<WeightedElement>,
    /// Elements the overall leaves out (none answered, or under the element minimum).
    pub left_out: Vec<String>,
    /// Units with responses that are weighted (N entered), and their N.
    pub units: usize,
    pub dossiers: f64,
    /// Units with responses but no N, left out of the weighted figure, and their responses.
    pub units_without_n: usize,
    pub responses_without_n: u64,
}

/// The post-stratified index of `strata` (units with no responses are passed over).
pub fn post_stratified(questionnaire: &Questionnaire, strata: &[Stratum], element_minimum: u64) -> Weighted {
    let answered: Vec<&Stratum> = strata.iter().filter(|s| s.totals.responses > 0.0).collect();
    let (weighted, without): (Vec<&Stratum>, Vec<&Stratum>) = answered.into_iter().partition(|s| s.dossiers.is_some());
    let mut result = Weighted {
        units: weighted.len(),
        // folded from +0.0: an empty f64 sum is −0.0
        dossiers: weighted.iter().filter_map(|s| s.dossiers).fold(0.0, |sum, n| sum + n),
        units_without_n: without.len(),
        responses_without_n: without.iter().map(|s| s.totals.responses).sum::<f64>().round() as u64,
        ..Weighted::default()
    };
    // Per criterion: its weighted share (percent) and the valid answers behind it.
    let criterion = |code: &str| -> Option<(f64, u64)> {
        let (mut sum, mut weight, mut valid) = (0.0, 0.0, 0.0);
        for stratum in &weighted {
            let Some(levels) = stratum.totals.criteria.get(code) else { continue };
            let answers: f64 = levels.iter().sum();
            let n = stratum.dossiers.unwrap_or_default();
            if answers <= 0.0 || n <= 0.0 {
                continue;
            }
            sum += n * (levels[3] + levels[4]) / answers;
            weight += n;
            valid += answers;
        }
        (weight > 0.0).then(|| (sum / weight * 100.0, valid.round() as u64))
    };
    let mut held = Vec::new();
    for element in &questionnaire.elements {
        let shares: Vec<(f64, u64)> = element.criteria.iter().filter_map(|c| criterion(&c.code)).collect();
        let index = (!shares.is_empty()).then(|| shares.iter().map(|(p, _)| p).sum::<f64>() / shares.len() as f64);
        let valid = shares.iter().map(|(_, n)| *n).min().unwrap_or(0);
        match index {
            Some(index) if valid >= element_minimum => held.push(index),
            _ => result.left_out.push(element.code.clone()),
        }
        result.elements.push(WeightedElement { code: element.code.clone(), index });
    }
    result.overall = (!held.is_empty()).then(|| held.iter().sum::<f64>() / held.len() as f64);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `responses` responses answering every criterion, `satisfied` of them with 5, the rest 2.
    fn unit(responses: u64, satisfied: u64) -> Totals {
        let (responses, satisfied) = (responses as f64, satisfied as f64);
        let mut totals = Totals { responses, ..Totals::default() };
        for (_, criterion) in Questionnaire::bundled().criteria() {
            totals.criteria.insert(criterion.code.clone(), [0.0, responses - satisfied, 0.0, 0.0, satisfied]);
        }
        totals
    }

    fn close(actual: f64, expected: f64) {
        assert!((actual - expected).abs() < 1e-9, "{actual} is not {expected}");
    }

    #[test]
    fn units_weigh_by_their_completed_dossiers_not_their_responses() {
        let q = Questionnaire::bundled();
        // A big unit that answered little, a middling one, and a small one that answered much:
        //   U1 N = 1000, n = 10, 5 satisfied (50 %); U2 N = 100, n = 100, 90 %; U3 N = 10, n = 40, 100 %.
        // Pooled: (5 + 90 + 40) / 150 = 90 %. Weighted: (1000 × 0.5 + 100 × 0.9 + 10 × 1) / 1110
        // = 600 / 1110 = 54.054 %.
        let (u1, u2, u3) = (unit(10, 5), unit(100, 90), unit(40, 40));
        let strata = [
            Stratum { totals: &u1, dossiers: Some(1000.0) },
            Stratum { totals: &u2, dossiers: Some(100.0) },
            Stratum { totals: &u3, dossiers: Some(10.0) },
        ];
        let weighted = post_stratified(&q, &strata, 10);
        close(weighted.overall.unwrap(), 600.0 / 1110.0 * 100.0);
        close(weighted.elements[4].index.unwrap(), 600.0 / 1110.0 * 100.0);
        assert!(weighted.left_out.is_empty());
        assert_eq!((weighted.units, weighted.units_without_n, weighted.responses_without_n), (3, 0, 0));
        close(weighted.dossiers, 1110.0);
        let mut pooled = u1.clone();
        pooled.add(&u2);
        pooled.add(&u3);
        let unweighted =
            super::super::SatisfactionIndex::compute(&q, "P", pooled.responses, &pooled.criterion_counts());
        close(unweighted.overall.unwrap(), 90.0);
    }

    #[test]
    fn units_without_n_are_left_out_and_counted_and_no_n_means_no_figure() {
        let q = Questionnaire::bundled();
        let (u1, u2, silent) = (unit(10, 5), unit(100, 90), Totals::default());
        // U2's N was not entered: the weighted figure is U1's alone, and says it left U2 out.
        // A unit with N but no responses is no stratum.
        let strata = [
            Stratum { totals: &u1, dossiers: Some(1000.0) },
            Stratum { totals: &u2, dossiers: None },
            Stratum { totals: &silent, dossiers: Some(300.0) },
        ];
        let weighted = post_stratified(&q, &strata, 10);
        close(weighted.overall.unwrap(), 50.0);
        assert_eq!((weighted.units, weighted.units_without_n, weighted.responses_without_n), (1, 1, 100));
        close(weighted.dossiers, 1000.0);
        let none = post_stratified(&q, &[Stratum { totals: &u2, dossiers: None }], 10);
        assert_eq!((none.overall, none.units_without_n), (None, 1));
        assert!(none.elements.iter().all(|e| e.index.is_none()));
    }

    #[test]
    fn a_thin_element_leaves_the_weighted_overall_too() {
        let q = Questionnaire::bundled();
        // Two units of 6 responses each: E valid answers 6 + 6 = 12 per criterion. A minimum of
        // 13 leaves every element out; of 12, none.
        let (u1, u2) = (unit(6, 6), unit(6, 3));
        let strata = [Stratum { totals: &u1, dossiers: Some(30.0) }, Stratum { totals: &u2, dossiers: Some(10.0) }];
        // (30 × 1 + 10 × 0.5) / 40 = 87.5 %
        close(post_stratified(&q, &strata, 12).overall.unwrap(), 87.5);
        let thin = post_stratified(&q, &strata, 13);
        assert_eq!((thin.overall, thin.left_out.len()), (None, 5));
    }
}
