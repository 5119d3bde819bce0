//! Exports (xuất dữ liệu), scoped like the reports: the responses themselves — one row each,
//! nothing that identifies a person — and every report table, as CSV or XLSX. Responses stream
//! a block at a time (an agency's responses of one shown day or month), so a million of them
//! never sit in memory; inside a block the rows are shuffled and a profile shared by fewer than
//! k rows of the block is blanked (k-anonymity). Every export is audit-logged.

use std::collections::HashSet;

use app::access::request::ClientIp;
use app::domain::access::Reach;
use app::domain::audit::{Actor, AuditAction};
use app::domain::export::{self, Cell, Detail, Table};
use app::domain::period::{vietnam_day, ClosedDays};
use app::domain::report::BreakdownBy;
use app::domain::AgencyKind;
use app::service::AppState;
use app::storage::StoredResponse;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use rust_xlsxwriter::{Workbook, Worksheet, XlsxError};
use tokio::sync::mpsc;

use super::api::ApiError;
use super::reports::{request, Params, Request};

/// A byte-order mark before CSV files, so that Excel opens UTF-8 with its diacritics intact.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Rows per XLSX sheet: Excel holds 1,048,576; more continue on the next sheet.
const ROWS_PER_SHEET: u32 = 1_000_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Csv,
    Xlsx,
}

/// `GET /api/v1/exports/{name}.{csv|xlsx}?agency=&from=&to=&basis=` (and `by=`, `kind=` for
/// the breakdown and the ranking).
pub async fn export(
    State(app): State<AppState>,
    headers: HeaderMap,
    Extension(ip): Extension<ClientIp>,
    Path(file): Path<String>,
    params: Params,
) -> Result<Response, ApiError> {
    let not_found = || ApiError::new(StatusCode::NOT_FOUND, "file", "Không có tệp xuất này.");
    let (name, format) = match file.rsplit_once('.') {
        Some((name, "csv")) => (name.to_owned(), Format::Csv),
        Some((name, "xlsx")) => (name.to_owned(), Format::Xlsx),
        _ => return Err(not_found()),
    };
    let request = request(&app, &headers, params).await?;
    let actor = Actor::new(request.viewer.clone(), Some(ip.0));
    if name == "responses" {
        return responses(app, request, actor, format).await;
    }
    if name == "report" {
        if format != Format::Xlsx {
            return Err(ApiError::new(StatusCode::NOT_FOUND, "file", "Báo cáo chỉ có dạng XLSX (report.xlsx)."));
        }
        let tables = report_workbook(&app, &request).await?;
        let rows = tables.iter().map(|t| t.rows.len() as u64).sum();
        audit_export(&app, &actor, "bao-cao", &request, rows).await?;
        let mut workbook = Workbook::new();
        for table in &tables {
            write_sheet(workbook.add_worksheet(), &table.name, &table.headers, &table.rows).map_err(xlsx_failed)?;
        }
        let body = workbook.save_to_buffer().map_err(xlsx_failed)?;
        return Ok(attachment("bao-cao.xlsx", format, Body::from(body)));
    }
    let table = match name.as_str() {
        "criteria" | "ranking" | "expectations" | "breakdown" => report_table(&app, &name, &request).await?,
        _ => return Err(not_found()),
    };
    audit_export(&app, &actor, &table.name, &request, table.rows.len() as u64).await?;
    let file_name = format!("{}.{}", table.name, if format == Format::Csv { "csv" } else { "xlsx" });
    let body = match format {
        Format::Csv => [BOM, &csv_bytes(&table.headers, &table.rows)].concat(),
        Format::Xlsx => {
            let mut workbook = Workbook::new();
            write_sheet(workbook.add_worksheet(), &table.name, &table.headers, &table.rows).map_err(xlsx_failed)?;
            workbook.save_to_buffer().map_err(xlsx_failed)?
        }
    };
    Ok(attachment(&file_name, format, Body::from(body)))
}

async fn report_table(app: &AppState, name: &str, request: &Request) -> Result<Table, ApiError> {
    let Request { agency, days, scope, compare, query, reach, .. } = request;
    let missing = || ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "agency", "Thiếu mã cơ quan (agency).");
    let questionnaire = &app.questionnaire;
    let empty = ClosedDays { from: vietnam_day(chrono::Utc::now()), to: vietnam_day(chrono::Utc::now()) };
    Ok(match name {
        "ranking" => {
            let kind = super::reports::ranked_kind(query)?;
            let ranking =
                app.ranking(kind, days.as_ref().unwrap_or(&empty), *compare, scope, |c| reach.contains(c)).await?;
            let mut table = export::ranking_table(&ranking);
            if days.is_none() {
                table.rows.clear();
            }
            table
        }
        "criteria" => {
            let agency = agency.as_deref().ok_or_else(missing)?;
            export::criteria_table(questionnaire, &app.report_index(agency, days.as_ref(), scope).await?)
        }
        "expectations" => {
            let agency = agency.as_deref().ok_or_else(missing)?;
            let shares = match days {
                Some(days) => app.expectations(agency, days, scope).await?,
                None => Vec::new(),
            };
            export::expectations_table(questionnaire, &shares)
        }
        _ => {
            let agency = agency.as_deref().ok_or_else(missing)?;
            let by = BreakdownBy::parse(query.by.as_deref().map(str::trim).unwrap_or("channel"));
            // Asked even without a closed day (rows of today, thrown away), so that a breakdown
            // the questionnaire does not have is refused, never named in the file.
            let rows =
                app.breakdown(agency, &by, days.as_ref().unwrap_or(&empty), scope).await.map_err(|e| match e {
                    error @ app::service::ServiceError::UnknownBreakdown(_) => {
                        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "by", &error.to_string())
                    }
                    other => other.into(),
                })?;
            export::breakdown_table(by.as_str(), if days.is_some() { &rows } else { &[] })
        }
    })
}

/// The sheets of the report a province submits (`/admin/report` as XLSX): the overview, the
/// annex of each kind of unit inside the chosen subtree, the data quality.
async fn report_workbook(app: &AppState, request: &Request) -> Result<Vec<Table>, ApiError> {
    let Request { agency, days, scope, compare, reach, .. } = request;
    let agency = agency
        .as_deref()
        .ok_or_else(|| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "agency", "Thiếu mã cơ quan (agency)."))?;
    let questionnaire = &app.questionnaire;
    let index = app.report_index(agency, days.as_ref(), scope).await?;
    let name = app.agency(agency).await?.map(|a| a.name).unwrap_or_default();
    let Some(days) = days else {
        let overview = export::Overview {
            name: &name,
            index: &index,
            interval: None,
            weighted: None,
            comparisons: Vec::new(),
            milestone: None,
            links: None,
        };
        return Ok(vec![export::overview_table(&overview), export::quality_table(questionnaire, &index, &[], None)]);
    };
    let weighted = app.weighted(agency, days, scope).await?;
    let mut comparisons = Vec::new();
    for comparison in app::domain::period::Comparison::ALL {
        if let Some(before) = comparison.of(days) {
            let label = format!("{} ({} – {})", comparison.label(), before.from, before.to);
            comparisons.push((label, app.report_index(agency, Some(&before), scope).await?.overall));
        }
    }
    let milestone = app::domain::report::milestone(&app.settings.targets, chrono::Datelike::year(&days.to));
    let overview = export::Overview {
        name: &name,
        index: &index,
        interval: app::service::reports::index_interval(&index),
        weighted: Some(&weighted),
        comparisons,
        milestone,
        links: Some(app.link_uptake(agency, days).await?),
    };
    let mut tables = vec![export::overview_table(&overview)];
    let subtree = app::domain::agency::subtree_codes(&app.agencies().await?, agency);
    for kind in AgencyKind::RANKED {
        let ranking = app.ranking(kind, days, *compare, scope, |c| reach.contains(c) && subtree.contains(c)).await?;
        if !ranking.rows.is_empty() {
            tables.push(export::annex_table(questionnaire, &ranking));
        }
    }
    let channels: Vec<(String, u64)> = app
        .overview(agency, days, scope)
        .await?
        .channels
        .iter()
        .map(|(channel, totals)| (channel.label().to_owned(), totals.whole_responses()))
        .collect::<std::collections::BTreeMap<_, _>>()
        .into_iter()
        .collect();
    let integrity = match reach {
        Reach::All => Some((app.integrity_counts(days).await?, app.sensitivity(agency, days, scope).await?)),
        _ => None,
    };
    let integrity = integrity.as_ref().map(|(flags, sensitivity)| (flags.as_slice(), sensitivity));
    tables.push(export::quality_table(questionnaire, &index, &channels, integrity));
    Ok(tables)
}

/// Writes an export to the audit log: who, which file, which agency and days, how many rows.
async fn audit_export(
    app: &AppState,
    actor: &Actor,
    file: &str,
    request: &Request,
    rows: u64,
) -> Result<(), app::service::ServiceError> {
    let agency = request.agency.as_deref().unwrap_or("tất cả");
    let days = request.days.map_or("chưa có ngày nào kết thúc".to_owned(), |d| format!("{} – {}", d.from, d.to));
    app.audit(actor, AuditAction::Exported, &format!("{file}: {agency}, {days}, {rows} dòng")).await
}

/// The responses of the chosen subtree (or all the caller may see), block by block per agency;
/// audit-logged once the last row has gone.
async fn responses(app: AppState, request: Request, actor: Actor, format: Format) -> Result<Response, ApiError> {
    let agencies = app.agencies().await?;
    let roots: Vec<String> = match &request.agency {
        Some(code) => vec![code.clone()],
        None => agencies.iter().filter(|a| request.reach.contains(&a.code)).map(|a| a.code.clone()).collect(),
    };
    let mut codes: HashSet<String> = HashSet::new();
    for root in &roots {
        codes.extend(app::domain::agency::subtree_codes(&agencies, root));
    }
    let mut codes: Vec<String> = codes.into_iter().filter(|c| request.reach.contains(c)).collect();
    codes.sort();
    let detail = Detail { day: request.reach == Reach::All, profile: request.reach == Reach::All };
    let file_name = format!("phieu-tra-loi.{}", if format == Format::Csv { "csv" } else { "xlsx" });
    let pages = Pages { app, codes, days: request.days, detail, audit: (actor, request) };
    let body = match format {
        Format::Csv => stream_csv(pages),
        Format::Xlsx => stream_xlsx(pages).await?,
    };
    Ok(attachment(&file_name, format, body))
}

/// Where an export of responses reads from, and whom the audit log names for it.
struct Pages {
    app: AppState,
    codes: Vec<String>,
    days: Option<ClosedDays>,
    detail: Detail,
    audit: (Actor, Request),
}

impl Pages {
    /// Sends every row to `sender`, agency after agency, a block at a time; stops early when the
    /// receiver is gone (the download was cancelled). Returns how many rows were sent.
    async fn send_to(&self, sender: mpsc::Sender<Vec<Vec<Cell>>>) -> Result<u64, app::service::ServiceError> {
        let Some(days) = &self.days else { return Ok(0) };
        let mut sent = 0;
        for code in &self.codes {
            let mut after = None;
            let mut block: Vec<StoredResponse> = Vec::new();
            loop {
                let page = self.app.export_page(code, days, after).await?;
                let Some(next) = page.next else { break };
                after = Some(next);
                for stored in page.rows {
                    if block.first().is_some_and(|first| self.shown_when(first) != self.shown_when(&stored)) {
                        let Some(rows) = self.send_block(&mut block, &sender).await else { return Ok(sent) };
                        sent += rows;
                    }
                    block.push(stored);
                }
            }
            let Some(rows) = self.send_block(&mut block, &sender).await else { return Ok(sent) };
            sent += rows;
        }
        Ok(sent)
    }

    /// The day or month a row shows: what a block shares.
    fn shown_when(&self, stored: &StoredResponse) -> String {
        let day = vietnam_day(stored.submitted_at);
        if self.detail.day {
            day.to_string()
        } else {
            day.format("%Y-%m").to_string()
        }
    }

    /// Sends one block of rows, shuffled, with the profiles shared by fewer than k rows of the
    /// block (same service point and channel) blanked; empties the block. `None` when the
    /// receiver is gone.
    async fn send_block(&self, block: &mut Vec<StoredResponse>, sender: &mpsc::Sender<Vec<Vec<Cell>>>) -> Option<u64> {
        use rand::seq::SliceRandom;
        if block.is_empty() {
            return Some(0);
        }
        if self.detail.profile {
            let key = |s: &StoredResponse| (s.service_point.clone(), s.channel, s.response.profile.clone());
            export::blank_rare_profiles(block, self.app.settings.min_cell, key, |s| s.response.profile.clear());
        }
        block.shuffle(&mut rand::rng());
        let questionnaire = &self.app.questionnaire;
        let rows: Vec<Vec<Cell>> = block
            .drain(..)
            .map(|stored| {
                let day = vietnam_day(stored.submitted_at);
                export::response_row(
                    questionnaire,
                    self.detail,
                    &stored.response,
                    &stored.service_point,
                    stored.channel,
                    day,
                )
            })
            .collect();
        let count = rows.len() as u64;
        sender.send(rows).await.ok().map(|()| count)
    }

    /// Starts reading in the background; blocks arrive on the returned receiver, a few at a
    /// time. The export is audit-logged when it ends, with the rows sent.
    fn start(self) -> mpsc::Receiver<Vec<Vec<Cell>>> {
        let (sender, receiver) = mpsc::channel(4);
        tokio::spawn(async move {
            match self.send_to(sender).await {
                Ok(rows) => {
                    let (actor, request) = &self.audit;
                    if let Err(error) = audit_export(&self.app, actor, "phieu-tra-loi", request, rows).await {
                        tracing::error!(%error, "an export was not audit-logged");
                    }
                }
                // The receiver sees the stream end early; the log says why.
                Err(error) => tracing::error!(%error, "export stopped"),
            }
        });
        receiver
    }
}

fn stream_csv(pages: Pages) -> Body {
    let mut first = BOM.to_vec();
    first.extend(csv_bytes(&export::response_headers(&pages.app.questionnaire, pages.detail), &[]));
    let rows = futures::stream::unfold(pages.start(), |mut receiver| async move {
        let rows = receiver.recv().await?;
        Some((Ok::<_, std::io::Error>(Bytes::from(csv_bytes(&[], &rows))), receiver))
    });
    let head = futures::stream::once(async move { Ok::<_, std::io::Error>(Bytes::from(first)) });
    // Fused: the body may be polled once more after its end.
    Body::from_stream(futures::StreamExt::fuse(futures::StreamExt::chain(head, rows)))
}

/// The deflate level of exported workbooks: the fastest. A million responses are a sheet of
/// about 950 MB of XML; at the default 6 compressing it took ten seconds, at 1 under two, for a
/// file a third larger than at 3 (see the export figures in the README).
const XLSX_COMPRESSION: u8 = 1;

/// Bytes an XLSX export hands to the response body at a time.
const XLSX_CHUNK: usize = 256 * 1024;

/// Writes the workbook with one row in memory at a time (the sheet's rows wait in a temporary
/// file), then zips it straight into the response body as it is compressed. The sheets keep
/// their strings in a shared table ("low memory" rather than "constant memory"): an export's
/// text is a few hundred distinct days, codes and options, so the table stays small while
/// every text cell shrinks to an index (a million rows: 8.4 s instead of 10.0–10.3 s; see the
/// README's export figures).
async fn stream_xlsx(pages: Pages) -> Result<Body, ApiError> {
    let headers = export::response_headers(&pages.app.questionnaire, pages.detail);
    let mut receiver = pages.start();
    let mut workbook = Workbook::new();
    workbook.set_zip_compression_level(XLSX_COMPRESSION);
    // The first sheet is made here so that a temporary file that cannot be made is a 503.
    workbook.add_worksheet_with_low_memory().map_err(xlsx_failed)?;
    let (sender, chunks) = mpsc::channel::<std::io::Result<Bytes>>(4);
    tokio::task::spawn_blocking(move || {
        let written = (|| -> Result<(), XlsxError> {
            write_sheet(workbook.worksheet_from_index(0)?, "phieu-1", &headers, &[])?;
            let (mut row, mut sheets) = (1, 1);
            while let Some(rows) = receiver.blocking_recv() {
                for cells in rows {
                    if row > ROWS_PER_SHEET {
                        sheets += 1;
                        let sheet = workbook.add_worksheet_with_low_memory()?;
                        write_sheet(sheet, &format!("phieu-{sheets}"), &headers, &[])?;
                        row = 1;
                    }
                    write_row(workbook.worksheet_from_index(sheets - 1)?, row, cells)?;
                    row += 1;
                }
            }
            let mut body = ChunkWriter { sender: sender.clone(), chunk: Vec::with_capacity(XLSX_CHUNK) };
            workbook.save_to_writer(&mut body)?;
            Ok(std::io::Write::flush(&mut body)?)
        })();
        // The headers are out: the client sees the body end early, the log says why.
        if let Err(error) = written {
            tracing::error!(%error, "XLSX export stopped");
            let _ = sender.blocking_send(Err(std::io::Error::other("XLSX export stopped")));
        }
    });
    let body = futures::stream::unfold(chunks, |mut chunks| async move { Some((chunks.recv().await?, chunks)) });
    // Fused: the body may be polled once more after its end.
    Ok(Body::from_stream(futures::StreamExt::fuse(body)))
}

/// Hands what the zip writer writes to the response body, [`XLSX_CHUNK`] bytes at a time.
struct ChunkWriter {
    sender: mpsc::Sender<std::io::Result<Bytes>>,
    chunk: Vec<u8>,
}

impl ChunkWriter {
    fn send(&mut self) -> std::io::Result<()> {
        let chunk = std::mem::replace(&mut self.chunk, Vec::with_capacity(XLSX_CHUNK));
        self.sender
            .blocking_send(Ok(Bytes::from(chunk)))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client went away"))
    }
}

impl std::io::Write for ChunkWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.chunk.extend_from_slice(bytes);
        if self.chunk.len() >= XLSX_CHUNK {
            self.send()?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.chunk.is_empty() {
            Ok(())
        } else {
            self.send()
        }
    }
}

fn write_sheet(sheet: &mut Worksheet, name: &str, headers: &[String], rows: &[Vec<Cell>]) -> Result<(), XlsxError> {
    sheet.set_name(name)?;
    for (column, header) in headers.iter().enumerate() {
        sheet.write_string(0, column as u16, header)?;
    }
    for (i, cells) in rows.iter().enumerate() {
        write_row(sheet, i as u32 + 1, cells.iter().cloned())?;
    }
    Ok(())
}

/// Writes one row; a text cell's string moves into the sheet rather than being copied (a million
/// rows of an export are tens of millions of cells).
fn write_row(sheet: &mut Worksheet, row: u32, cells: impl IntoIterator<Item = Cell>) -> Result<(), XlsxError> {
    for (column, cell) in cells.into_iter().enumerate() {
        match cell {
            Cell::Text(text) => sheet.write_string(row, column as u16, text)?,
            Cell::Number(n) => sheet.write_number(row, column as u16, n)?,
            Cell::Empty => sheet,
        };
    }
    Ok(())
}

fn csv_bytes(headers: &[String], rows: &[Vec<Cell>]) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    if !headers.is_empty() {
        let _ = writer.write_record(headers.iter().map(|header| export::inert_text(header).into_owned()));
    }
    for row in rows {
        for cell in row {
            let _ = cell.with_field(|field| writer.write_field(field));
        }
        let _ = writer.write_record(None::<&[u8]>);
    }
    writer.into_inner().unwrap_or_default()
}

/// The file as a download. Its name is made of fixed words and checked codes only (never of
/// the request's text); as a last guard, anything but ASCII letters, digits, `.`, `-` and `_`
/// becomes `_`, so the header can hold no quote, line break or path.
fn attachment(file_name: &str, format: Format, body: Body) -> Response {
    let content_type = match format {
        Format::Csv => "text/csv; charset=utf-8",
        Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    };
    let safe = |c: char| if c.is_ascii_alphanumeric() || "._-".contains(c) { c } else { '_' };
    let file_name: String = file_name.trim_start_matches('.').chars().map(safe).collect();
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{file_name}\"")),
        ],
        body,
    )
        .into_response()
}

fn xlsx_failed(error: XlsxError) -> ApiError {
    tracing::error!(%error, "XLSX export failed");
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "export", "Không tạo được tệp Excel, vui lòng thử lại sau.")
}
