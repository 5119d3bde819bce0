//! What the reporting console computes from totals: subtree roll-ups (as the units were, or
//! restated to today's units through the successor links), rank movement, progress toward the
//! province's targets, the expectations ranking, and small-cell suppression.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::index::rank;
use super::registry::RegistryEntry;
use super::tally::Totals;
use super::AgencyKind;

/// How a report places the responses of agencies that have since closed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", try_from = "String")]
pub enum Basis {
    /// Each response counts for the unit it was collected for (đơn vị tại thời điểm khảo sát).
    #[default]
    AsTheyWere,
    /// A closed unit's responses count for its successor (quy đổi theo đơn vị hiện nay).
    Restated,
}

impl TryFrom<String> for Basis {
    type Error = &'static str;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        Self::parse(text.trim()).ok_or(Self::EXPECTED)
    }
}

impl Basis {
    /// What a request is told when its `basis` is neither.
    pub const EXPECTED: &'static str = "Cách tính (basis) phải là as_they_were hoặc restated.";

    /// `as_they_were` (or nothing) and `restated`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "" | "as_they_were" => Some(Self::AsTheyWere),
            "restated" => Some(Self::Restated),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::AsTheyWere => "as_they_were",
            Self::Restated => "restated",
        }
    }
}

/// Adds each agency's totals into its own subtree total and its ancestors'.
pub struct Rollup {
    parents: HashMap<String, Option<String>>,
    /// Where a closed agency's responses go when restated: the units its successors lead to,
    /// followed on until an open one, each with the share it takes (1 after a merge or a
    /// rename; a split's shares, multiplied along the way). A split without shares stops the
    /// way: its responses stay its own, see [`Rollup::unapportioned`].
    heirs: HashMap<String, Vec<(String, f64)>>,
    /// Closed units split among several successors without shares: not restated.
    unapportioned: Vec<String>,
    basis: Basis,
}

impl Rollup {
    pub fn new(registry: &[RegistryEntry], basis: Basis) -> Self {
        let parents = registry.iter().map(|e| (e.agency.code.clone(), e.agency.parent.clone())).collect();
        let entries: HashMap<&str, &RegistryEntry> = registry.iter().map(|e| (e.agency.code.as_str(), e)).collect();
        let mut heirs = HashMap::new();
        for entry in registry.iter().filter(|e| !e.successors.is_empty()) {
            let mut placed: Vec<(String, f64)> = Vec::new();
            for (heir, share) in heirs_of(&entry.agency.code, &entries, registry.len()) {
                match placed.iter_mut().find(|(code, _)| *code == heir) {
                    Some(found) => found.1 += share,
                    None => placed.push((heir, share)),
                }
            }
            heirs.insert(entry.agency.code.clone(), placed);
        }
        let unapportioned = registry
            .iter()
            .filter(|e| e.successors.len() > 1 && e.shares.is_empty())
            .map(|e| e.agency.code.clone())
            .collect();
        Self { parents, heirs, unapportioned, basis }
    }

    /// The units `code`'s responses count for under this basis, with the share each takes.
    pub fn placements(&self, code: &str) -> Vec<(String, f64)> {
        match (self.basis, self.heirs.get(code)) {
            (Basis::Restated, Some(heirs)) => heirs.clone(),
            _ => vec![(code.to_owned(), 1.0)],
        }
    }

    /// The share of `code`'s responses that counts for the agencies in `inside` (0 to 1), for
    /// every tally row a report folds: without building its placements.
    pub fn share_in(&self, code: &str, inside: &std::collections::HashSet<String>) -> f64 {
        match (self.basis, self.heirs.get(code)) {
            (Basis::Restated, Some(heirs)) => {
                heirs.iter().filter(|(heir, _)| inside.contains(heir)).map(|(_, share)| share).sum()
            }
            _ => f64::from(u8::from(inside.contains(code))),
        }
    }

    /// Closed units split among several successors without shares: as restated, their
    /// responses still count as theirs (and their parent's), which a restated report footnotes.
    pub fn unapportioned(&self) -> &[String] {
        &self.unapportioned
    }

    /// The totals of every agency's whole subtree, from the totals collected for each agency.
    pub fn subtrees(&self, per_agency: &HashMap<String, Totals>) -> HashMap<String, Totals> {
        let mut sums: HashMap<String, Totals> = HashMap::new();
        for (code, totals) in per_agency {
            for (heir, share) in self.placements(code) {
                let mut at = Some(heir);
                let mut steps = 0;
                while let Some(code) = at {
                    sums.entry(code.clone()).or_default().add_share(totals, share);
                    at = self.parents.get(&code).cloned().flatten();
                    steps += 1;
                    if steps > self.parents.len() {
                        break;
                    }
                }
            }
        }
        sums
    }
}

/// The units a closed agency's responses go to when restated, with their shares (see
/// [`Rollup`]); `bound` keeps a corrupt registry's cycle from hanging (the registry refuses them).
fn heirs_of(code: &str, entries: &HashMap<&str, &RegistryEntry>, bound: usize) -> Vec<(String, f64)> {
    let Some(entry) = entries.get(code).filter(|_| bound > 0) else { return vec![(code.to_owned(), 1.0)] };
    let shares: Vec<f64> = match (entry.successors.len(), entry.shares.len()) {
        (0, _) => return vec![(code.to_owned(), 1.0)],
        (1, _) => vec![1.0],
        (n, m) if n == m => {
            entry.shares.iter().map(|s| f64::from(*s) / f64::from(super::registry::WHOLE_SHARE)).collect()
        }
        _ => return vec![(code.to_owned(), 1.0)],
    };
    entry
        .successors
        .iter()
        .zip(shares)
        .flat_map(|(successor, share)| {
            heirs_of(successor, entries, bound - 1).into_iter().map(move |(heir, part)| (heir, share * part))
        })
        .collect()
}

/// The province's satisfaction targets, e.g. ≥ 90 % by 2025 and ≥ 95 % by 2030.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Target {
    pub year: i32,
    pub percent: f64,
}

pub const DEFAULT_TARGETS: [Target; 2] = [Target { year: 2025, percent: 90.0 }, Target { year: 2030, percent: 95.0 }];
/// [`DEFAULT_TARGETS`] as `HAILONG_TARGETS` writes them (a test holds the two together).
pub const DEFAULT_TARGETS_TEXT: &str = "2025:90,2030:95";

/// Parses `2025:90,2030:95`.
pub fn parse_targets(text: &str) -> Result<Vec<Target>, String> {
    let mut targets = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let parsed = part.split_once(':').and_then(|(year, percent)| {
            let percent: f64 = percent.trim().parse().ok()?;
            let year: i32 = year.trim().parse().ok()?;
            ((2000..=2100).contains(&year) && (0.0..=100.0).contains(&percent)).then_some(Target { year, percent })
        });
        targets.push(parsed.ok_or_else(|| format!("mục tiêu \"{part}\" không hợp lệ; hãy viết dạng 2025:90,2030:95"))?);
    }
    targets.sort_by_key(|t| t.year);
    Ok(targets)
}

/// The milestone a period ending in `year` is held against: the target set for that year, else
/// the straight line between the targets either side of it (2025:90 and 2030:95 make 91 in
/// 2026); before the first target, the first one; after the last, the last one.
pub fn milestone(targets: &[Target], year: i32) -> Option<Target> {
    let before = targets.iter().rev().find(|t| t.year <= year);
    let after = targets.iter().find(|t| t.year >= year);
    match (before, after) {
        (Some(b), Some(a)) if a.year == b.year => Some(*a),
        (Some(b), Some(a)) => {
            let share = f64::from(year - b.year) / f64::from(a.year - b.year);
            Some(Target { year, percent: b.percent + (a.percent - b.percent) * share })
        }
        (None, after) => after.copied(),
        (before, None) => before.copied(),
    }
}

/// A percent as the reports show it: to two decimals. Ranks and movement compare these, so that
/// units shown alike share a place and a change nobody can see counts as none.
pub fn shown(percent: f64) -> f64 {
    (percent * 100.0).round() / 100.0
}

/// Now less then, as shown (see [`shown`]), in percentage points: what every "change" column
/// and the movement count read.
pub fn change(now: Option<f64>, then: Option<f64>) -> Option<f64> {
    now.zip(then).map(|(a, b)| shown(a) - shown(b))
}

/// Groups of ranked units (in rank order) that their 95 % intervals cannot tell apart: going
/// down the ranking, a unit joins the group of the unit that opened it while its interval
/// reaches that unit's, and opens the next group once it lies wholly below. Groups are numbered
/// from 1; a unit without an interval is in none.
pub fn overlap_groups(intervals: &[Option<[f64; 2]>]) -> Vec<Option<usize>> {
    let mut groups = Vec::with_capacity(intervals.len());
    // the lower bound of the unit that opened the current group, and its number
    let mut opened: Option<(f64, usize)> = None;
    for interval in intervals {
        let group = match (interval, opened) {
            (None, _) => None,
            (Some([_, high]), Some((low, group))) if *high >= low => Some(group),
            (Some([low, _]), _) => {
                let group = opened.map_or(1, |(_, g)| g + 1);
                opened = Some((*low, group));
                Some(group)
            }
        };
        groups.push(group);
    }
    groups
}

/// One unit's place in a ranking and how it moved since the previous period.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Placing {
    pub code: String,
    pub index: Option<f64>,
    pub rank: Option<usize>,
    pub previous_index: Option<f64>,
    pub previous_rank: Option<usize>,
}

impl Placing {
    /// Places climbed (positive) or lost since the previous period.
    pub fn rank_change(&self) -> Option<i64> {
        Some(self.previous_rank? as i64 - self.rank? as i64)
    }

    /// The change of the index as shown (two decimals), in percentage points.
    pub fn index_change(&self) -> Option<f64> {
        change(self.index, self.previous_index)
    }
}

/// The Ministry's summary of a ranking's movement: "57 rose, 6 fell in score; 36 climbed,
/// 24 fell, 3 kept their rank".
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Movement {
    pub score_rose: usize,
    pub score_fell: usize,
    pub rank_climbed: usize,
    pub rank_fell: usize,
    pub rank_kept: usize,
}

/// Ranks `current` and sets each unit beside its place in `previous`. Both rank the indices as
/// shown (see [`shown`]): units shown alike share a place.
pub fn placings(current: Vec<(String, Option<f64>)>, previous: Vec<(String, Option<f64>)>) -> (Vec<Placing>, Movement) {
    let as_shown = |units: &[(String, Option<f64>)]| -> Vec<(String, Option<f64>)> {
        units.iter().map(|(code, index)| (code.clone(), index.map(shown))).collect()
    };
    let before: HashMap<String, (Option<f64>, Option<usize>)> = rank(as_shown(&previous))
        .into_iter()
        .map(|(code, place)| {
            let index = previous.iter().find(|(c, _)| *c == code).and_then(|(_, i)| *i);
            (code, (index, place))
        })
        .collect();
    let now: HashMap<String, Option<f64>> = current.iter().cloned().collect();
    let placings: Vec<Placing> = rank(as_shown(&current))
        .into_iter()
        .map(|(code, rank)| {
            let (previous_index, previous_rank) = before.get(&code).copied().unwrap_or_default();
            Placing { index: now[&code], rank, previous_index, previous_rank, code }
        })
        .collect();
    let mut movement = Movement::default();
    for p in &placings {
        match p.index_change() {
            Some(d) if d > 0.0 => movement.score_rose += 1,
            Some(d) if d < 0.0 => movement.score_fell += 1,
            _ => {}
        }
        match p.rank_change() {
            Some(d) if d > 0 => movement.rank_climbed += 1,
            Some(d) if d < 0 => movement.rank_fell += 1,
            Some(_) => movement.rank_kept += 1,
            None => {}
        }
    }
    (placings, movement)
}

/// One improvement area's share of respondents wanting it (Mong muốn + Rất mong muốn).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExpectationShare {
    pub code: String,
    /// Respondents who rated the area.
    pub respondents: u64,
    pub share: Option<f64>,
    pub rank: Option<usize>,
}

/// The expectations ranking of `totals`: areas by share wanting them, highest first.
pub fn expectation_ranking(totals: &Totals, areas: &[String]) -> Vec<ExpectationShare> {
    let shares = areas.iter().map(|code| {
        let levels = totals.expectations.get(code).copied().unwrap_or_default();
        let respondents: f64 = levels.iter().sum();
        let share = (respondents > 0.0).then(|| (levels[2] + levels[3]) / respondents * 100.0);
        ((code.clone(), respondents.round() as u64, share), share.map(shown))
    });
    rank(shares.collect())
        .into_iter()
        .map(|((code, respondents, share), rank)| ExpectationShare { code, respondents, share, rank })
        .collect()
}

/// Responses a unit needs to be ranked when its completed dossiers (N) were not entered: the
/// minimum sample cannot be worked out, so a floor the province sets stands in for it.
pub const RANKING_FLOOR: u64 = 30;
pub const RANKING_FLOOR_RANGE: std::ops::RangeInclusive<u64> = 1..=10_000;

/// Whether a unit's sample is enough to rank it: against the minimum sample of its completed
/// dossiers (N) when they were entered, against the floor when N is unknown (never "adequate").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Adequacy {
    /// N entered; the responses reach its minimum sample.
    Adequate,
    /// N entered; fewer responses than its minimum sample.
    BelowMinimum,
    /// N not entered; at least the floor of responses: ranked, with N unknown.
    UnknownN,
    /// N not entered; fewer responses than the floor.
    BelowFloor,
}

impl Adequacy {
    pub fn of(responses: u64, dossiers: Option<u64>, floor: u64) -> Self {
        match dossiers {
            Some(n) if responses >= super::index::minimum_sample(n) => Self::Adequate,
            Some(_) => Self::BelowMinimum,
            None if responses >= floor => Self::UnknownN,
            None => Self::BelowFloor,
        }
    }

    /// Whether the unit takes a place in the ranking.
    pub fn ranked(self) -> bool {
        matches!(self, Self::Adequate | Self::UnknownN)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Adequate => "đủ mẫu",
            Self::BelowMinimum => "chưa đủ mẫu",
            Self::UnknownN => "chưa nhập số hồ sơ (N)",
            Self::BelowFloor => "chưa đủ mẫu, chưa nhập số hồ sơ (N)",
        }
    }
}

/// One row of a ranking of units of one kind.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RankingRow {
    pub code: String,
    pub name: String,
    pub responses: u64,
    pub index: Option<f64>,
    pub ci95: Option<[f64; 2]>,
    pub rank: Option<usize>,
    pub previous_rank: Option<usize>,
    pub previous_index: Option<f64>,
    /// Index (as shown) minus the milestone of the period's year, in percentage points.
    pub gap_to_target: Option<f64>,
    /// Ranked units that the 95 % intervals cannot tell apart share a group (see
    /// [`overlap_groups`]); none for units not ranked.
    pub overlap_group: Option<usize>,
    /// Dossiers completed in the period as the province entered them (N; none: not entered for
    /// every agency of the unit that has responses), the minimum sample they need, and the
    /// responses as a share of them (percent).
    pub dossiers: Option<u64>,
    pub minimum_sample: Option<u64>,
    pub response_rate: Option<f64>,
    /// Whether the sample is enough to rank the unit; unranked units come after the ranked.
    pub adequacy: Adequacy,
    /// Elements its overall leaves out (none answered, or under the element minimum): such a
    /// unit is not ranked beside units whose overall has all five.
    #[serde(default)]
    pub left_out: Vec<String>,
    /// The unit's overall index with each agency of it weighted by its completed dossiers
    /// (see [`crate::domain::weighting`]); none without N.
    #[serde(default)]
    pub weighted: Option<f64>,
    /// Its element indices (A to E, in the questionnaire's order), for the report's annex.
    #[serde(default)]
    pub elements: Vec<Option<f64>>,
}

impl RankingRow {
    /// Whether the unit takes a place: an adequate sample and an overall of every element.
    pub fn ranked(&self) -> bool {
        self.adequacy.ranked() && self.left_out.is_empty()
    }

    /// Why an unranked unit is not ranked: `chưa đủ mẫu; thiếu thành phần E`.
    pub fn not_ranked_because(&self) -> String {
        let mut reasons = Vec::new();
        if !self.adequacy.ranked() {
            reasons.push(self.adequacy.label().to_owned());
        }
        // a unit without responses lacks every element: its sample says enough
        if !self.left_out.is_empty() && self.responses > 0 {
            reasons.push(format!("chỉ số chung thiếu thành phần {}", self.left_out.join(", ")));
        }
        reasons.join("; ")
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Ranking {
    pub kind: AgencyKind,
    pub from: String,
    pub to: String,
    /// What the period is compared with, and its days.
    pub comparison: crate::domain::period::Comparison,
    pub previous_from: Option<String>,
    pub previous_to: Option<String>,
    /// The milestone of the period's year (see [`milestone`]).
    pub target: Option<Target>,
    /// Responses a unit needs to be ranked when its N was not entered.
    pub ranking_floor: u64,
    /// Valid answers an element needs to count in a unit's overall.
    #[serde(default)]
    pub element_minimum: u64,
    /// Ranked units by place, then those whose sample is not adequate.
    pub rows: Vec<RankingRow>,
    pub movement: Movement,
    /// As restated: the split units with responses in the period, and how their responses were
    /// placed (by shares, or not at all), which the ranking footnotes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub restated_splits: Vec<RestatedSplit>,
    /// The channel shares the weighted column splits each unit's N by, when the province set them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_shares: Option<crate::domain::weighting::ChannelShares>,
}

/// A closed unit split among several successors, as a restated report placed its responses.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RestatedSplit {
    pub code: String,
    pub name: String,
    /// Its successors by name, with their shares: `UBND xã A (60 %), UBND xã B (40 %)`.
    pub successors: String,
    /// Apportioned by the shares of the registry; false: no shares, so not restated (its
    /// responses count for no unit of today, only for its former parents).
    pub apportioned: bool,
}

impl RestatedSplit {
    /// The footnote a restated report gives it.
    pub fn note(&self) -> String {
        if self.apportioned {
            format!(
                "Phiếu và số hồ sơ của {} ({}) đã chia tách được phân bổ cho {} theo tỷ lệ trong danh mục đơn vị; số lẻ chỉ làm tròn khi hiển thị.",
                self.name, self.code, self.successors
            )
        } else {
            format!(
                "{} ({}) chia tách thành {} nhưng chưa có tỷ lệ phân bổ nên không quy đổi: phiếu của đơn vị này không tính cho đơn vị nào trong bảng, chỉ tính cho đơn vị cấp trên cũ. Hãy ghi tỷ lệ trong danh mục đơn vị (ví dụ 07003:0.6;07004:0.4).",
                self.name, self.code, self.successors
            )
        }
    }
}

impl Ranking {
    /// The ranked units with an index, from the lowest to the highest (as shown): the report's
    /// spread line, "from X % to Y %".
    pub fn spread(&self) -> Option<(&RankingRow, &RankingRow)> {
        let ranked = || self.rows.iter().filter(|r| r.rank.is_some() && r.index.is_some());
        let shown_index = |r: &&RankingRow| r.index.map(shown).unwrap_or_default();
        let lowest = ranked().min_by(|a, b| shown_index(a).total_cmp(&shown_index(b)))?;
        let highest = ranked().max_by(|a, b| shown_index(a).total_cmp(&shown_index(b)))?;
        Some((lowest, highest))
    }

    /// The ranked units at or above the milestone (as shown), and those below it, each in rank
    /// order; none without a milestone.
    pub fn against_target<'a>(&'a self) -> (Vec<&'a RankingRow>, Vec<&'a RankingRow>) {
        let Some(target) = self.target else { return (Vec::new(), Vec::new()) };
        let (at, below): (Vec<_>, Vec<_>) = self
            .rows
            .iter()
            .filter(|r| r.rank.is_some())
            .filter_map(|r| Some((r, shown(r.index?))))
            .partition(|(_, index)| *index >= target.percent);
        let units = |listed: Vec<(&'a RankingRow, f64)>| listed.into_iter().map(|(r, _)| r).collect();
        (units(at), units(below))
    }
}

/// One cell of a breakdown; suppressed cells carry no numbers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BreakdownRow {
    pub value: String,
    pub label: String,
    pub responses: Option<u64>,
    pub index: Option<f64>,
    pub suppressed: bool,
}

/// What a breakdown splits by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BreakdownBy {
    Channel,
    ServicePoint,
    /// A profile question of the questionnaire (`gender`, `age_band`, …).
    Profile(String),
}

impl BreakdownBy {
    /// `channel`, `service_point`, or a profile question code (checked by the service).
    pub fn parse(text: &str) -> Self {
        match text {
            "channel" => Self::Channel,
            "service_point" => Self::ServicePoint,
            question => Self::Profile(question.to_owned()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::Channel => "channel",
            Self::ServicePoint => "service_point",
            Self::Profile(question) => question,
        }
    }
}

/// Which cells of one breakdown to hide: every cell of 1 to k − 1 responses, and then the
/// smallest others until at least two are hidden and the hidden ones add up to k or more, so
/// that no hidden cell can be worked out from the total. Empty cells reveal no answer and show.
pub fn suppressed(cells: &[u64], k: u64) -> Vec<bool> {
    let mut hidden: Vec<bool> = cells.iter().map(|n| (1..k).contains(n)).collect();
    let hidden_sum = |hidden: &[bool]| cells.iter().zip(hidden).filter(|(_, h)| **h).map(|(n, _)| *n).sum::<u64>();
    let count = |hidden: &[bool]| hidden.iter().filter(|h| **h).count();
    while count(&hidden) > 0 && (count(&hidden) < 2 || hidden_sum(&hidden) < k) {
        let next = cells.iter().enumerate().filter(|(i, n)| !hidden[*i] && **n > 0).min_by_key(|(_, n)| **n);
        match next {
            Some((i, _)) => hidden[i] = true,
            None => break,
        }
    }
    hidden
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Agency, AgencyKind};

    fn entry(code: &str, parent: Option<&str>, successors: &[&str]) -> RegistryEntry {
        RegistryEntry {
            agency: Agency {
                code: code.into(),
                name: code.into(),
                kind: AgencyKind::Commune,
                parent: parent.map(Into::into),
                valid_from: None,
                valid_to: None,
            },
            successors: successors.iter().map(|s| s.to_string()).collect(),
            shares: vec![],
            serves: vec![],
        }
    }

    fn totals(responses: u64, satisfied: u64) -> Totals {
        let (responses, satisfied) = (responses as f64, satisfied as f64);
        let mut t = Totals { responses, ..Totals::default() };
        t.criteria.insert("A1".into(), [responses - satisfied, 0.0, 0.0, satisfied, 0.0]);
        t
    }

    #[test]
    fn subtrees_add_up_and_restating_moves_closed_units_to_their_heirs() {
        // P ─ X1 (closed → X3), X2 (closed → X1 → X3), X3
        let registry = [
            entry("P", None, &[]),
            entry("X1", Some("P"), &["X3"]),
            entry("X2", Some("P"), &["X1"]),
            entry("X3", Some("P"), &[]),
        ];
        let per_agency: HashMap<String, Totals> =
            [("X1".to_string(), totals(4, 2)), ("X2".into(), totals(2, 2)), ("X3".into(), totals(10, 9))].into();
        let as_were = Rollup::new(&registry, Basis::AsTheyWere).subtrees(&per_agency);
        assert_eq!(as_were["P"].responses, 16.0);
        assert_eq!(as_were["X1"].responses, 4.0);
        assert_eq!(as_were["X3"].responses, 10.0);
        let restated = Rollup::new(&registry, Basis::Restated).subtrees(&per_agency);
        assert_eq!(restated["P"].responses, 16.0, "the province total does not change");
        assert_eq!(restated["X3"].responses, 16.0);
        assert_eq!(restated["X3"].criteria["A1"], [3.0, 0.0, 0.0, 13.0, 0.0]);
        assert!(!restated.contains_key("X1") && !restated.contains_key("X2"));
    }

    #[test]
    fn a_60_40_split_is_restated_by_its_shares_and_one_without_shares_is_not() {
        // P ─ S (split 01/07: A takes 0.6, B 0.4), T (split into A and B, no shares), A, B
        let mut split = entry("S", Some("P"), &["A", "B"]);
        split.shares = vec![600, 400];
        let registry = [
            entry("P", None, &[]),
            split,
            entry("T", Some("P"), &["A", "B"]),
            entry("A", Some("P"), &[]),
            entry("B", Some("P"), &[]),
        ];
        // S: 5 of 10 satisfied; A: 18 of 20; B: 2 of 10; T: 4 of 4
        let per_agency: HashMap<String, Totals> = [
            ("S".to_string(), totals(10, 5)),
            ("A".into(), totals(20, 18)),
            ("B".into(), totals(10, 2)),
            ("T".into(), totals(4, 4)),
        ]
        .into();
        let rollup = Rollup::new(&registry, Basis::Restated);
        let restated = rollup.subtrees(&per_agency);
        // A: 20 + 0.6 × 10 = 26 responses, 18 + 0.6 × 5 = 21 satisfied: 80.77 %
        let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
        assert!(close(restated["A"].responses, 26.0));
        let a1 = restated["A"].criteria["A1"];
        assert!(close(a1[0], 5.0) && close(a1[3], 21.0), "{a1:?}");
        // B: 10 + 4 = 14 responses, 2 + 2 = 4 satisfied: 28.57 %
        let b1 = restated["B"].criteria["A1"];
        assert!(close(restated["B"].responses, 14.0) && close(b1[0], 10.0) && close(b1[3], 4.0), "{b1:?}");
        let index = |code: &str| {
            let t = &restated[code];
            let q = crate::domain::Questionnaire::bundled();
            crate::domain::SatisfactionIndex::compute(&q, code, t.responses, &t.criterion_counts()).elements[0].criteria
                [0]
            .index
            .unwrap()
        };
        assert!((index("A") - 2100.0 / 26.0).abs() < 1e-9 && (index("B") - 400.0 / 14.0).abs() < 1e-9);
        // T has no shares: its 4 responses stay its own, and P's total does not change.
        assert_eq!(restated["T"].responses, 4.0);
        assert!(close(restated["P"].responses, 44.0) && !restated.contains_key("S"));
        assert_eq!(rollup.unapportioned(), ["T".to_owned()]);
        // The breakdowns and the dashboard of A take 0.6 of S's rows, of P all of them.
        let inside = |codes: &[&str]| codes.iter().map(|c| c.to_string()).collect();
        assert!(close(rollup.share_in("S", &inside(&["A"])), 0.6));
        assert!(close(rollup.share_in("S", &inside(&["P", "S", "T", "A", "B"])), 1.0));
        assert_eq!(rollup.share_in("T", &inside(&["A", "B"])), 0.0);
        // as they were, nothing moves
        let as_were = Rollup::new(&registry, Basis::AsTheyWere);
        assert_eq!(as_were.placements("S"), vec![("S".to_owned(), 1.0)]);
    }

    #[test]
    fn targets_parse_and_each_year_has_its_milestone() {
        let targets = parse_targets("2030:95, 2025:90").unwrap();
        assert_eq!(targets, DEFAULT_TARGETS);
        assert_eq!(parse_targets(DEFAULT_TARGETS_TEXT).unwrap(), DEFAULT_TARGETS);
        assert_eq!(milestone(&targets, 2024), Some(Target { year: 2025, percent: 90.0 }), "before the first");
        assert_eq!(milestone(&targets, 2025), Some(Target { year: 2025, percent: 90.0 }));
        // 90 + (95 − 90) × 1/5 = 91; × 3/5 = 93
        assert_eq!(milestone(&targets, 2026), Some(Target { year: 2026, percent: 91.0 }));
        assert_eq!(milestone(&targets, 2028), Some(Target { year: 2028, percent: 93.0 }));
        assert_eq!(milestone(&targets, 2031), Some(Target { year: 2030, percent: 95.0 }), "after the last");
        // A yearly list is read as it is: 2027 has its own milestone.
        let yearly = parse_targets("2025:90,2026:91,2027:91.5,2030:95").unwrap();
        assert_eq!(milestone(&yearly, 2027).map(|t| t.percent), Some(91.5));
        // 91.5 + 3.5 × 1/3 = 92.6667
        assert!((milestone(&yearly, 2028).unwrap().percent - 92.666_666).abs() < 1e-4);
        assert_eq!(milestone(&[], 2026), None);
        assert!(parse_targets("2025:900").is_err());
        assert!(parse_targets("năm 2025").is_err());
        assert_eq!(parse_targets(""), Ok(vec![]));
    }

    #[test]
    fn movement_counts_units_that_rose_fell_and_kept_their_place() {
        let current = vec![
            ("a".into(), Some(90.0)),
            ("b".into(), Some(85.0)),
            ("c".into(), Some(85.0)),
            ("d".into(), Some(70.0)),
        ];
        let previous =
            vec![("a".into(), Some(80.0)), ("b".into(), Some(88.0)), ("c".into(), Some(85.0)), ("d".into(), None)];
        let (placings, movement) = placings(current, previous);
        // before: b 1, c 2, a 3; now: a 1, b 2, c 2, d 4
        let of = |code: &str| placings.iter().find(|p| p.code == code).unwrap().clone();
        assert_eq!((of("a").rank, of("a").previous_rank, of("a").rank_change()), (Some(1), Some(3), Some(2)));
        assert_eq!(of("b").rank_change(), Some(-1));
        assert_eq!(of("c").rank_change(), Some(0));
        assert_eq!(of("d").rank_change(), None, "no index before: no movement");
        assert_eq!(movement, Movement { score_rose: 1, score_fell: 1, rank_climbed: 1, rank_fell: 1, rank_kept: 1 });
    }

    #[test]
    fn units_shown_alike_share_a_place_and_an_unseen_change_is_no_change() {
        // 85.004 and 84.996 are both shown 85,00 %: one place, not 1st and 2nd. 84.994 is shown
        // 84,99 %: third. c moved by 1e-13: shown alike, it kept its score.
        let current = vec![
            ("a".into(), Some(85.004)),
            ("b".into(), Some(84.996)),
            ("c".into(), Some(84.994 + 1e-13)),
            ("d".into(), Some(80.0)),
        ];
        let previous =
            vec![("a".into(), Some(85.0)), ("b".into(), Some(84.991)), ("c".into(), Some(84.994)), ("d".into(), None)];
        let (placings, movement) = placings(current, previous);
        let of = |code: &str| placings.iter().find(|p| p.code == code).unwrap().clone();
        assert_eq!([of("a").rank, of("b").rank, of("c").rank, of("d").rank], [Some(1), Some(1), Some(3), Some(4)]);
        // before: a 85,00 (1st), b 84,99 and c 84,99 (2nd together)
        assert_eq!([of("a").previous_rank, of("b").previous_rank, of("c").previous_rank], [Some(1), Some(2), Some(2)]);
        assert_eq!(of("a").index_change(), Some(0.0), "85,00 → 85,00");
        assert!((of("b").index_change().unwrap() - 0.01).abs() < 1e-9, "84,99 → 85,00");
        assert_eq!(of("c").index_change(), Some(0.0));
        assert_eq!(of("a").index, Some(85.004), "the index itself keeps its precision");
        assert_eq!(movement, Movement { score_rose: 1, score_fell: 0, rank_climbed: 1, rank_fell: 1, rank_kept: 1 });
    }

    #[test]
    fn units_whose_intervals_overlap_are_grouped() {
        // a [80, 90] opens group 1; b [78, 88] and c [70, 80.5] reach 80; d [60, 79] lies below:
        // group 2 (though it overlaps c), which e [75, 85] joins; f has no interval.
        let groups = overlap_groups(&[
            Some([80.0, 90.0]),
            Some([78.0, 88.0]),
            Some([70.0, 80.5]),
            Some([60.0, 79.0]),
            Some([75.0, 85.0]),
            None,
        ]);
        assert_eq!(groups, [Some(1), Some(1), Some(1), Some(2), Some(2), None]);
        assert_eq!(overlap_groups(&[]), Vec::<Option<usize>>::new());
    }

    #[test]
    fn the_spread_and_the_lists_against_the_milestone_read_the_ranked_units_as_shown() {
        let row = |code: &str, index: Option<f64>, rank: Option<usize>| RankingRow {
            code: code.into(),
            name: code.into(),
            responses: 40,
            index,
            ci95: None,
            rank,
            previous_rank: None,
            previous_index: None,
            gap_to_target: None,
            overlap_group: None,
            dossiers: None,
            minimum_sample: None,
            response_rate: None,
            adequacy: Adequacy::UnknownN,
            left_out: Vec::new(),
            weighted: None,
            elements: Vec::new(),
        };
        let ranking = Ranking {
            kind: AgencyKind::Commune,
            from: String::new(),
            to: String::new(),
            comparison: Default::default(),
            previous_from: None,
            previous_to: None,
            target: Some(Target { year: 2026, percent: 91.0 }),
            ranking_floor: 30,
            element_minimum: 10,
            // 90.996 shows as 91,00 %: it meets 91 %. The unranked unit at 99 % counts nowhere.
            rows: vec![
                row("a", Some(95.0), Some(1)),
                row("b", Some(90.996), Some(2)),
                row("c", Some(80.0), Some(3)),
                row("d", None, Some(4)),
                row("e", Some(99.0), None),
            ],
            movement: Movement::default(),
            restated_splits: Vec::new(),
            channel_shares: None,
        };
        let (lowest, highest) = ranking.spread().unwrap();
        assert_eq!((lowest.code.as_str(), highest.code.as_str()), ("c", "a"));
        let (at, below) = ranking.against_target();
        let codes = |rows: Vec<&RankingRow>| rows.iter().map(|r| r.code.clone()).collect::<Vec<_>>();
        assert_eq!((codes(at), codes(below)), (vec!["a".to_owned(), "b".into()], vec!["c".to_owned()]));
        let untargeted = Ranking { target: None, ..ranking.clone() };
        assert_eq!(untargeted.against_target(), (vec![], vec![]));
    }

    #[test]
    fn expectations_rank_by_the_share_wanting_each_area() {
        let mut t = Totals::default();
        // X1: 3 of 4 want it (75 %); X2: 1 of 2 (50 %); X3: 3 of 4 (75 %); X4: nobody rated it.
        t.expectations.insert("X1".into(), [1.0, 0.0, 2.0, 1.0]);
        t.expectations.insert("X2".into(), [0.0, 1.0, 0.0, 1.0]);
        t.expectations.insert("X3".into(), [0.0, 1.0, 1.0, 2.0]);
        let areas: Vec<String> = ["X1", "X2", "X3", "X4"].map(String::from).to_vec();
        let ranking = expectation_ranking(&t, &areas);
        let rows: Vec<(&str, Option<usize>, Option<f64>)> =
            ranking.iter().map(|r| (r.code.as_str(), r.rank, r.share)).collect();
        assert_eq!(
            rows,
            [("X1", Some(1), Some(75.0)), ("X3", Some(1), Some(75.0)), ("X2", Some(3), Some(50.0)), ("X4", None, None)]
        );
    }

    #[test]
    fn a_small_cell_and_its_complement_are_hidden() {
        // 4 is under k = 5: hidden, and the next smallest (12) too, so 4 cannot be taken from the total.
        assert_eq!(suppressed(&[30, 4, 12, 20], 5), [false, true, true, false]);
        // nothing small: nothing hidden
        assert_eq!(suppressed(&[5, 6, 0], 5), [false, false, false]);
        // two small cells adding to under k: a third one goes too
        assert_eq!(suppressed(&[1, 2, 40, 9], 5), [true, true, false, true]);
        // two small cells that add up to k: enough
        assert_eq!(suppressed(&[3, 2, 40], 5), [true, true, false]);
        // a lone non-empty small cell hides with nothing else to hide: the whole breakdown is that cell
        assert_eq!(suppressed(&[0, 3, 0], 5), [false, true, false]);
    }

    #[test]
    fn a_unit_is_ranked_on_its_minimum_sample_or_the_floor_when_n_is_unknown() {
        // N = 100: minimum 100 / 1.25 = 80
        assert_eq!(Adequacy::of(80, Some(100), 30), Adequacy::Adequate);
        assert_eq!(Adequacy::of(79, Some(100), 30), Adequacy::BelowMinimum);
        // N entered as 0: no dossiers, no minimum; never below it
        assert_eq!(Adequacy::of(0, Some(0), 30), Adequacy::Adequate);
        // N unknown: the floor decides, and the state says N is unknown
        assert_eq!(Adequacy::of(30, None, 30), Adequacy::UnknownN);
        assert_eq!(Adequacy::of(29, None, 30), Adequacy::BelowFloor);
        assert!(Adequacy::UnknownN.ranked() && !Adequacy::BelowFloor.ranked() && !Adequacy::BelowMinimum.ranked());
    }
}
