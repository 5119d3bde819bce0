//! Which responses a published figure may count, so that no two figures can be subtracted to
//! show fewer than k citizens' answers.
//!
//! The responses of one agency through one channel (an *atom*: every population a report can
//! ask for is a union of atoms) are published in **steps**: over final days, oldest first, a
//! step closes on the day the atom's responses since the previous step reach k. A period counts
//! the steps that closed inside it, all of their days (so a step may bring answers of days just
//! before the period; answers of a step not closed yet wait for the period it closes in).
//! Every figure is then a sum of whole steps of k or more responses, and so is the difference
//! of any two: a period and a longer one, a parent and its children, all channels and one.
//!
//! Breakdowns split a population further (by service point, or by a profile answer). They count
//! **wider steps** of their own dimension: consecutive steps of the atom, closed once every value
//! of the dimension (the unanswered included) has 0 or at least k responses since the previous
//! wider step. A breakdown row is then a sum of parts of 0 or k or more, and what a breakdown
//! leaves out of its population is made of whole steps, published anyway.
//!
//! Final days never change (see [`super::period::last_final_day`]), so a step never moves once
//! closed and every server computes the same steps from the same stored tallies.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;

use super::submission::Channel;

/// The breakdown dimension of service points (the others are profile question codes).
pub const SERVICE_POINT: &str = "service_point";

/// One agency's responses through one channel.
pub type Atom = (String, Channel);

/// An atom's responses of one final day: all, and per value of each breakdown dimension
/// (`""` for those who left a profile question unanswered is worked out, not stored here).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DayCount {
    pub responses: u64,
    pub parts: BTreeMap<String, BTreeMap<String, u64>>,
}

/// The steps of one atom, fed one final day at a time.
#[derive(Clone, Debug, Default)]
pub struct Steps {
    /// The first day with a response.
    first: Option<NaiveDate>,
    /// The days steps closed on, oldest first.
    closes: Vec<NaiveDate>,
    /// Responses since the last step, in all and per dimension and value.
    pending: DayCount,
    /// Per breakdown dimension: the days its wider steps closed on, and what waits for the next.
    wider: BTreeMap<String, Wider>,
}

#[derive(Clone, Debug, Default)]
struct Wider {
    closes: Vec<NaiveDate>,
    pending: BTreeMap<String, u64>,
}

impl Steps {
    /// Adds the responses of `day`, a final day after every day fed before, with `dimensions`
    /// the breakdown dimensions (the same list at every call).
    pub fn feed(&mut self, day: NaiveDate, count: &DayCount, dimensions: &[String], k: u64) {
        if count.responses == 0 {
            return;
        }
        self.first.get_or_insert(day);
        self.pending.responses += count.responses;
        for (dimension, values) in &count.parts {
            let pending = self.pending.parts.entry(dimension.clone()).or_default();
            for (value, n) in values {
                *pending.entry(value.clone()).or_default() += n;
            }
        }
        if self.pending.responses < k {
            return;
        }
        self.closes.push(day);
        let step = std::mem::take(&mut self.pending);
        for dimension in dimensions {
            let mut values = step.parts.get(dimension).cloned().unwrap_or_default();
            let answered: u64 = values.values().sum();
            let unanswered = step.responses.saturating_sub(answered);
            if unanswered > 0 {
                *values.entry(String::new()).or_default() += unanswered;
            }
            let wider = self.wider.entry(dimension.clone()).or_default();
            for (value, n) in values {
                *wider.pending.entry(value).or_default() += n;
            }
            if wider.pending.values().all(|n| *n == 0 || *n >= k) {
                wider.closes.push(day);
                wider.pending.clear();
            }
        }
    }

    /// The closing days of the steps a figure counts: the atom's own (`None`), or a breakdown
    /// dimension's wider steps.
    fn closes(&self, dimension: Option<&str>) -> &[NaiveDate] {
        match dimension {
            None => &self.closes,
            Some(dimension) => self.wider.get(dimension).map_or(&[], |w| &w.closes),
        }
    }

    /// The day the step holding `day`'s responses closed on: the period it is published in
    /// (none while it is not closed).
    pub fn published(&self, day: NaiveDate, dimension: Option<&str>) -> Option<NaiveDate> {
        let closes = self.closes(dimension);
        closes.get(closes.partition_point(|close| *close < day)).copied()
    }

    /// The first day whose responses a figure over `from..=to` counts: the day after the last
    /// step closed before `from` (or the atom's first day), if a step closes inside.
    pub fn earliest(&self, from: NaiveDate, to: NaiveDate, dimension: Option<&str>) -> Option<NaiveDate> {
        let closes = self.closes(dimension);
        let first = closes.partition_point(|close| *close < from);
        let closes_inside = closes.get(first).is_some_and(|close| *close <= to);
        if !closes_inside {
            return None;
        }
        match first.checked_sub(1) {
            Some(before) => closes[before].succ_opt(),
            None => self.first,
        }
    }
}

/// The steps of every atom, over the final days up to `through`.
#[derive(Clone, Debug, Default)]
pub struct StepBook {
    pub through: Option<NaiveDate>,
    pub atoms: HashMap<Atom, Steps>,
}

impl StepBook {
    /// Feeds the final days after `through` up to `to`: `days` holds the atoms' counts of those
    /// days (any order; days without responses may be missing).
    pub fn extend(
        &mut self,
        to: NaiveDate,
        days: BTreeMap<(NaiveDate, Atom), DayCount>,
        dimensions: &[String],
        k: u64,
    ) {
        for ((day, atom), count) in days {
            if self.through.is_none_or(|through| day > through) && day <= to {
                self.atoms.entry(atom).or_default().feed(day, &count, dimensions, k);
            }
        }
        self.through = Some(to);
    }

    /// See [`Steps::published`].
    pub fn published(&self, atom: &Atom, day: NaiveDate, dimension: Option<&str>) -> Option<NaiveDate> {
        self.atoms.get(atom)?.published(day, dimension)
    }

    /// The first day any atom's figure over `from..=to` counts (see [`Steps::earliest`]).
    pub fn earliest(&self, from: NaiveDate, to: NaiveDate, dimension: Option<&str>) -> Option<NaiveDate> {
        self.atoms.values().filter_map(|steps| steps.earliest(from, to, dimension)).min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(n: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, n).unwrap()
    }

    fn count(responses: u64) -> DayCount {
        DayCount { responses, parts: BTreeMap::new() }
    }

    fn gendered(female: u64, male: u64, unanswered: u64) -> DayCount {
        let values = [("f", female), ("m", male)].into_iter().filter(|(_, n)| *n > 0);
        let gender = values.map(|(v, n)| (v.to_owned(), n)).collect();
        DayCount { responses: female + male + unanswered, parts: BTreeMap::from([("gender".to_owned(), gender)]) }
    }

    fn fed(days: &[(u32, DayCount)], k: u64) -> Steps {
        let mut steps = Steps::default();
        let dimensions = vec!["gender".to_owned()];
        for (n, count) in days {
            steps.feed(day(*n), count, &dimensions, k);
        }
        steps
    }

    fn thin() -> Steps {
        // k = 3: 1 + 1 + 2 closes on the 4th (4 responses); 2 + 1 on the 9th; 1 waits
        fed(&[(1, count(1)), (2, count(1)), (4, count(2)), (6, count(2)), (9, count(1)), (10, count(1))], 3)
    }

    #[test]
    fn a_step_closes_on_the_day_the_responses_since_the_last_one_reach_k() {
        let steps = thin();
        assert_eq!(steps.closes, vec![day(4), day(9)]);
        assert_eq!(steps.pending.responses, 1);
        // a day of 5 closes a step alone
        assert_eq!(fed(&[(1, count(5))], 3).closes, vec![day(1)]);
    }

    #[test]
    fn each_day_is_published_with_its_step() {
        let steps = thin();
        let published: Vec<Option<NaiveDate>> = (1..=11).map(|n| steps.published(day(n), None)).collect();
        let on_4th = Some(day(4));
        let on_9th = Some(day(9));
        let expected = [on_4th, on_4th, on_4th, on_4th, on_9th, on_9th, on_9th, on_9th, on_9th, None, None];
        assert_eq!(published, expected);
    }

    #[test]
    fn a_period_reads_from_the_day_after_the_step_closed_before_it() {
        let steps = thin();
        assert_eq!(steps.earliest(day(3), day(9), None), Some(day(1)));
        assert_eq!(steps.earliest(day(5), day(31), None), Some(day(5)));
        assert_eq!(steps.earliest(day(9), day(9), None), Some(day(5)));
        // no step closes from the 5th to the 8th, nor from the 10th on
        assert_eq!(steps.earliest(day(5), day(8), None), None);
        assert_eq!(steps.earliest(day(10), day(31), None), None);
    }

    #[test]
    fn nested_periods_differ_by_whole_steps() {
        let days: Vec<(u32, DayCount)> = (1..=28).map(|n| (n, count(u64::from(n % 3)))).collect();
        let steps = fed(&days, 4);
        let total = |from: u32, to: u32| -> u64 {
            let inside = |p: Option<NaiveDate>| p.is_some_and(|p| day(from) <= p && p <= day(to));
            days.iter().filter(|(n, _)| inside(steps.published(day(*n), None))).map(|(_, c)| c.responses).sum()
        };
        for from in 1..=28 {
            for to in from..=28 {
                for (inner_from, inner_to) in (from..=to).flat_map(|a| (a..=to).map(move |b| (a, b))) {
                    let difference = total(from, to) - total(inner_from, inner_to);
                    assert!(difference == 0 || difference >= 4, "{from}..{to} less {inner_from}..{inner_to}");
                }
            }
        }
        assert_eq!(total(1, 28), days.iter().map(|(_, c)| c.responses).sum::<u64>() - steps.pending.responses);
    }

    #[test]
    fn a_wider_step_waits_until_every_value_has_none_or_k() {
        // k = 2. Steps close on the 1st (f 2), the 2nd (f 1, m 1), the 3rd (m 1, unanswered 1),
        // the 4th (unanswered 1, f 1). Wider steps: the 1st (f 2); on the 2nd f 1, m 1 wait;
        // the 3rd: f 1, m 2, unanswered 1 wait; the 4th: f 2, m 2, unanswered 2: closed.
        let steps =
            fed(&[(1, gendered(2, 0, 0)), (2, gendered(1, 1, 0)), (3, gendered(0, 1, 1)), (4, gendered(1, 0, 1))], 2);
        assert_eq!(steps.closes, vec![day(1), day(2), day(3), day(4)]);
        assert_eq!(steps.closes(Some("gender")), &[day(1), day(4)]);
        assert_eq!(steps.published(day(2), Some("gender")), Some(day(4)));
        assert_eq!(steps.earliest(day(2), day(4), Some("gender")), Some(day(2)));
        assert_eq!(steps.earliest(day(2), day(3), Some("gender")), None);
        assert_eq!(steps.published(day(1), Some("age")), None);
    }

    #[test]
    fn the_book_feeds_only_days_after_what_it_holds() {
        let mut book = StepBook::default();
        let atom: Atom = ("X1".into(), Channel::Kiosk);
        let days = BTreeMap::from([((day(1), atom.clone()), count(3)), ((day(2), atom.clone()), count(3))]);
        book.extend(day(1), days.clone(), &[], 3);
        assert_eq!(book.atoms[&atom].closes, vec![day(1)]);
        // the 1st again is not counted twice; the 2nd is new
        book.extend(day(2), days, &[], 3);
        assert_eq!(book.atoms[&atom].closes, vec![day(1), day(2)]);
        assert_eq!(book.earliest(day(2), day(2), None), Some(day(2)));
        assert_eq!(book.published(&atom, day(2), None), Some(day(2)));
    }
}
