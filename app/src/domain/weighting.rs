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
//!
//! **Channels**, where the province says so ([`ChannelShares`]): a unit's N is further split
//! between kiosk and link answers by the share of its dossiers each channel reaches, so that a
//! unit whose link answers outnumber its kiosk answers is not read mostly through its links.
//! A unit's share satisfied of a criterion is then Σ s_c · p_hc ÷ Σ s_c over the channels with
//! valid answers to it: a channel without answers hands its share to the others of the unit
//! (the cells collapse), so the coverage is the same as without channels.

use serde::{Deserialize, Serialize};

use super::questionnaire::Questionnaire;
use super::submission::Channel;
use super::tally::Totals;

/// One unit: its responses, in parts each with its share of the unit's dossiers (one part of
/// share 1 when channels are not weighted, else one per channel), and the completed dossiers
/// entered for it over the period (a month partly inside the period counts in proportion to
/// its days, hence fractional).
pub struct Stratum<'a> {
    pub parts: Vec<(&'a Totals, f64)>,
    pub dossiers: Option<f64>,
}

impl Stratum<'_> {
    fn responses(&self) -> f64 {
        self.parts.iter().map(|(totals, _)| totals.responses).sum()
    }

    /// The share satisfied of criterion `code` (0 to 1) and its valid answers; none without any.
    fn satisfied(&self, code: &str) -> Option<(f64, f64)> {
        let (mut share, mut weight, mut valid) = (0.0, 0.0, 0.0);
        for (totals, part) in &self.parts {
            let Some(levels) = totals.criteria.get(code) else { continue };
            let answers: f64 = levels.iter().sum();
            if answers > 0.0 && *part > 0.0 {
                share += part * (levels[3] + levels[4]) / answers;
                weight += part;
                valid += answers;
            }
        }
        (weight > 0.0).then(|| (share / weight, valid))
    }
}

/// What share of every unit's completed dossiers each channel reaches, as the province says
/// (`HAILONG_CHANNEL_WEIGHTS`, e.g. `kiosk:0.7,link:0.3`): with it, weighted figures weigh a
/// unit's kiosk and link answers by these shares of its N rather than by how many came.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChannelShares {
    pub kiosk: f64,
    pub link: f64,
}

impl ChannelShares {
    pub fn of(&self, channel: Channel) -> f64 {
        match channel {
            Channel::Kiosk => self.kiosk,
            Channel::Link => self.link,
        }
    }

    /// `kiosk:0.7,link:0.3` (a decimal comma is read too: `kiosk:0,7;link:0,3`); empty: none.
    pub fn parse(text: &str) -> Result<Option<Self>, String> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        let wrong = |why: String| {
            format!("trọng số theo kênh \"{text}\" không hợp lệ: {why}; hãy viết dạng kiosk:0.7,link:0.3")
        };
        let separator = if text.contains(';') { ';' } else { ',' };
        let mut shares: [Option<f64>; 2] = [None, None];
        for part in text.split(separator).map(str::trim).filter(|p| !p.is_empty()) {
            let (name, value) =
                part.split_once(':').ok_or_else(|| wrong(format!("thiếu dấu hai chấm ở \"{part}\"")))?;
            let channel =
                Channel::parse(name.trim()).ok_or_else(|| wrong(format!("không có kênh \"{}\"", name.trim())))?;
            let value: f64 = value
                .trim()
                .replace(',', ".")
                .parse()
                .map_err(|_| wrong(format!("\"{}\" không phải số", value.trim())))?;
            if !(value > 0.0 && value <= 1.0) {
                return Err(wrong(format!("tỷ lệ của kênh {name} phải lớn hơn 0 và không quá 1")));
            }
            let slot = match channel {
                Channel::Kiosk => &mut shares[0],
                Channel::Link => &mut shares[1],
            };
            if slot.replace(value).is_some() {
                return Err(wrong(format!("kênh {name} được ghi hai lần")));
            }
        }
        let [Some(kiosk), Some(link)] = shares else {
            return Err(wrong("cần tỷ lệ của cả kiosk và link".into()));
        };
        let sum = kiosk + link;
        if (sum - 1.0).abs() > 1e-6 {
            return Err(wrong(format!("hai tỷ lệ phải cộng lại bằng 1 (đang là {})", (sum * 1e6).round() / 1e6)));
        }
        Ok(Some(Self { kiosk, link }))
    }

    /// `Tại kiosk 70 %, Qua đường liên kết 30 %`.
    pub fn describe(&self) -> String {
        let percent = |share: f64| format!("{} %", (share * 1000.0).round() / 10.0).replace('.', ",");
        format!("{} {}, {} {}", Channel::Kiosk.label(), percent(self.kiosk), Channel::Link.label(), percent(self.link))
    }
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
    /// The channel shares each unit's N was split by, when the province weighs channels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_shares: Option<ChannelShares>,
}

/// The post-stratified index of `strata` (units with no responses are passed over).
pub fn post_stratified(questionnaire: &Questionnaire, strata: &[Stratum], element_minimum: u64) -> Weighted {
    let answered: Vec<&Stratum> = strata.iter().filter(|s| s.responses() > 0.0).collect();
    let (weighted, without): (Vec<&Stratum>, Vec<&Stratum>) = answered.into_iter().partition(|s| s.dossiers.is_some());
    let mut result = Weighted {
        units: weighted.len(),
        // folded from +0.0: an empty f64 sum is −0.0
        dossiers: weighted.iter().filter_map(|s| s.dossiers).fold(0.0, |sum, n| sum + n),
        units_without_n: without.len(),
        responses_without_n: without.iter().map(|s| s.responses()).sum::<f64>().round() as u64,
        ..Weighted::default()
    };
    // Per criterion: its weighted share (percent) and the valid answers behind it.
    let criterion = |code: &str| -> Option<(f64, u64)> {
        let (mut sum, mut weight, mut valid) = (0.0, 0.0, 0.0);
        for stratum in &weighted {
            let n = stratum.dossiers.unwrap_or_default();
            let Some((satisfied, answers)) = stratum.satisfied(code).filter(|_| n > 0.0) else { continue };
            sum += n * satisfied;
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
            Stratum { parts: vec![(&u1, 1.0)], dossiers: Some(1000.0) },
            Stratum { parts: vec![(&u2, 1.0)], dossiers: Some(100.0) },
            Stratum { parts: vec![(&u3, 1.0)], dossiers: Some(10.0) },
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
            Stratum { parts: vec![(&u1, 1.0)], dossiers: Some(1000.0) },
            Stratum { parts: vec![(&u2, 1.0)], dossiers: None },
            Stratum { parts: vec![(&silent, 1.0)], dossiers: Some(300.0) },
        ];
        let weighted = post_stratified(&q, &strata, 10);
        close(weighted.overall.unwrap(), 50.0);
        assert_eq!((weighted.units, weighted.units_without_n, weighted.responses_without_n), (1, 1, 100));
        close(weighted.dossiers, 1000.0);
        let none = post_stratified(&q, &[Stratum { parts: vec![(&u2, 1.0)], dossiers: None }], 10);
        assert_eq!((none.overall, none.units_without_n), (None, 1));
        assert!(none.elements.iter().all(|e| e.index.is_none()));
    }

    #[test]
    fn a_thin_element_leaves_the_weighted_overall_too() {
        let q = Questionnaire::bundled();
        // Two units of 6 responses each: E valid answers 6 + 6 = 12 per criterion. A minimum of
        // 13 leaves every element out; of 12, none.
        let (u1, u2) = (unit(6, 6), unit(6, 3));
        let strata = [
            Stratum { parts: vec![(&u1, 1.0)], dossiers: Some(30.0) },
            Stratum { parts: vec![(&u2, 1.0)], dossiers: Some(10.0) },
        ];
        // (30 × 1 + 10 × 0.5) / 40 = 87.5 %
        close(post_stratified(&q, &strata, 12).overall.unwrap(), 87.5);
        let thin = post_stratified(&q, &strata, 13);
        assert_eq!((thin.overall, thin.left_out.len()), (None, 5));
    }
    #[test]
    fn channels_weigh_by_the_provinces_shares_and_a_channel_without_answers_hands_its_share_on() {
        let q = Questionnaire::bundled();
        // U: N = 100; kiosk 10 answers all satisfied (100 %), link 30 answers, 15 satisfied (50 %).
        // V: N = 300; link only, 20 answers, 10 satisfied (50 %).
        let (u_kiosk, u_link, v_link, none) = (unit(10, 10), unit(30, 15), unit(20, 10), Totals::default());
        let shares = ChannelShares { kiosk: 0.8, link: 0.2 };
        fn by_channel<'a>(kiosk: &'a Totals, link: &'a Totals, n: f64, shares: ChannelShares) -> Stratum<'a> {
            Stratum { parts: vec![(kiosk, shares.kiosk), (link, shares.link)], dossiers: Some(n) }
        }
        // U alone: 0.8 × 100 + 0.2 × 50 = 90 %, where its pooled answers give 25 / 40 = 62.5 %.
        let u = post_stratified(&q, &[by_channel(&u_kiosk, &u_link, 100.0, shares)], 10);
        close(u.overall.unwrap(), 90.0);
        // V has no kiosk answers: its link answers stand for all its N (50 %). The province:
        // (100 × 90 + 300 × 50) / 400 = 60 %.
        let province = post_stratified(
            &q,
            &[by_channel(&u_kiosk, &u_link, 100.0, shares), by_channel(&none, &v_link, 300.0, shares)],
            10,
        );
        close(province.overall.unwrap(), 60.0);
        assert_eq!((province.units, province.units_without_n), (2, 0));
        // Without channels, U counts at its pooled 62.5 %: (100 × 62.5 + 300 × 50) / 400 = 53.125 %.
        let mut u_pooled = u_kiosk.clone();
        u_pooled.add(&u_link);
        let strata = [
            Stratum { parts: vec![(&u_pooled, 1.0)], dossiers: Some(100.0) },
            Stratum { parts: vec![(&v_link, 1.0)], dossiers: Some(300.0) },
        ];
        close(post_stratified(&q, &strata, 10).overall.unwrap(), 53.125);
    }

    #[test]
    fn channel_shares_are_read_with_reasons_for_what_is_wrong() {
        assert_eq!(ChannelShares::parse(" ").unwrap(), None);
        assert_eq!(ChannelShares::parse("kiosk:0.7,link:0.3").unwrap(), Some(ChannelShares { kiosk: 0.7, link: 0.3 }));
        assert_eq!(
            ChannelShares::parse("link:0,25; kiosk:0,75").unwrap(),
            Some(ChannelShares { kiosk: 0.75, link: 0.25 })
        );
        assert_eq!(ChannelShares { kiosk: 0.7, link: 0.3 }.describe(), "Tại kiosk 70 %, Qua đường liên kết 30 %");
        for (text, why) in [
            ("kiosk:0.7,link:0.2", "hai tỷ lệ phải cộng lại bằng 1 (đang là 0.9"),
            ("kiosk:1", "cần tỷ lệ của cả kiosk và link"),
            ("sms:0.5,kiosk:0.5", "không có kênh \"sms\""),
            ("kiosk:0,link:1", "tỷ lệ của kênh kiosk phải lớn hơn 0"),
            ("kiosk:0.5,kiosk:0.5", "kênh kiosk được ghi hai lần"),
            ("kiosk:nửa,link:0.5", "\"nửa\" không phải số"),
            ("kiosk 0.5,link 0.5", "thiếu dấu hai chấm ở \"kiosk 0.5\""),
        ] {
            let error = ChannelShares::parse(text).unwrap_err();
            assert!(error.contains(why) && error.contains("kiosk:0.7,link:0.3"), "{text}: {error}");
        }
    }
}
