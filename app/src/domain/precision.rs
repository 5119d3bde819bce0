//! How precise an element or overall index is, worked out per respondent (sai số theo người trả
//! lời). A citizen answers every criterion at once, so the criteria of one response move
//! together, and the mean number of answers per criterion says little about the precision of
//! their mean. Instead each respondent's answers in element e become two numbers: aₑ (1 when they
//! answered some criterion of e) and yₑ (the share of those answers that are 4 or 5). The element
//! index is close to the ratio Rₑ = Σ yₑ ÷ Σ aₑ and an overall of the elements H to the mean of
//! those; linearising that mean (Taylor, as survey software does for ratios) gives each
//! respondent zᵢ = Σ_{e∈H} (yᵢₑ − Rₑ·aᵢₑ) ÷ (|H|·Σ aₑ), and the variance n ÷ (n − 1) · Σ zᵢ².
//! Σ zᵢ² needs, per pair of elements, only Σ yₑ·y_f, Σ yₑ·a_f and Σ aₑ·a_f: the report aggregates
//! keep them ([`Respondents`]), so no response is read. The interval is Wilson's at the effective
//! sample size p(1 − p) ÷ variance (at most the responses): it stays inside 0–100 % and does not
//! shrink to a point when every answer is satisfied. The tests below hold the error against a
//! bootstrap over raw responses.

use super::tally::{Respondents, SCALE};

/// z for a two-sided 95% interval.
const Z95: f64 = 1.959_963_984_540_054;

/// Wilson score interval for `successes` out of `n` trials (n > 0), as proportions.
pub fn wilson_interval(successes: f64, n: f64) -> (f64, f64) {
    let p = successes / n;
    let z2 = Z95 * Z95;
    let denominator = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denominator;
    let half = Z95 / denominator * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// The variance (of a proportion) of the mean of the indices of `elements`, from the respondent
/// statistics of `responses` responses; `None` when they do not cover every response (tallies
/// stored before them), with fewer than two responses, or for an element nobody answered.
pub fn variance(stats: &Respondents, responses: f64, elements: &[&str]) -> Option<f64> {
    // covered: the same sums of whole counts (times the same shares), but allow for rounding
    if (stats.covers - responses).abs() > 1e-6 * responses.max(1.0) || responses < 2.0 || elements.is_empty() {
        return None;
    }
    let scale = SCALE as f64;
    let sums = |e: &str, f: &str| -> [f64; 3] { stats.pair(e, f).unwrap_or([0.0; 3]) };
    // Rₑ and Σ aₑ of each element
    let mut ratio = Vec::with_capacity(elements.len());
    for e in elements {
        let [_, y, a] = sums(e, e);
        if a == 0.0 {
            return None;
        }
        ratio.push((y / scale / a, a));
    }
    let h = elements.len() as f64;
    let mut squares = 0.0;
    for (i, e) in elements.iter().enumerate() {
        for (j, f) in elements.iter().enumerate() {
            let ((r_e, a_e), (r_f, a_f)) = (ratio[i], ratio[j]);
            let [yy, y_e_a_f, aa] = sums(e, f);
            let y_f_a_e = sums(f, e)[1];
            // Σᵢ (yᵢₑ − Rₑaᵢₑ)(yᵢf − R_f aᵢf)
            let cross = yy / (scale * scale) - r_f * y_e_a_f / scale - r_e * y_f_a_e / scale + r_e * r_f * aa;
            squares += cross / (h * a_e) / (h * a_f);
        }
    }
    let n = responses;
    Some((squares * n / (n - 1.0)).max(0.0))
}

/// The 95 % interval (percent) of an index (percent) that is the mean of the indices of
/// `elements`; see [`variance`] for when there is none.
pub fn interval(stats: &Respondents, responses: f64, elements: &[&str], index: f64) -> Option<[f64; 2]> {
    let variance = variance(stats, responses, elements)?;
    let n = responses;
    let p = (index / 100.0).clamp(0.0, 1.0);
    let effective = if variance > 0.0 { (p * (1.0 - p) / variance).clamp(1.0, n) } else { n };
    let (low, high) = wilson_interval(p * effective, effective);
    Some([low * 100.0, high * 100.0])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::questionnaire::Questionnaire;
    use crate::domain::splitmix::SplitMix;
    use crate::domain::tally::{Layout, Tally, Totals};
    use crate::domain::{SatisfactionIndex, ValidResponse};

    /// `count` respondents, each with a mood that moves all their answers together; each skips a
    /// criterion now and then, and only a third answer element E (feedback) at all.
    fn responses(count: usize, random: &mut SplitMix) -> Vec<ValidResponse> {
        let q = Questionnaire::bundled();
        (0..count)
            .map(|_| {
                let mood = random.below(100);
                let answers_e = random.below(3) == 0;
                let answers = q
                    .criteria()
                    .map(|(element, c)| {
                        let skip = random.below(100) < 8 || (element.code == "E" && !answers_e);
                        let level = if skip {
                            None
                        } else {
                            let roll = random.below(100);
                            Some(if roll < mood { 4 + (roll % 2) as u8 } else { 1 + (roll % 3) as u8 })
                        };
                        (c.code.clone(), level)
                    })
                    .collect();
                ValidResponse {
                    id: uuid::Uuid::nil(),
                    agency: "X".into(),
                    questionnaire_version: q.version.clone(),
                    answers,
                    expectations: vec![],
                    profile: vec![],
                    comment: None,
                    day: None,
                }
            })
            .collect()
    }

    fn totals(layout: &Layout, tallies: &[&Tally]) -> Totals {
        let mut sum = Tally::empty(layout);
        tallies.iter().for_each(|t| sum.add(t));
        let mut totals = Totals::default();
        totals.add_tally(layout, &sum);
        totals
    }

    fn overall(q: &Questionnaire, totals: &Totals, element: Option<&str>) -> f64 {
        let index = SatisfactionIndex::compute(q, "X", totals.responses, &totals.criterion_counts());
        match element {
            Some(code) => index.elements.iter().find(|e| e.code == code).and_then(|e| e.index).unwrap(),
            None => index.overall.unwrap(),
        }
    }

    #[test]
    fn the_error_per_respondent_matches_a_bootstrap_over_the_raw_responses() {
        let q = Questionnaire::bundled();
        let layout = Layout::of(&q);
        let mut random = SplitMix(2026);
        let sample = responses(300, &mut random);
        let tallies: Vec<Tally> = sample.iter().map(|r| Tally::of_response(&layout, r)).collect();
        let all = totals(&layout, &tallies.iter().collect::<Vec<_>>());
        assert_eq!(all.respondents.covers, 300.0);
        let codes = ["A", "B", "C", "D", "E"];
        for (elements, only) in [(&codes[..], None), (&codes[4..], Some("E")), (&codes[..4], None)] {
            // 600 resamples of 300 respondents, drawn with replacement, through the Ministry's
            // formula (the overall of `elements`: those of four elements is the mean of A–D)
            let estimates: Vec<f64> = (0..600)
                .map(|_| {
                    let drawn: Vec<&Tally> = (0..300).map(|_| &tallies[random.below(300) as usize]).collect();
                    let resample = totals(&layout, &drawn);
                    match (only, elements.len()) {
                        (Some(code), _) => overall(&q, &resample, Some(code)),
                        (None, 5) => overall(&q, &resample, None),
                        (None, _) => {
                            elements.iter().map(|e| overall(&q, &resample, Some(e))).sum::<f64>()
                                / elements.len() as f64
                        }
                    }
                })
                .collect();
            let mean = estimates.iter().sum::<f64>() / estimates.len() as f64;
            let bootstrap = (estimates.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 599.0).sqrt() / 100.0;
            let linearised = variance(&all.respondents, 300.0, elements).unwrap().sqrt();
            let ratio = linearised / bootstrap;
            // within 15 %: the bootstrap itself wanders by about 3 % at 600 resamples
            assert!((0.85..=1.15).contains(&ratio), "{elements:?}: per respondent {linearised}, bootstrap {bootstrap}");
        }
    }

    #[test]
    fn an_interval_by_hand_and_none_without_statistics_for_every_response() {
        let q = Questionnaire::bundled();
        let layout = Layout::of(&q);
        // Four respondents answering only A1: satisfied, satisfied, not, not. y = 1, 1, 0, 0;
        // a = 1 each; R = 0.5; z = ±0.5 / 4 = ±0.125; Σ z² = 4 × 0.015625 = 0.0625;
        // variance = 4/3 × 0.0625 = 0.08333 (a proportion's p(1 − p)/(n − 1) = 0.25/3).
        let one = |level: u8| ValidResponse {
            id: uuid::Uuid::nil(),
            agency: "X".into(),
            questionnaire_version: q.version.clone(),
            answers: vec![("A1".into(), Some(level))],
            expectations: vec![],
            profile: vec![],
            comment: None,
            day: None,
        };
        let tallies: Vec<Tally> = [5, 4, 2, 1].map(|l| Tally::of_response(&layout, &one(l))).to_vec();
        let all = totals(&layout, &tallies.iter().collect::<Vec<_>>());
        let v = variance(&all.respondents, 4.0, &["A"]).unwrap();
        assert!((v - 0.25 / 3.0).abs() < 1e-12, "{v}");
        // effective n = 0.25 / 0.0833 = 3: Wilson for 1.5 of 3
        let [low, high] = interval(&all.respondents, 4.0, &["A"], 50.0).unwrap();
        let (l, h) = wilson_interval(1.5, 3.0);
        assert!((low - l * 100.0).abs() < 1e-9 && (high - h * 100.0).abs() < 1e-9);
        // every answer satisfied: no spread, yet not a point
        let happy: Vec<Tally> = [5, 5, 4, 4].map(|l| Tally::of_response(&layout, &one(l))).to_vec();
        let all_happy = totals(&layout, &happy.iter().collect::<Vec<_>>());
        let [low, high] = interval(&all_happy.respondents, 4.0, &["A"], 100.0).unwrap();
        assert!(low < 60.0 && high == 100.0, "Wilson for 4 of 4: {low}");
        // statistics covering fewer responses than counted (older tallies): no interval here
        assert_eq!(variance(&all.respondents, 5.0, &["A"]), None);
        assert_eq!(variance(&all.respondents, 4.0, &["E"]), None, "nobody answered E");
    }
}
