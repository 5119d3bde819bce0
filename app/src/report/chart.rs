//! Charts drawn as SVG on the server: they show with JavaScript off and print as they look.
//! Every chart sits beside a table holding the same numbers, for screen readers and copying.

use leptos::prelude::*;

use super::format::percent;
use crate::domain::report::Target;

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 260.0;
const LEFT: f64 = 48.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 56.0;

/// The lowest tick of the y axis: a multiple of 10 under every value and target.
fn floor_of(values: impl Iterator<Item = f64>) -> f64 {
    let lowest = values.fold(100.0_f64, f64::min);
    ((lowest - 5.0) / 10.0).floor().clamp(0.0, 9.0) * 10.0
}

/// The overall index over time (months or quarters) with the province's target lines.
#[component]
pub fn TrendChart(title: String, points: Vec<(String, Option<f64>)>, targets: Vec<Target>) -> impl IntoView {
    let floor = floor_of(points.iter().filter_map(|p| p.1).chain(targets.iter().map(|t| t.percent)));
    let plot_width = WIDTH - LEFT - RIGHT;
    let plot_height = HEIGHT - TOP - BOTTOM;
    let y = move |value: f64| TOP + (100.0 - value) / (100.0 - floor) * plot_height;
    let step = plot_width / points.len().max(1) as f64;
    let x = move |i: usize| LEFT + step * (i as f64 + 0.5);
    let ticks = (0..=((100.0 - floor) / 10.0) as usize)
        .map(|i| {
            let value = floor + 10.0 * i as f64;
            view! {
                <line class="grid" x1=LEFT x2=WIDTH - RIGHT y1=y(value) y2=y(value) />
                <text class="tick" x=LEFT - 6.0 y=y(value) + 4.0 text-anchor="end">{format!("{value:.0}%")}</text>
            }
        })
        .collect_view();
    let target_lines = targets
        .iter()
        .map(|t| {
            view! {
                <line class="target" x1=LEFT x2=WIDTH - RIGHT y1=y(t.percent) y2=y(t.percent) />
                <text class="target-label" x=WIDTH - RIGHT - 4.0 y=y(t.percent) - 4.0 text-anchor="end">
                    {format!("Mục tiêu {}: {}", t.year, percent(Some(t.percent)))}
                </text>
            }
        })
        .collect_view();
    let line: String = points
        .iter()
        .enumerate()
        .filter_map(|(i, (_, v))| v.map(|v| format!("{:.1},{:.1}", x(i), y(v))))
        .collect::<Vec<_>>()
        .join(" ");
    let every = points.len().div_ceil(12).max(1);
    let marks = points
        .iter()
        .enumerate()
        .map(|(i, (label, value))| {
            let dot = value.map(|v| {
                view! { <circle class="point" cx=x(i) cy=y(v) r="4"><title>{format!("{label}: {}", percent(Some(v)))}</title></circle> }
            });
            let name = (i % every == 0).then(|| {
                view! { <text class="tick" x=x(i) y=HEIGHT - BOTTOM + 18.0 text-anchor="middle">{label.clone()}</text> }
            });
            view! { {dot}{name} }
        })
        .collect_view();
    view! {
        <figure class="chart">
            <svg viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-label=title.clone()>
                {ticks}
                {target_lines}
                <polyline class="series" points=line />
                {marks}
            </svg>
            <figcaption>{title}</figcaption>
        </figure>
    }
}

/// Horizontal bars (an index per row) with their 95 % intervals as whiskers.
#[component]
pub fn BarChart(
    title: String,
    rows: Vec<(String, Option<f64>, Option<[f64; 2]>)>,
    targets: Vec<Target>,
) -> impl IntoView {
    const ROW: f64 = 30.0;
    const LABEL: f64 = 340.0;
    let height = TOP * 2.0 + ROW * rows.len() as f64;
    let plot = WIDTH - LABEL - RIGHT - 60.0;
    let x = move |value: f64| LABEL + value / 100.0 * plot;
    let bars = rows
        .iter()
        .enumerate()
        .map(|(i, (label, value, interval))| {
            let top = TOP + ROW * i as f64;
            let bar = value.map(|v| {
                view! {
                    <rect class="bar" x=LABEL y=top + 5.0 width=x(v) - LABEL height=ROW - 10.0 />
                    <text class="value" x=x(v) + 6.0 y=top + ROW / 2.0 + 4.0>{percent(Some(v))}</text>
                }
            });
            let whisker = interval.map(|[lo, hi]| {
                view! { <line class="whisker" x1=x(lo) x2=x(hi) y1=top + ROW / 2.0 y2=top + ROW / 2.0 /> }
            });
            view! {
                <text class="label" x=LABEL - 8.0 y=top + ROW / 2.0 + 4.0 text-anchor="end">{label.clone()}</text>
                {bar}
                {whisker}
            }
        })
        .collect_view();
    let bottom = TOP + ROW * rows.len() as f64;
    let target_lines = targets
        .iter()
        .enumerate()
        .map(|(i, t)| {
            // Targets a few points apart (90 % and 95 %): the earlier year's label goes left of
            // its line, the next one right of its own, so that they do not overlap.
            let (dx, anchor) = if i % 2 == 0 && targets.len() > 1 { (-4.0, "end") } else { (4.0, "start") };
            view! {
                <line class="target" x1=x(t.percent) x2=x(t.percent) y1=TOP y2=bottom />
                <text class="target-label" x=x(t.percent) + dx y=TOP - 4.0 text-anchor=anchor>{format!("{}", t.year)}</text>
            }
        })
        .collect_view();
    view! {
        <figure class="chart">
            <svg viewBox=format!("0 0 {WIDTH} {height}") role="img" aria-label=title.clone()>
                {bars}
                {target_lines}
            </svg>
            <figcaption>{title}</figcaption>
        </figure>
    }
}
