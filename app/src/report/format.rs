//! How reports write numbers: two decimals with a Vietnamese decimal comma, "—" for none.

use crate::domain::report::shown;

/// `83,94%`.
pub fn percent(value: Option<f64>) -> String {
    value.map_or_else(|| "—".to_owned(), |v| format!("{:.2}%", shown(v)).replace('.', ","))
}

/// `4,12`.
pub fn decimal(value: Option<f64>) -> String {
    value.map_or_else(|| "—".to_owned(), |v| format!("{v:.2}").replace('.', ","))
}

/// `71,20 – 80,05%`.
pub fn interval(value: Option<[f64; 2]>) -> String {
    value.map_or_else(|| "—".to_owned(), |[lo, hi]| format!("{} – {}", decimal(Some(lo)), percent(Some(hi))))
}

/// `+1,25` / `−0,50` percentage points.
pub fn points(value: Option<f64>) -> String {
    value.map_or_else(
        || "—".to_owned(),
        |v| format!("{}{:.2}", if v < 0.0 { "−" } else { "+" }, v.abs()).replace('.', ","),
    )
}

/// `2026-03-15` → `15/03/2026`.
pub fn day(iso: &str) -> String {
    match iso.split('-').collect::<Vec<_>>()[..] {
        [y, m, d] => format!("{d}/{m}/{y}"),
        _ => iso.to_owned(),
    }
}

/// `kỳ trước liền kề` → `Kỳ trước liền kề`.
pub fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| first.to_uppercase().chain(chars).collect())
}
