//! Server functions of the reporting console. Each resolves the same filter (agency, days,
//! basis) against what the user may see, then asks the report service.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::access::PageReply;
use crate::domain::given::Given;
use crate::domain::period::Comparison;
use crate::domain::report::{Basis, BreakdownRow, ExpectationShare, Ranking, Target};
use crate::domain::{Agency, AgencyKind, Questionnaire, SatisfactionIndex};

/// A report page's filter as its query string holds it (`agency`, `from`, `to`, `basis`,
/// `compare`): every report page reads the same one.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filter {
    pub agency: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    #[serde(default)]
    pub basis: Given<Basis>,
    #[serde(default)]
    pub compare: Given<Comparison>,
}

impl Filter {
    pub fn of(query: &leptos_router::params::ParamsMap) -> Self {
        Self {
            agency: query.get("agency"),
            from: query.get("from"),
            to: query.get("to"),
            basis: Given::from_text(query.get("basis")),
            compare: Given::from_text(query.get("compare")),
        }
    }
}

/// The filter as the form shows it, and what the report covers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Frame {
    /// The agencies the user may choose (the province, or their subtree).
    pub agencies: Vec<Agency>,
    pub agency: Agency,
    pub from: String,
    pub to: String,
    pub basis: Basis,
    /// What figures are compared with.
    pub compare: Comparison,
    /// The closed days the figures cover, when any day of the period has ended.
    pub covered: Option<(String, String)>,
    /// k: responses of a unit and channel are published in steps of at least this many.
    pub min_cell: u64,
    /// Valid answers an element needs to count in the overall.
    pub element_minimum: u64,
    pub username: String,
    pub is_admin: bool,
}

impl Frame {
    /// The query string that keeps this filter on another report page.
    pub fn query(&self) -> String {
        format!(
            "agency={}&from={}&to={}&basis={}&compare={}",
            self.agency.code,
            self.from,
            self.to,
            self.basis.as_str(),
            self.compare.as_str()
        )
    }
}

/// An index over a labelled span (a month, a quarter, a channel, a previous period).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Labelled {
    pub label: String,
    pub index: SatisfactionIndex,
    pub interval: Option<[f64; 2]>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Dashboard {
    pub frame: Frame,
    pub index: SatisfactionIndex,
    pub interval: Option<[f64; 2]>,
    /// The index with each unit weighted by its completed dossiers (N), beside the pooled one.
    pub weighted: Option<crate::domain::weighting::Weighted>,
    /// The period compared with (`Frame::compare`), side by side.
    pub previous: Option<Labelled>,
    pub channels: Vec<Labelled>,
    pub months: Vec<Labelled>,
    pub quarters: Vec<Labelled>,
    pub expectations: Vec<ExpectationShare>,
    pub today: u64,
    pub targets: Vec<Target>,
    pub questionnaire: Questionnaire,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RankingPage {
    pub frame: Frame,
    pub ranking: Option<Ranking>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BreakdownPage {
    pub frame: Frame,
    /// (code, label) of what a breakdown can split by.
    pub choices: Vec<(String, String)>,
    pub by: String,
    pub rows: Vec<BreakdownRow>,
    pub min_cell: u64,
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use super::*;
    use crate::access::{
        guard::{require, Access},
        request::set_status,
    };
    use crate::domain::access::Action;
    use crate::domain::account::Role;
    use crate::domain::period::{ClosedDays, Period};
    use crate::service::reports::Scope;
    use crate::service::AppState;
    use axum::http::StatusCode;
    use chrono::Datelike;

    /// A report request resolved: who asks, the chosen agency, the closed days, the scope.
    pub struct Resolved {
        pub state: AppState,
        pub access: Access,
        pub frame: Frame,
        pub days: Option<ClosedDays>,
        pub scope: Scope,
        pub compare: Comparison,
    }

    /// Checks access and reads the filter; a refusal is the page's reply.
    pub async fn resolve<T>(filter: Filter) -> Result<Result<Resolved, PageReply<T>>, ServerFnError> {
        let Filter { agency, from, to, basis, compare } = filter;
        let state = expect_context::<AppState>();
        let access = match require(&state, Action::ViewIndices).await? {
            Ok(access) => access,
            Err(refusal) => return Ok(Err(refusal)),
        };
        let refuse = |status: StatusCode, message: String| {
            set_status(status);
            Ok(Err(if status == StatusCode::FORBIDDEN {
                PageReply::Forbidden(message)
            } else {
                PageReply::Invalid(message)
            }))
        };
        let agencies: Vec<Agency> = state
            .agencies()
            .await
            .map_err(crate::service::internal)?
            .into_iter()
            .filter(|a| access.reach.contains(&a.code))
            .collect();
        let today = crate::service::registry::today();
        // Default: the year of the last final day, up to it (in the first week of January, last year).
        let last_final = crate::domain::period::last_final_day(today).unwrap_or(today);
        let default_from = last_final.with_month(1).and_then(|d| d.with_day(1)).unwrap_or(today);
        let from = from.filter(|f| !f.trim().is_empty()).unwrap_or_else(|| default_from.to_string());
        let to = to.unwrap_or_default();
        let period = match Period::parse(Some(&from), Some(&to)) {
            Ok(period) => period,
            Err(error) => return refuse(StatusCode::UNPROCESSABLE_ENTITY, error.to_string()),
        };
        let Some(basis) = basis.or_default() else {
            return refuse(StatusCode::UNPROCESSABLE_ENTITY, Basis::EXPECTED.into());
        };
        let Some(compare) = compare.or_default() else {
            return refuse(StatusCode::UNPROCESSABLE_ENTITY, Comparison::EXPECTED.into());
        };
        let chosen = match agency.filter(|a| !a.trim().is_empty()) {
            Some(code) => agencies.iter().find(|a| a.code == code.trim()).cloned(),
            None => agencies.first().cloned(),
        };
        let Some(chosen) = chosen else {
            let message = "Bạn không có quyền xem cơ quan, đơn vị này, hoặc mã không tồn tại.";
            return refuse(StatusCode::FORBIDDEN, message.into());
        };
        let days = period.closed_days(today);
        let frame = Frame {
            agency: chosen,
            agencies,
            from,
            to,
            basis,
            compare,
            covered: days.map(|d| (d.from.to_string(), d.to.to_string())),
            min_cell: state.settings.min_cell,
            element_minimum: state.settings.element_minimum,
            is_admin: access.user.role == Role::Admin,
            username: access.user.username.clone(),
        };
        Ok(Ok(Resolved { state, access, frame, days, scope: Scope { channel: None, basis }, compare }))
    }

    /// The dashboard of a resolved request (the `/admin` page and the printable report).
    pub async fn dashboard(resolved: &Resolved) -> Result<Dashboard, ServerFnError> {
        use crate::domain::submission::Channel;
        use crate::service::internal;
        use crate::service::reports::index_interval;

        let Resolved { state, frame, days, scope, compare, .. } = resolved;
        let code = frame.agency.code.clone();
        let labelled =
            |label: String, index: SatisfactionIndex| Labelled { interval: index_interval(&index), label, index };
        let mut index = state.report_index(&code, None, scope).await.map_err(internal)?;
        let mut previous = None;
        let mut weighted = None;
        let mut channels = Vec::new();
        let (mut months, mut quarters, mut expectations) = (Vec::new(), Vec::new(), Vec::new());
        if let Some(days) = days {
            let overview = state.overview(&code, days, scope).await.map_err(internal)?;
            index = state.index_of(&code, Some(&overview.totals));
            weighted = Some(state.weighted(&code, days, scope).await.map_err(internal)?);
            if let Some(before) = compare.of(days) {
                let index = state.report_index(&code, Some(&before), scope).await.map_err(internal)?;
                let label = format!("{} ({} – {})", compare.label(), day_label(before.from), day_label(before.to));
                previous = Some(labelled(label, index));
            }
            for channel in [Channel::Kiosk, Channel::Link] {
                let index = state.index_of(&code, overview.channels.get(&channel));
                channels.push(labelled(channel.label().to_owned(), index));
            }
            months = overview.months.into_iter().map(|(m, t)| labelled(m, state.index_of(&code, Some(&t)))).collect();
            quarters =
                overview.quarters.into_iter().map(|(q, t)| labelled(q, state.index_of(&code, Some(&t)))).collect();
            expectations = state.expectation_ranking(&overview.totals);
        }
        Ok(Dashboard {
            interval: index_interval(&index),
            index,
            weighted,
            previous,
            channels,
            months,
            quarters,
            expectations,
            today: state.responses_today(&code).await.map_err(internal)?,
            targets: state.settings.targets.clone(),
            questionnaire: (*state.questionnaire).clone(),
            frame: frame.clone(),
        })
    }

    /// `15/03/2026`.
    pub fn day_label(day: chrono::NaiveDate) -> String {
        day.format("%d/%m/%Y").to_string()
    }
}

#[server]
pub async fn report_dashboard(#[server(flatten)] filter: Filter) -> Result<PageReply<Dashboard>, ServerFnError> {
    match ssr::resolve(filter).await? {
        Ok(resolved) => Ok(PageReply::Ready(ssr::dashboard(&resolved).await?)),
        Err(refusal) => Ok(refusal),
    }
}

#[server]
pub async fn report_ranking(
    #[server(default)] kind: Given<AgencyKind>,
    #[server(flatten)] filter: Filter,
) -> Result<PageReply<RankingPage>, ServerFnError> {
    use crate::access::request::set_status;
    use crate::service::internal;

    let ssr::Resolved { state, frame, days, scope, access, compare } = match ssr::resolve(filter).await? {
        Ok(resolved) => resolved,
        Err(refusal) => return Ok(refusal),
    };
    let Some(kind) = AgencyKind::ranked(kind) else {
        set_status(axum::http::StatusCode::UNPROCESSABLE_ENTITY);
        return Ok(PageReply::Invalid(AgencyKind::RANKED_EXPECTED.into()));
    };
    let ranking = match &days {
        Some(days) => {
            let reach = |code: &str| access.reach.contains(code);
            Some(state.ranking(kind, days, compare, &scope, reach).await.map_err(internal)?)
        }
        None => None,
    };
    Ok(PageReply::Ready(RankingPage { frame, ranking }))
}

#[server]
pub async fn report_breakdown(
    by: Option<String>,
    #[server(flatten)] filter: Filter,
) -> Result<PageReply<BreakdownPage>, ServerFnError> {
    use crate::access::request::set_status;
    use crate::domain::report::BreakdownBy;
    use crate::service::ServiceError;

    let ssr::Resolved { state, frame, days, scope, .. } = match ssr::resolve(filter).await? {
        Ok(resolved) => resolved,
        Err(refusal) => return Ok(refusal),
    };
    let mut choices = vec![
        ("channel".to_owned(), "Kênh khảo sát".to_owned()),
        ("service_point".to_owned(), "Điểm tiếp nhận".to_owned()),
    ];
    choices.extend(state.questionnaire.profile.iter().map(|q| (q.code.clone(), q.label.clone())));
    let by = by.map(|b| b.trim().to_owned()).filter(|b| !b.is_empty()).unwrap_or_else(|| "channel".into());
    let rows = match &days {
        Some(days) => match state.breakdown(&frame.agency.code, &BreakdownBy::parse(&by), days, &scope).await {
            Ok(rows) => rows,
            Err(error @ ServiceError::UnknownBreakdown(_)) => {
                set_status(axum::http::StatusCode::UNPROCESSABLE_ENTITY);
                return Ok(PageReply::Invalid(error.to_string()));
            }
            Err(error) => return Err(crate::service::internal(error)),
        },
        None => Vec::new(),
    };
    Ok(PageReply::Ready(BreakdownPage { frame, choices, by, rows, min_cell: state.settings.min_cell }))
}

/// The printable report: the dashboard and the rankings of every kind of unit the user sees.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PrintedReport {
    pub dashboard: Dashboard,
    pub rankings: Vec<Ranking>,
    /// The agency's index in the previous period and in the same period last year.
    pub comparisons: Vec<Labelled>,
    /// Completed dossiers (N) of the agency over the period, when entered (see `dossiers_in`).
    pub dossiers: Option<u64>,
    pub printed_on: String,
    /// What the kiosk limits and officer flags saw in the period (what, how often); for a reader
    /// of the whole province only, since the flags are not kept per agency.
    pub integrity: Option<Vec<(String, u64)>>,
    /// The survey links made over the period for the subtree's dossiers, and how many were
    /// answered (how the sample was drawn).
    pub links: Option<crate::domain::invitation::LinkUptake>,
    /// The overall without the answers of flagged kiosk-hours; as `integrity`, for a reader of
    /// the whole province only.
    pub sensitivity: Option<crate::domain::anomaly::Sensitivity>,
    /// k: no figure of fewer responses is published.
    pub min_cell: u64,
}

#[server]
pub async fn report_print(#[server(flatten)] filter: Filter) -> Result<PageReply<PrintedReport>, ServerFnError> {
    use crate::service::internal;

    let resolved = match ssr::resolve(filter).await? {
        Ok(resolved) => resolved,
        Err(refusal) => return Ok(refusal),
    };
    let dashboard = ssr::dashboard(&resolved).await?;
    let ssr::Resolved { state, days, scope, access, frame, compare } = resolved;
    let mut rankings = Vec::new();
    let subtree = crate::domain::agency::subtree_codes(&frame.agencies, &frame.agency.code);
    let reach = |code: &str| access.reach.contains(code) && subtree.contains(code);
    if let Some(days) = &days {
        for kind in AgencyKind::RANKED {
            let ranking = state.ranking(kind, days, compare, &scope, reach).await.map_err(internal)?;
            if ranking.rows.len() > 1 {
                rankings.push(ranking);
            }
        }
    }
    let mut comparisons = Vec::new();
    for comparison in days.iter().flat_map(|days| crate::domain::period::Comparison::ALL.map(|c| (c, c.of(days)))) {
        if let (c, Some(before)) = comparison {
            let index = state.report_index(&frame.agency.code, Some(&before), &scope).await.map_err(internal)?;
            let label = format!("{} ({} – {})", c.label(), ssr::day_label(before.from), ssr::day_label(before.to));
            let interval = crate::service::reports::index_interval(&index);
            comparisons.push(Labelled { label, index, interval });
        }
    }
    let dossiers = match &days {
        Some(days) => state.dossiers_in(&frame.agency.code, days, &scope).await.map_err(internal)?,
        None => None,
    };
    let links = match &days {
        Some(days) => Some(state.link_uptake(&frame.agency.code, days).await.map_err(internal)?),
        None => None,
    };
    let (integrity, sensitivity) = match &days {
        Some(days) if access.reach == crate::domain::access::Reach::All => (
            Some(state.integrity_counts(days).await.map_err(internal)?),
            Some(state.sensitivity(&frame.agency.code, days, &scope).await.map_err(internal)?),
        ),
        _ => (None, None),
    };
    Ok(PageReply::Ready(PrintedReport {
        integrity,
        sensitivity,
        links,
        min_cell: state.settings.min_cell,
        dossiers,
        rankings,
        comparisons,
        printed_on: crate::service::registry::today().format("%d/%m/%Y").to_string(),
        dashboard,
    }))
}

/// A comment as the comments page shows it: its agency's name, and its id only in the admin's
/// moderation queue.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShownComment {
    pub id: String,
    pub agency: String,
    pub text: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CommentsPage {
    pub frame: Frame,
    pub pending: Vec<ShownComment>,
    pub waiting: u64,
    pub approved: Option<Vec<ShownComment>>,
    pub min_cell: u64,
}

#[server]
pub async fn load_comments(#[server(flatten)] filter: Filter) -> Result<PageReply<CommentsPage>, ServerFnError> {
    use ssr::{resolve, Resolved};
    let Resolved { state, frame, days, .. } = match resolve(filter).await? {
        Ok(resolved) => resolved,
        Err(refusal) => return Ok(refusal),
    };
    let view =
        state.comments(&frame.agency.code, days.as_ref(), frame.is_admin).await.map_err(crate::service::internal)?;
    let name =
        |code: &str| frame.agencies.iter().find(|a| a.code == code).map_or_else(|| code.to_owned(), |a| a.name.clone());
    // A response's id goes only to the admin's moderation queue, which needs it for its buttons:
    // the approved list reaches managers, and their page's data carries no id.
    let shown = |comments: Vec<crate::storage::StoredComment>, with_id: bool| -> Vec<ShownComment> {
        comments
            .into_iter()
            .map(|c| ShownComment {
                agency: name(&c.agency_code),
                id: if with_id { c.response_id } else { String::new() },
                text: c.text,
            })
            .collect()
    };
    Ok(PageReply::Ready(CommentsPage {
        pending: shown(view.pending, true),
        waiting: view.waiting,
        approved: view.approved.map(|approved| shown(approved, false)),
        min_cell: state.settings.min_cell,
        frame,
    }))
}

#[server]
pub async fn moderate_comment(id: String, approve: bool, back: String) -> Result<(), ServerFnError> {
    use crate::domain::access::Action;
    let state = expect_context::<crate::service::AppState>();
    let access = crate::access::guard::require_for_change(&state, Action::Administer).await?;
    match state.moderate_comment(&access.actor(), &id, approve).await {
        Ok(true) => {
            // Back to the same filter; only paths of this page are followed.
            let back = if back.starts_with("/admin/comments") { back } else { "/admin/comments".into() };
            leptos_axum::redirect(&back);
            Ok(())
        }
        Ok(false) => crate::service::refuse(axum::http::StatusCode::NOT_FOUND, "Không có ý kiến này."),
        Err(error) => Err(crate::service::internal(error)),
    }
}
