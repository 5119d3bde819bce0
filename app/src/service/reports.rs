//! Reports: indices, rankings, expectations, trends and breakdowns, all added up from the
//! report aggregates (never from the responses), over closed Vietnam days only.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::sync::Arc;

use chrono::NaiveDate;

use super::{AppState, ServiceError};
use crate::domain::anomaly::Sensitivity;
use crate::domain::disclosure::{StepBook, SERVICE_POINT};
use crate::domain::period::{last_final_day, ClosedDays, Comparison, Spans};
use crate::domain::report::{
    self, Adequacy, Basis, BreakdownBy, BreakdownRow, ExpectationShare, Ranking, RankingRow, Rollup,
};
use crate::domain::submission::Channel;
use crate::domain::tally::{Grain, Tally, Totals, EVERYONE};
use crate::domain::weighting::{self, Stratum, Weighted};
use crate::domain::{AgencyKind, Population, SatisfactionIndex};
use crate::storage::{TallyQuery, TallyRow};

/// Which responses a report counts besides its days.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scope {
    pub channel: Option<Channel>,
    pub basis: Basis,
}

/// An agency subtree's totals over some days: all, per channel, and over time (oldest first,
/// labelled `03/2026` and `Quý 1/2026`).
#[derive(Debug, Default)]
pub struct Overview {
    pub totals: Totals,
    pub channels: HashMap<Channel, Totals>,
    pub months: Vec<(String, Totals)>,
    pub quarters: Vec<(String, Totals)>,
}

/// A subtree's indices with their post-stratified overall (see [`AppState::indices_report`]).
#[derive(Debug, serde::Serialize)]
pub struct IndicesReport {
    #[serde(flatten)]
    pub index: SatisfactionIndex,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weighted: Option<Weighted>,
}

/// The interval of an overall index: per respondent (see [`crate::domain::precision`]); where
/// the aggregates predate the respondent statistics, Wilson's at the mean number of answers
/// ([`crate::domain::index::mean_interval`]) until `hailong aggregates rebuild`.
pub fn index_interval(index: &SatisfactionIndex) -> Option<[f64; 2]> {
    index
        .ci95
        .or_else(|| crate::domain::index::mean_interval(index.overall, index.elements.iter().flat_map(|e| &e.criteria)))
}

impl AppState {
    /// Adds up the stored tallies of `facet` over `days` as they are, grouped by `group` (rows it
    /// maps to `None` are left out; see [`Self::add_up`]). Only for today's count of responses:
    /// figures of final days come from [`Self::fold_published`].
    async fn fold<K: std::hash::Hash + Eq>(
        &self,
        days: &ClosedDays,
        facet: &str,
        group: impl Fn(&TallyRow) -> Option<(K, f64)>,
    ) -> Result<HashMap<K, Totals>, ServiceError> {
        let Spans { months, days } = days.spans();
        let ranges = months.iter().map(|m| (Grain::Month, m)).chain(days.iter().map(|d| (Grain::Day, d)));
        let mut rows = Vec::new();
        for (grain, (first, last)) in ranges {
            rows.extend(self.db.tally_rows(&TallyQuery { grain, facet, first, last }, &self.layouts).await?);
        }
        Ok(self.add_up(rows.iter().filter_map(|row| Some((row, group(row)?)))))
    }

    /// Adds up the stored tallies of `facet` published over `days`, grouped by `group` (given
    /// each row and the day its step closed on; rows it maps to `None` are left out; see
    /// [`Self::add_up`]): whole disclosure steps, those of the atoms (`dimension` none) or a
    /// breakdown's wider steps (see [`crate::domain::disclosure`]). A stored month is read whole
    /// when every day of it publishes inside `days` (and, for figures labelled by the month they
    /// were published in, `Whole::InOneMonth`, in one month); the others day by day.
    async fn fold_published<K: std::hash::Hash + Eq>(
        &self,
        days: &ClosedDays,
        dimension: Option<&str>,
        facet: &str,
        whole_when: Whole,
        group: impl Fn(&TallyRow, NaiveDate) -> Option<(K, f64)>,
    ) -> Result<HashMap<K, Totals>, ServiceError> {
        let book = self.step_book().await?;
        let Some(earliest) = book.earliest(days.from, days.to, dimension) else { return Ok(HashMap::new()) };
        let published = |row: &TallyRow, day: NaiveDate| {
            book.published(&(row.agency.clone(), row.channel), day, dimension)
                .filter(|close| days.from <= *close && *close <= days.to)
        };
        let month = |d: NaiveDate| d.format("%Y-%m").to_string();
        let months = self.final_tallies(Grain::Month, facet, earliest, days.to).await?;
        let mut rows: Vec<(&TallyRow, NaiveDate)> = Vec::new();
        // (agency, channel, first day) of the months read as months, and the months to read by day
        let mut whole = std::collections::HashSet::new();
        let mut by_day = std::collections::BTreeSet::new();
        for row in months.iter().flat_map(|rows| rows.iter()) {
            let (first, last) = month_days(&row.span)?;
            // Steps run over consecutive days: when the first and the last day publish inside
            // the period, every day between does.
            match (published(row, first), published(row, last)) {
                (Some(start), Some(end)) if whole_when == Whole::InPeriod || month(start) == month(end) => {
                    whole.insert((row.agency.clone(), row.channel, first));
                    rows.push((row, end));
                }
                _ => {
                    by_day.insert(first);
                }
            }
        }
        let mut days_read = Vec::new();
        for (first, last) in runs_of_months(&by_day) {
            days_read.extend(self.final_tallies(Grain::Day, facet, first.max(earliest), last.min(days.to)).await?);
        }
        for row in days_read.iter().flat_map(|rows| rows.iter()) {
            let day = crate::domain::period::parse_day(&row.span)
                .map_err(|_| crate::storage::StorageError::Corrupt(format!("tally day {}", row.span)))?;
            let month_first = crate::domain::period::first_of_month(day);
            if whole.contains(&(row.agency.clone(), row.channel, month_first)) {
                continue;
            }
            if let Some(close) = published(row, day) {
                rows.push((row, close));
            }
        }
        Ok(self.add_up(rows.iter().filter_map(|(row, close)| Some((*row, group(row, *close)?)))))
    }

    /// The stored tallies of `facet` at `grain` over the spans holding `first..=last`, a span at
    /// a time in order: those of final spans from memory when read before (see
    /// [`super::tally_cache`]), the others from the database in one query.
    async fn final_tallies(
        &self,
        grain: Grain,
        facet: &str,
        first: NaiveDate,
        last: NaiveDate,
    ) -> Result<Vec<Arc<Vec<TallyRow>>>, ServiceError> {
        let last_final = last_final_day(super::registry::today());
        let spans = spans_of(grain, first, last);
        let is_final = |end: NaiveDate| last_final.is_some_and(|f| end <= f);
        let (mut found, generation): (Vec<Option<Arc<Vec<TallyRow>>>>, u64) = {
            let mut cache = self.tallies.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let found = spans
                .iter()
                .map(|(span, end)| if is_final(*end) { cache.get(grain, facet, span) } else { None })
                .collect();
            (found, cache.generation())
        };
        let missing: Vec<usize> = (0..spans.len()).filter(|i| found[*i].is_none()).collect();
        if let (Some(&from), Some(&to)) = (missing.first(), missing.last()) {
            let query = TallyQuery { grain, facet, first: &spans[from].0, last: &spans[to].0 };
            let mut read: HashMap<String, Vec<TallyRow>> = HashMap::new();
            for row in self.db.tally_rows(&query, &self.layouts).await? {
                read.entry(row.span.clone()).or_default().push(row);
            }
            let mut cache = self.tallies.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            for i in missing {
                let (span, end) = &spans[i];
                let rows = Arc::new(read.remove(span).unwrap_or_default());
                if is_final(*end) {
                    cache.keep(generation, grain, facet, span, Arc::clone(&rows));
                }
                found[i] = Some(rows);
            }
        }
        Ok(found.into_iter().flatten().collect())
    }

    /// Sums tallies per key, each row taking the share it counts with there (1: all of it; a
    /// split unit's share where a report restates it): those of one version and share add as
    /// lists of counts, which become totals by code once per key.
    fn add_up<'r, K: std::hash::Hash + Eq>(
        &self,
        rows: impl Iterator<Item = (&'r TallyRow, (K, f64))>,
    ) -> HashMap<K, Totals> {
        let mut sums: HashMap<(K, &str, u64), Tally> = HashMap::new();
        for (row, (key, share)) in rows {
            match sums.entry((key, row.version.as_str(), share.to_bits())) {
                Entry::Occupied(mut sum) => sum.get_mut().add(&row.counts),
                Entry::Vacant(place) => {
                    place.insert(row.counts.clone());
                }
            }
        }
        let mut totals: HashMap<K, Totals> = HashMap::new();
        for ((key, version, share), tally) in sums {
            totals.entry(key).or_default().add_tally_share(&self.layouts[version], &tally, f64::from_bits(share));
        }
        totals
    }

    /// The disclosure steps over every final day, fed the days that became final since the last
    /// call (once a day: final days never change).
    async fn step_book(&self) -> Result<Arc<StepBook>, ServiceError> {
        let Some(last_final) = last_final_day(super::registry::today()) else { return Ok(Arc::default()) };
        let mut book = self.steps.lock().await;
        if book.through.is_none_or(|through| through < last_final) {
            let after = book.through.map(|d| d.format("%Y-%m-%d").to_string());
            let days = self.db.day_counts(after.as_deref(), &last_final.format("%Y-%m-%d").to_string()).await?;
            let mut dimensions: Vec<String> = self.questionnaire.profile.iter().map(|q| q.code.clone()).collect();
            dimensions.push(SERVICE_POINT.to_owned());
            Arc::make_mut(&mut book).extend(last_final, days, &dimensions, self.settings.min_cell);
        }
        Ok(Arc::clone(&book))
    }

    /// Works out the disclosure steps in the background, so that the first report after a
    /// start does not wait for them (with millions of responses, seconds).
    pub fn prepare_reports(&self) {
        let state = self.clone();
        tokio::spawn(async move {
            if let Ok(old @ 1..) = state.tallies_without_respondents().await {
                tracing::warn!(
                    tallies = old,
                    "report aggregates stored before the per-respondent sums: their intervals fall back to Wilson at the mean number of answers; run `hailong aggregates rebuild`"
                );
            }
            let started = std::time::Instant::now();
            match state.step_book().await {
                Ok(book) => tracing::info!(
                    atoms = book.atoms.len(),
                    seconds = started.elapsed().as_secs_f64(),
                    "disclosure steps ready"
                ),
                Err(e) => {
                    tracing::warn!(error = %e, "disclosure steps not worked out; the first report will try again")
                }
            }
        });
    }

    /// How many month tallies hold responses that their respondent statistics do not cover
    /// (stored before those existed): periods touching them get intervals of Wilson at the mean
    /// number of answers instead of per respondent, until `hailong aggregates rebuild`.
    pub async fn tallies_without_respondents(&self) -> Result<u64, ServiceError> {
        let query = TallyQuery { grain: Grain::Month, facet: EVERYONE, first: "0000-01", last: "9999-12" };
        let rows = self.db.tally_rows(&query, &self.layouts).await?;
        let short = |row: &&TallyRow| row.counts.covers(&self.layouts[&row.version]) < row.counts.responses();
        Ok(rows.iter().filter(short).count() as u64)
    }

    /// Drops the disclosure steps, to be worked out again from the stored tallies: after
    /// responses were stored or counted again into days that may be final (bulk loads, a
    /// rebuild of the aggregates), never in the course of answers coming in.
    pub(crate) async fn forget_steps(&self) {
        *self.steps.lock().await = Arc::default();
        self.tallies.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clear();
    }

    /// The totals of every agency's subtree over `days`.
    pub async fn subtree_totals(
        &self,
        days: &ClosedDays,
        scope: &Scope,
    ) -> Result<HashMap<String, Totals>, ServiceError> {
        let per_agency = self.per_agency(days, scope).await?;
        Ok(self.rollup(scope.basis).await?.subtrees(&per_agency))
    }

    /// The published totals of each agency alone (not its subtree) over `days`.
    async fn per_agency(&self, days: &ClosedDays, scope: &Scope) -> Result<HashMap<String, Totals>, ServiceError> {
        Ok(by_agency(&self.per_agency_channel(days, scope).await?))
    }

    /// The published totals of each agency alone over `days`, per channel.
    async fn per_agency_channel(&self, days: &ClosedDays, scope: &Scope) -> Result<PerChannel, ServiceError> {
        let group = |row: &TallyRow, _| in_scope(row, scope).then(|| ((row.agency.clone(), row.channel), 1.0));
        self.fold_published(days, None, EVERYONE, Whole::InPeriod, group).await
    }

    async fn rollup(&self, basis: Basis) -> Result<Rollup, ServiceError> {
        Ok(Rollup::new(&self.db.registry().await?, basis))
    }

    /// The indices of `agency`'s subtree from its totals, as they may be published: an overall of
    /// the elements that hold (`Settings::element_minimum`), none for fewer than k responses
    /// (`Settings::min_cell`). Every page, export, API and command that shows an index gets it
    /// from here.
    pub fn index_of(&self, agency: &str, totals: Option<&Totals>) -> SatisfactionIndex {
        let empty = Totals::default();
        let totals = totals.unwrap_or(&empty);
        SatisfactionIndex::compute(&self.questionnaire, agency, totals.responses, &totals.criterion_counts())
            .holding(self.settings.element_minimum)
            .with_intervals(&totals.respondents, totals.responses)
            .published(self.settings.min_cell)
    }

    /// The indices of `agency`'s subtree over the closed days of `population`'s period.
    pub async fn indices(&self, agency: &str, population: &Population) -> Result<SatisfactionIndex, ServiceError> {
        let days = population.period.closed_days(super::registry::today());
        let scope = Scope { channel: population.channel, basis: Basis::AsTheyWere };
        self.report_index(agency, days.as_ref(), &scope).await
    }

    /// The indices as `GET /api/v1/indices` and `hailong index --json` give them: the pooled
    /// indices and, when responses were published, the same weighted by completed dossiers.
    pub async fn indices_report(&self, agency: &str, population: &Population) -> Result<IndicesReport, ServiceError> {
        let index = self.indices(agency, population).await?;
        let days = population.period.closed_days(super::registry::today()).filter(|_| index.responses > 0);
        let weighted = match days {
            Some(days) => {
                let scope = Scope { channel: population.channel, basis: Basis::AsTheyWere };
                Some(self.weighted(agency, &days, &scope).await?)
            }
            None => None,
        };
        Ok(IndicesReport { index, weighted })
    }

    /// The satisfaction indices of `agency` and its subtree over `days` (none: no day closed yet).
    pub async fn report_index(
        &self,
        agency: &str,
        days: Option<&ClosedDays>,
        scope: &Scope,
    ) -> Result<SatisfactionIndex, ServiceError> {
        if self.db.agency(agency).await?.is_none() {
            return Err(ServiceError::UnknownAgency(agency.to_owned()));
        }
        let Some(days) = days else { return Ok(self.index_of(agency, None)) };
        let totals = self.subtree_totals(days, scope).await?;
        Ok(self.index_of(agency, totals.get(agency)))
    }

    /// The overall of `agency`'s subtree over `days` without the responses of kiosk-hours the
    /// limits flagged (see [`Sensitivity`]): the same published responses, less those sent from
    /// a kiosk in an hour it was flagged in. For readers of the whole province only, like the
    /// flags themselves.
    pub async fn sensitivity(
        &self,
        agency: &str,
        days: &ClosedDays,
        scope: &Scope,
    ) -> Result<Sensitivity, ServiceError> {
        use crate::domain::period::start_of_day;
        let book = self.step_book().await?;
        let Some(earliest) = book.earliest(days.from, days.to, None) else { return Ok(Sensitivity::default()) };
        let hours = (start_of_day(earliest), start_of_day(days.to) + chrono::Duration::days(1));
        let flagged = self.db.flagged_kiosk_responses(hours, &self.layouts).await?;
        let rollup = self.rollup(scope.basis).await?;
        let subtree = self.subtree_of(agency).await?;
        let mut left_out = Totals::default();
        for stored in &flagged.responses {
            let response = &stored.response;
            let counted = published_in(&book, stored, days) && scope.channel.is_none_or(|c| c == stored.channel);
            let share = if counted { rollup.share_in(&response.agency, &subtree) } else { 0.0 };
            let Some(layout) = self.layouts.get(&response.questionnaire_version) else { continue };
            if share > 0.0 {
                left_out.add_tally_share(layout, &Tally::of_response(layout, response), share);
            }
        }
        let mut sensitivity = Sensitivity {
            kiosk_hours: flagged.kiosk_hours,
            left_out: left_out.whole_responses(),
            ..Sensitivity::default()
        };
        if Sensitivity::may_show(sensitivity.left_out, self.settings.min_cell) {
            let all = self.subtree_totals(days, scope).await?.remove(agency).unwrap_or_default();
            let rest = self.index_of(agency, Some(&all.minus(&left_out)));
            (sensitivity.overall, sensitivity.ci95) =
                (rest.overall, index_interval(&rest).filter(|_| rest.overall.is_some()));
        }
        Ok(sensitivity)
    }

    /// How many responses `agency`'s subtree got today so far: the only figure of a day that has
    /// not ended (per-level counts would let two looks an hour apart reveal one answer).
    pub async fn responses_today(&self, agency: &str) -> Result<u64, ServiceError> {
        let today = super::registry::today();
        let days = ClosedDays { from: today, to: today };
        let scope = Scope::default();
        let per_agency = self.fold(&days, EVERYONE, |row| Some((row.agency.clone(), 1.0))).await?;
        let sums = self.rollup(scope.basis).await?.subtrees(&per_agency);
        Ok(sums.get(agency).map_or(0, Totals::whole_responses))
    }

    /// Units of `kind` inside `reach` ranked by overall index over `days`, with their movement
    /// since the period `compare` names, the gap to the year's milestone and the sample check.
    pub async fn ranking(
        &self,
        kind: AgencyKind,
        days: &ClosedDays,
        compare: Comparison,
        scope: &Scope,
        reach: impl Fn(&str) -> bool,
    ) -> Result<Ranking, ServiceError> {
        let registry = self.db.registry().await?;
        let agencies: Vec<crate::domain::Agency> = registry.iter().map(|e| e.agency.clone()).collect();
        let units: Vec<_> = registry
            .iter()
            .map(|e| &e.agency)
            .filter(|a| a.kind == kind && reach(&a.code))
            .filter(|a| match scope.basis {
                // restated: today's units only; as they were: units open at some time in the period
                Basis::Restated => !a.is_closed(),
                Basis::AsTheyWere => {
                    a.valid_from.is_none_or(|f| f <= days.to) && a.valid_to.is_none_or(|t| t > days.from)
                }
            })
            .collect();
        let rollup = self.rollup(scope.basis).await?;
        let per_channel_now = self.per_agency_channel(days, scope).await?;
        let per_agency_now = by_agency(&per_channel_now);
        let now = rollup.subtrees(&per_agency_now);
        let entered_now = self.entered_per_agency(days).await?;
        let dossiers = Self::dossiers_per_subtree(&entered_now, &per_agency_now, &rollup);
        let previous_days = compare.of(days);
        let (before, dossiers_before) = match &previous_days {
            Some(previous) => {
                let per_agency = self.per_agency(previous, scope).await?;
                let entered = self.entered_per_agency(previous).await?;
                (rollup.subtrees(&per_agency), Self::dossiers_per_subtree(&entered, &per_agency, &rollup))
            }
            None => (HashMap::new(), HashMap::new()),
        };
        let index = |sums: &HashMap<String, Totals>, code: &str| self.index_of(code, sums.get(code));
        // Only units whose sample is adequate and whose overall has every element take a place,
        // now and in the period compared with.
        let adequacy = |sums: &HashMap<String, Totals>, entered: &HashMap<String, Option<u64>>, code: &str| {
            let responses = sums.get(code).map_or(0, Totals::whole_responses);
            Adequacy::of(responses, entered.get(code).copied().flatten(), self.settings.ranking_floor)
        };
        let placed =
            |sums: &HashMap<String, Totals>, entered: &HashMap<String, Option<u64>>| -> Vec<(String, Option<f64>)> {
                units
                    .iter()
                    .map(|a| {
                        let this = index(sums, &a.code);
                        let ranked = adequacy(sums, entered, &a.code).ranked() && this.left_out.is_empty();
                        (a.code.clone(), this.overall.filter(|_| ranked))
                    })
                    .collect()
            };
        let (placings, movement) = report::placings(placed(&now, &dossiers), placed(&before, &dossiers_before));
        let target = report::milestone(&self.settings.targets, chrono::Datelike::year(&days.to));
        let intervals: Vec<Option<[f64; 2]>> =
            placings.iter().filter(|p| p.rank.is_some()).map(|p| index_interval(&index(&now, &p.code))).collect();
        let mut groups = report::overlap_groups(&intervals).into_iter();
        let rows = placings
            .into_iter()
            .map(|p| {
                let agency = units.iter().find(|a| a.code == p.code).expect("ranked from these units");
                let this = index(&now, &p.code);
                let completed = dossiers.get(&p.code).copied().flatten();
                let subtree = crate::domain::agency::subtree_codes(&agencies, &p.code);
                let weighted = self.weigh(&subtree, &per_channel_now, &entered_now, &rollup);
                RankingRow {
                    name: agency.name.clone(),
                    responses: this.responses,
                    ci95: index_interval(&this),
                    index: this.overall,
                    rank: p.rank,
                    previous_rank: p.previous_rank,
                    previous_index: p.previous_index,
                    gap_to_target: this.overall.zip(target).map(|(i, t)| report::shown(i) - t.percent),
                    overlap_group: if p.rank.is_some() { groups.next().flatten() } else { None },
                    dossiers: completed,
                    minimum_sample: completed.map(crate::domain::index::minimum_sample),
                    response_rate: completed.filter(|n| *n > 0).map(|n| this.responses as f64 / n as f64 * 100.0),
                    adequacy: adequacy(&now, &dossiers, &p.code),
                    left_out: this.left_out.clone(),
                    weighted: weighted.overall,
                    elements: this.elements.iter().map(|e| e.index).collect(),
                    code: p.code,
                }
            })
            .collect();
        let name = |code: &str| {
            registry.iter().find(|e| e.agency.code == code).map_or_else(|| code.to_owned(), |e| e.agency.name.clone())
        };
        let restated_splits = match scope.basis {
            Basis::AsTheyWere => Vec::new(),
            Basis::Restated => registry
                .iter()
                .filter(|e| e.successors.len() > 1)
                .filter(|e| reach(&e.agency.code) || e.successors.iter().any(|s| reach(s)))
                .filter(|e| per_agency_now.get(&e.agency.code).is_some_and(|t| t.responses > 0.0))
                .map(|e| report::RestatedSplit {
                    code: e.agency.code.clone(),
                    name: e.agency.name.clone(),
                    successors: crate::domain::registry::successors_shown(e, name),
                    apportioned: !rollup.unapportioned().contains(&e.agency.code),
                })
                .collect(),
        };
        Ok(Ranking {
            restated_splits,
            channel_shares: self.settings.channel_shares,
            kind,
            from: days.from.to_string(),
            to: days.to.to_string(),
            comparison: compare,
            previous_from: previous_days.map(|p| p.from.to_string()),
            previous_to: previous_days.map(|p| p.to.to_string()),
            target,
            ranking_floor: self.settings.ranking_floor,
            element_minimum: self.settings.element_minimum,
            rows,
            movement,
        })
    }

    /// Completed dossiers (N) over `days` per agency subtree, as the province entered them (a
    /// month partly inside the period counts in proportion to its days). N is known for a
    /// subtree when a count was entered for some agency of it and for every agency of it with
    /// responses in `per_agency`; otherwise it is unknown (`None`), never guessed: survey links
    /// go to only some completed dossiers and would understate it.
    fn dossiers_per_subtree(
        entered: &HashMap<String, f64>,
        per_agency: &HashMap<String, Totals>,
        rollup: &Rollup,
    ) -> HashMap<String, Option<u64>> {
        let as_totals = |n: f64| Totals { responses: n, ..Totals::default() };
        let counted = entered.iter().map(|(code, n)| (code.clone(), as_totals(*n))).collect();
        let missing = per_agency
            .iter()
            .filter(|(code, totals)| totals.responses > 0.0 && !entered.contains_key(*code))
            .map(|(code, _)| (code.clone(), as_totals(1.0)))
            .collect();
        let gaps = rollup.subtrees(&missing);
        rollup
            .subtrees(&counted)
            .into_iter()
            .map(|(code, n)| {
                let known = gaps.get(&code).is_none_or(|g| g.responses <= 0.0);
                (code, known.then_some(n.whole_responses()))
            })
            .collect()
    }

    /// The completed dossiers entered per agency over `days` (a month partly inside the period
    /// counts in proportion to its days); agencies with nothing entered are absent.
    async fn entered_per_agency(&self, days: &ClosedDays) -> Result<HashMap<String, f64>, ServiceError> {
        let (first, last) = crate::domain::dossiers::months_of(days);
        let mut entered: HashMap<String, f64> = HashMap::new();
        for count in self.db.dossier_counts(first, last).await? {
            *entered.entry(count.agency).or_default() +=
                crate::domain::dossiers::share_in(count.month, count.completed, days);
        }
        Ok(entered)
    }

    /// `agency`'s subtree over `days` post-stratified: each unit, as the basis places it,
    /// weighted by its completed dossiers (see [`crate::domain::weighting`]). A unit's N is
    /// unknown when any agency placed in it has responses and no N entered.
    pub async fn weighted(&self, agency: &str, days: &ClosedDays, scope: &Scope) -> Result<Weighted, ServiceError> {
        let rollup = self.rollup(scope.basis).await?;
        let subtree = self.subtree_of(agency).await?;
        let per_channel = self.per_agency_channel(days, scope).await?;
        let entered = self.entered_per_agency(days).await?;
        Ok(self.weigh(&subtree, &per_channel, &entered, &rollup))
    }

    /// The post-stratified index of the agencies in `subtree` (see [`Self::weighted`]): each
    /// unit one stratum, its channels weighed by the province's shares when it set them.
    fn weigh(
        &self,
        subtree: &std::collections::HashSet<String>,
        per_channel: &PerChannel,
        entered: &HashMap<String, f64>,
        rollup: &Rollup,
    ) -> Weighted {
        let shares = self.settings.channel_shares;
        // the part of a unit's totals a channel's responses go to: all in one without shares
        let part = |channel: Channel| match (shares, channel) {
            (Some(_), Channel::Link) => 1,
            _ => 0,
        };
        // placed unit → (totals per part, N so far, an agency with responses lacks N)
        let mut units: HashMap<String, ([Totals; 2], f64, bool)> = HashMap::new();
        for ((code, channel), totals) in per_channel {
            for (heir, share) in rollup.placements(code).into_iter().filter(|(heir, _)| subtree.contains(heir)) {
                let unit = units.entry(heir).or_default();
                unit.0[part(*channel)].add_share(totals, share);
                unit.2 |= totals.responses > 0.0 && !entered.contains_key(code);
            }
        }
        for (code, n) in entered {
            for (heir, share) in rollup.placements(code).into_iter().filter(|(heir, _)| subtree.contains(heir)) {
                units.entry(heir).or_default().1 += share * n;
            }
        }
        let strata: Vec<Stratum> = units
            .values()
            .map(|([first, second], n, missing)| {
                let parts = match shares {
                    Some(shares) => vec![(first, shares.kiosk), (second, shares.link)],
                    None => vec![(first, 1.0)],
                };
                Stratum { parts, dossiers: (!missing).then_some(*n) }
            })
            .collect();
        let weighted = weighting::post_stratified(&self.questionnaire, &strata, self.settings.element_minimum);
        Weighted { channel_shares: shares, ..weighted }
    }

    /// The completed dossiers entered for the last `months` months (this one included), newest
    /// month first.
    pub async fn entered_dossiers(
        &self,
        months: u32,
    ) -> Result<Vec<crate::domain::dossiers::DossierCount>, ServiceError> {
        use chrono::Datelike;
        let today = super::registry::today();
        let this_month = today.with_day(1).unwrap_or(today);
        let first = this_month.checked_sub_months(chrono::Months::new(months.saturating_sub(1))).unwrap_or(this_month);
        Ok(self.db.dossier_counts(first, this_month).await?)
    }

    /// Stores the completed dossiers a province enters as `agency,month,completed` lines; every
    /// line must be valid and name a known agency, or nothing is stored. Returns how many.
    pub async fn enter_dossier_counts(
        &self,
        actor: &crate::domain::audit::Actor,
        csv: &str,
    ) -> Result<usize, ServiceError> {
        let counts = crate::domain::dossiers::parse_csv(csv).map_err(ServiceError::BadDossierCounts)?;
        let known: std::collections::HashSet<String> = self.db.agencies().await?.into_iter().map(|a| a.code).collect();
        let unknown: Vec<String> = counts
            .iter()
            .filter(|c| !known.contains(&c.agency))
            .map(|c| format!("Không có đơn vị mã {}.", c.agency))
            .collect();
        if !unknown.is_empty() {
            return Err(ServiceError::BadDossierCounts(unknown));
        }
        self.db.save_dossier_counts(&counts, actor).await?;
        Ok(counts.len())
    }

    /// Dossiers completed in `agency`'s subtree over `days` (N), when entered for it (see
    /// [`Self::dossiers_per_subtree`]).
    pub async fn dossiers_in(
        &self,
        agency: &str,
        days: &ClosedDays,
        scope: &Scope,
    ) -> Result<Option<u64>, ServiceError> {
        let per_agency = self.per_agency(days, scope).await?;
        let rollup = self.rollup(scope.basis).await?;
        let entered = self.entered_per_agency(days).await?;
        Ok(Self::dossiers_per_subtree(&entered, &per_agency, &rollup).get(agency).copied().flatten())
    }

    /// The expectations ranking of `agency`'s subtree over `days`.
    pub async fn expectations(
        &self,
        agency: &str,
        days: &ClosedDays,
        scope: &Scope,
    ) -> Result<Vec<ExpectationShare>, ServiceError> {
        Ok(self.expectation_ranking(&self.overview(agency, days, scope).await?.totals))
    }

    /// The expectations ranking of some totals, over the current questionnaire's areas; none for
    /// fewer than k responses.
    pub fn expectation_ranking(&self, totals: &Totals) -> Vec<ExpectationShare> {
        if totals.whole_responses() < self.settings.min_cell {
            return Vec::new();
        }
        let areas: Vec<String> = self.questionnaire.expectations.areas.iter().map(|a| a.code.clone()).collect();
        report::expectation_ranking(totals, &areas)
    }

    /// Everything the dashboard shows of `agency`'s subtree over `days`, from one pass over the
    /// stored tallies: the totals, per channel, per month and per quarter.
    pub async fn overview(&self, agency: &str, days: &ClosedDays, scope: &Scope) -> Result<Overview, ServiceError> {
        let rollup = self.rollup(scope.basis).await?;
        let subtree = self.subtree_of(agency).await?;
        // months and quarters are the periods the steps closed in
        let cells = self
            .fold_published(days, None, EVERYONE, Whole::InOneMonth, |row, published| {
                let share = if in_scope(row, scope) { rollup.share_in(&row.agency, &subtree) } else { 0.0 };
                counted((row.channel, published.format("%Y-%m").to_string()), share)
            })
            .await?;
        let mut overview = Overview::default();
        let mut months: std::collections::BTreeMap<String, Totals> = std::collections::BTreeMap::new();
        for ((channel, month), totals) in &cells {
            overview.totals.add(totals);
            overview.channels.entry(*channel).or_default().add(totals);
            months.entry(month.clone()).or_default().add(totals);
        }
        for (month, totals) in months {
            let (year, number) = month.split_once('-').unwrap_or((&month, "01"));
            let quarter = format!("Quý {}/{year}", number.parse::<u32>().unwrap_or(1).div_ceil(3));
            match overview.quarters.last_mut() {
                Some((last, sum)) if *last == quarter => sum.add(&totals),
                _ => overview.quarters.push((quarter, totals.clone())),
            }
            overview.months.push((format!("{}/{year}", &month[5..7]), totals));
        }
        Ok(overview)
    }

    /// `agency` and the agencies under it, open or closed: what a rollup's placements land in
    /// for its subtree ([`Rollup::share_in`]).
    async fn subtree_of(&self, agency: &str) -> Result<std::collections::HashSet<String>, ServiceError> {
        Ok(crate::domain::agency::subtree_codes(&self.db.agencies().await?, agency))
    }

    /// `agency`'s subtree over `days` split by `by`, small cells suppressed.
    pub async fn breakdown(
        &self,
        agency: &str,
        by: &BreakdownBy,
        days: &ClosedDays,
        scope: &Scope,
    ) -> Result<Vec<BreakdownRow>, ServiceError> {
        let rollup = self.rollup(scope.basis).await?;
        let subtree = self.subtree_of(agency).await?;
        // the share of a row that counts here: all of it, none, or a split unit's share
        let inside = |row: &TallyRow| if in_scope(row, scope) { rollup.share_in(&row.agency, &subtree) } else { 0.0 };
        let mut cells: Vec<(String, String, Totals)> = match by {
            BreakdownBy::Channel => {
                let sums = self
                    .fold_published(days, None, EVERYONE, Whole::InPeriod, |row, _| counted(row.channel, inside(row)))
                    .await?;
                [Channel::Kiosk, Channel::Link]
                    .into_iter()
                    .map(|c| (c.as_str().to_owned(), c.label().to_owned(), sums.get(&c).cloned().unwrap_or_default()))
                    .collect()
            }
            BreakdownBy::ServicePoint => {
                let wider = Some(SERVICE_POINT);
                let sums = self
                    .fold_published(days, wider, EVERYONE, Whole::InPeriod, |row, _| {
                        counted(row.service_point.clone(), inside(row))
                    })
                    .await?;
                let agencies = self.db.agencies().await?;
                let mut cells: Vec<_> = sums
                    .into_iter()
                    .map(|(code, t)| {
                        let name =
                            agencies.iter().find(|a| a.code == code).map_or_else(|| code.clone(), |a| a.name.clone());
                        (code, name, t)
                    })
                    .collect();
                cells.sort_by(|a, b| a.1.cmp(&b.1));
                cells
            }
            BreakdownBy::Profile(question) => {
                let Some(q) = self.questionnaire.profile.iter().find(|q| &q.code == question) else {
                    return Err(ServiceError::UnknownBreakdown(question.clone()));
                };
                let wider = Some(question.as_str());
                let sums = self
                    .fold_published(days, wider, question, Whole::InPeriod, |row, _| {
                        counted(row.facet_value.clone(), inside(row))
                    })
                    .await?;
                let everyone = self
                    .fold_published(days, wider, EVERYONE, Whole::InPeriod, |row, _| counted((), inside(row)))
                    .await?;
                let everyone = everyone.get(&()).cloned().unwrap_or_default();
                let mut cells: Vec<_> = q
                    .options
                    .iter()
                    .map(|o| (o.code.clone(), o.label.clone(), sums.get(&o.code).cloned().unwrap_or_default()))
                    .collect();
                // Those who left the question unanswered: everyone less those who answered.
                let answered = cells.iter().fold(Totals::default(), |mut sum, (_, _, t)| {
                    sum.add(t);
                    sum
                });
                cells.push((String::new(), "Không trả lời".into(), everyone.minus(&answered)));
                cells
            }
        };
        let counts: Vec<u64> = cells.iter().map(|(_, _, t)| t.whole_responses()).collect();
        let hidden = report::suppressed(&counts, self.settings.min_cell);
        Ok(cells
            .drain(..)
            .zip(hidden)
            .map(|((value, label, totals), suppressed)| BreakdownRow {
                value,
                label,
                responses: (!suppressed).then_some(totals.whole_responses()),
                index: if suppressed { None } else { self.index_of(agency, Some(&totals)).overall },
                suppressed,
            })
            .collect())
    }
}

/// The first and last days of a stored month (`2026-03`).
fn month_days(span: &str) -> Result<(NaiveDate, NaiveDate), ServiceError> {
    let first = crate::domain::period::parse_day(&format!("{span}-01"))
        .map_err(|_| crate::storage::StorageError::Corrupt(format!("tally month {span}")))?;
    Ok((first, crate::domain::period::last_of_month(first)))
}

/// The spans of `grain` holding `first..=last`, each with its last day: `2026-03` or
/// `2026-03-15`.
fn spans_of(grain: Grain, first: NaiveDate, last: NaiveDate) -> Vec<(String, NaiveDate)> {
    use crate::domain::period::{first_of_month, last_of_month};
    let mut spans = Vec::new();
    let mut day = match grain {
        Grain::Month => first_of_month(first),
        Grain::Day => first,
    };
    while day <= last {
        let end = match grain {
            Grain::Month => last_of_month(day),
            Grain::Day => day,
        };
        spans.push((grain.span(day), end));
        let Some(next) = end.succ_opt() else { break };
        day = next;
    }
    spans
}

/// Consecutive months as (first day, last day) ranges.
fn runs_of_months(firsts: &std::collections::BTreeSet<NaiveDate>) -> Vec<(NaiveDate, NaiveDate)> {
    let mut runs: Vec<(NaiveDate, NaiveDate)> = Vec::new();
    for first in firsts {
        let last = crate::domain::period::last_of_month(*first);
        match runs.last_mut() {
            Some((_, end)) if end.succ_opt() == Some(*first) => *end = last,
            _ => runs.push((*first, last)),
        }
    }
    runs
}

/// When a stored month tally may be read whole instead of day by day (see
/// [`AppState::fold_published`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Whole {
    /// Every day of it publishes inside the period: for totals.
    InPeriod,
    /// Every day of it publishes inside the period, in one month: for figures labelled by the
    /// month they were published in.
    InOneMonth,
}

/// A row's key and the share of it that counts there, when any does.
fn counted<K>(key: K, share: f64) -> Option<(K, f64)> {
    (share > 0.0).then_some((key, share))
}

/// Whether the figures over `days` count `stored`: its disclosure step closed inside them.
fn published_in(book: &StepBook, stored: &crate::storage::StoredResponse, days: &ClosedDays) -> bool {
    let atom = (stored.response.agency.clone(), stored.channel);
    let day = crate::domain::period::vietnam_day(stored.submitted_at);
    book.published(&atom, day, None).is_some_and(|close| days.from <= close && close <= days.to)
}

/// Totals per (agency, channel).
type PerChannel = HashMap<(String, Channel), Totals>;

/// `per_channel` added up over the channels of each agency.
fn by_agency(per_channel: &PerChannel) -> HashMap<String, Totals> {
    let mut sums: HashMap<String, Totals> = HashMap::new();
    for ((agency, _), totals) in per_channel {
        sums.entry(agency.clone()).or_default().add(totals);
    }
    sums
}

fn in_scope(row: &TallyRow, scope: &Scope) -> bool {
    scope.channel.is_none_or(|c| c == row.channel)
}

/// One page of an export of responses: the rows it counts, and where the next page starts
/// (none after the last).
pub struct ExportPage {
    pub rows: Vec<crate::storage::StoredResponse>,
    pub next: Option<(chrono::DateTime<chrono::Utc>, uuid::Uuid)>,
}

impl AppState {
    /// A page of the responses of `agency` that the figures over `days` count (its disclosure
    /// steps closed inside them: see [`Self::fold_published`]), so that an export holds what
    /// the reports publish; `after` is where the previous page ended.
    pub async fn export_page(
        &self,
        agency: &str,
        days: &ClosedDays,
        after: Option<(chrono::DateTime<chrono::Utc>, uuid::Uuid)>,
    ) -> Result<ExportPage, ServiceError> {
        use crate::domain::period::start_of_day;
        let book = self.step_book().await?;
        let atoms = [Channel::Kiosk, Channel::Link].map(|c| (agency.to_owned(), c));
        let earliest = atoms.iter().filter_map(|atom| book.atoms.get(atom)?.earliest(days.from, days.to, None)).min();
        let Some(earliest) = earliest else { return Ok(ExportPage { rows: Vec::new(), next: None }) };
        let bounds = (start_of_day(earliest), start_of_day(days.to) + chrono::Duration::days(1));
        let mut rows = self.db.responses_page(agency, bounds, after, &self.layouts).await?;
        let next = rows.last().map(|last| (last.submitted_at, last.response.id));
        rows.retain(|stored| published_in(&book, stored, days));
        Ok(ExportPage { rows, next })
    }
}

impl AppState {
    /// Every stored response of `agency` over `days`, published or not, a page at a time: to
    /// check what was stored (migrations, tests), never to report or export.
    pub async fn stored_responses(
        &self,
        agency: &str,
        days: &ClosedDays,
        after: Option<(chrono::DateTime<chrono::Utc>, uuid::Uuid)>,
    ) -> Result<Vec<crate::storage::StoredResponse>, ServiceError> {
        use crate::domain::period::start_of_day;
        let bounds = (start_of_day(days.from), start_of_day(days.to) + chrono::Duration::days(1));
        Ok(self.db.responses_page(agency, bounds, after, &self.layouts).await?)
    }
}

/// Comments a page shows at most.
pub const COMMENTS_SHOWN: u32 = 100;

/// What the comments page shows: the queue (admins) and the approved comments of a subtree.
pub struct CommentView {
    pub pending: Vec<crate::storage::StoredComment>,
    pub waiting: u64,
    /// `None` when the subtree got fewer than k responses over the days: none may be shown.
    pub approved: Option<Vec<crate::storage::StoredComment>>,
}

impl AppState {
    /// The comments of `agency`'s subtree over `days`, and the moderation queue when `moderator`.
    pub async fn comments(
        &self,
        agency: &str,
        days: Option<&ClosedDays>,
        moderator: bool,
    ) -> Result<CommentView, ServiceError> {
        use crate::domain::comment::mask_personal;
        let (mut pending, waiting) =
            if moderator { self.db.pending_comments(COMMENTS_SHOWN).await? } else { (Vec::new(), 0) };
        let mut approved = None;
        if let Some(days) = days {
            let responses = self.report_index(agency, Some(days), &Scope::default()).await?.responses;
            if responses >= self.settings.min_cell {
                let codes: Vec<String> =
                    crate::domain::agency::subtree_codes(&self.db.agencies().await?, agency).into_iter().collect();
                let bounds = (
                    crate::domain::period::start_of_day(days.from),
                    crate::domain::period::start_of_day(days.to) + chrono::Duration::days(1),
                );
                approved = Some(self.db.approved_comments(&codes, bounds, COMMENTS_SHOWN).await?);
            }
        }
        // Comments stored before masking existed are masked on the way out too.
        for comment in pending.iter_mut().chain(approved.iter_mut().flatten()) {
            comment.text = mask_personal(&comment.text);
        }
        Ok(CommentView { pending, waiting, approved })
    }

    /// Approves or hides a comment (audit-logged); false when there is no such comment.
    pub async fn moderate_comment(
        &self,
        actor: &crate::domain::audit::Actor,
        response_id: &str,
        approve: bool,
    ) -> Result<bool, ServiceError> {
        use crate::domain::comment::CommentStatus;
        let status = if approve { CommentStatus::Approved } else { CommentStatus::Rejected };
        Ok(self.db.set_comment_status(response_id.trim(), status, actor).await?)
    }
}
