//! XLSX exports of lists (SPEC §2: every list can be exported). Each export reads through the
//! same scoped data-layer calls as its page, so it holds exactly what the user may see.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::pages::error_page;
use super::{AppError, AppState, PageUser};
use crate::divisions::{self, ListFilter};
use crate::i18n::Tr;
use crate::kind::export::Cell;
use crate::zones;

/// Most data rows on one sheet (Excel's 1,048,576 rows less the header); a longer export goes
/// on to a second sheet, and so on.
pub const SHEET_ROWS: u32 = 1_048_575;

/// A workbook of typed cells written row by row in constant memory: a bold, frozen header row,
/// then the rows `page(offset)` returns until it returns none (each call continues at `offset`
/// rows written). Numbers are numbers (amounts in yuan with a `¥#,##0.00` format, rates as
/// percentages, counts as integers), dates are dates, codes and names text. With `index`, a
/// first column numbers the rows 1…n. Rows beyond one sheet continue on sheets named
/// `sheet (2)`, `sheet (3)`, … with the same header.
///
/// # Errors
/// What `page` returns, or [`AppError::Internal`] when the workbook cannot be written.
pub fn typed_workbook(
    sheet: &str,
    index: Option<&str>,
    headers: &[String],
    mut page: impl FnMut(i64) -> Result<Vec<Vec<crate::kind::export::Cell>>, AppError>,
) -> Result<Vec<u8>, AppError> {
    use crate::kind::export::Cell;
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let x = |e: rust_xlsxwriter::XlsxError| AppError::Internal(e.to_string());
    let base: String = sheet.chars().filter(|c| !"[]:*?/\\".contains(*c)).take(24).collect();
    let bold = Format::new().set_bold();
    let int = Format::new().set_num_format("0");
    let yuan = Format::new().set_num_format("¥#,##0.00");
    let rate = Format::new().set_num_format("0.0%");
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let decimals: Vec<Format> = (0..=8)
        .map(|d| {
            Format::new().set_num_format(if d == 0 {
                "0".to_string()
            } else {
                format!("0.{}", "0".repeat(d))
            })
        })
        .collect();
    let mut wb = Workbook::new();
    let shift = u16::from(index.is_some());
    let mut written: i64 = 0;
    let mut sheet_no = 0u32;
    let mut row_in_sheet: u32 = 0;
    let new_sheet = |wb: &mut Workbook, sheet_no: &mut u32| -> Result<(), AppError> {
        *sheet_no += 1;
        let ws = wb.add_worksheet_with_constant_memory().map_err(x)?;
        let name = if *sheet_no == 1 {
            base.clone()
        } else {
            format!("{base} ({sheet_no})")
        };
        ws.set_name(&name).map_err(x)?;
        let mut all: Vec<&str> = index.into_iter().collect();
        all.extend(headers.iter().map(String::as_str));
        for (c, h) in all.iter().enumerate() {
            ws.set_column_width(c as u16, 16).map_err(x)?;
            ws.write_string_with_format(0, c as u16, *h, &bold).map_err(x)?;
        }
        ws.set_freeze_panes(1, 0).map_err(x)?;
        Ok(())
    };
    loop {
        let rows = page(written)?;
        if sheet_no == 0 {
            new_sheet(&mut wb, &mut sheet_no)?;
            row_in_sheet = 0;
        }
        for cells in &rows {
            if row_in_sheet >= SHEET_ROWS {
                new_sheet(&mut wb, &mut sheet_no)?;
                row_in_sheet = 0;
            }
            let ws = wb
                .worksheets_mut()
                .last_mut()
                .ok_or_else(|| AppError::Internal("the workbook has no sheet".into()))?;
            let r = row_in_sheet + 1;
            if index.is_some() {
                ws.write_number_with_format(r, 0, (written + 1) as f64, &int)
                    .map_err(x)?;
            }
            for (c, cell) in cells.iter().enumerate() {
                let col = c as u16 + shift;
                match cell {
                    Cell::Empty => {}
                    Cell::Text(s) | Cell::Code(s) | Cell::Link(s, _) => {
                        ws.write_string(r, col, excel_text(s)).map_err(x)?;
                    }
                    Cell::Int(n) => {
                        ws.write_number_with_format(r, col, *n as f64, &int).map_err(x)?;
                    }
                    Cell::Number(v, d) => {
                        let f = &decimals[usize::from(*d).min(8)];
                        ws.write_number_with_format(r, col, *v, f).map_err(x)?;
                    }
                    Cell::Yuan(v) => {
                        ws.write_number_with_format(r, col, *v, &yuan).map_err(x)?;
                    }
                    Cell::Rate(v) => {
                        ws.write_number_with_format(r, col, *v, &rate).map_err(x)?;
                    }
                    Cell::Date(d) => {
                        use chrono::Datelike;
                        let (y, m, day) = (d.year(), d.month(), d.day());
                        match u16::try_from(y)
                            .ok()
                            .and_then(|y| ExcelDateTime::from_ymd(y, m as u8, day as u8).ok())
                        {
                            Some(dt) => ws.write_datetime_with_format(r, col, &dt, &date).map_err(x)?,
                            None => ws.write_string(r, col, d.to_string()).map_err(x)?,
                        };
                    }
                }
            }
            row_in_sheet += 1;
            written += 1;
        }
        if rows.is_empty() {
            break;
        }
    }
    wb.save_to_buffer().map_err(x)
}

/// Excel's limit on the characters of one cell.
pub const EXCEL_CELL_LIMIT: usize = 32_767;

/// `v`, cut to [`EXCEL_CELL_LIMIT`] characters with a trailing "…" when longer.
pub fn excel_text(v: &str) -> String {
    crate::import::shorten(v, EXCEL_CELL_LIMIT - 1)
}

/// The HTTP response carrying a workbook as a download.
pub fn xlsx_response(filename: &str, bytes: Vec<u8>) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        bytes,
    )
        .into_response()
}

/// Column headers in the page language, from their locale keys.
pub fn headers(t: Tr, keys: &[&str]) -> Vec<String> {
    keys.iter().map(|k| t.get(k)).collect()
}

/// Runs `work` (which builds a workbook) on the blocking pool and answers it as a download named
/// `filename`, or the error as a page.
pub async fn export(
    state: &AppState,
    t: Tr,
    filename: &str,
    work: impl FnOnce(&mut crate::db::DbConn) -> Result<Vec<u8>, AppError> + Send + 'static,
) -> Response {
    match state.db.run(work).await {
        Ok(bytes) => xlsx_response(filename, bytes),
        Err(e) => error_page(t, e),
    }
}

/// Serves a typed workbook of rows computed at once (small lists: divisions, zone villages,
/// coverage, the audit log), numbered 1…n in a first 序号 column.
///
/// # Errors
/// [`AppError::Internal`] when the workbook cannot be written.
pub fn rows_workbook(sheet: &str, t: Tr, headers: Vec<String>, rows: Vec<Vec<Cell>>) -> Result<Vec<u8>, AppError> {
    let mut rows = Some(rows);
    typed_workbook(sheet, Some(&t.get("reg-col-id")), &headers, |_| {
        Ok(rows.take().unwrap_or_default())
    })
}

/// An optional number as a cell (empty when absent).
fn number_cell(v: Option<f64>, decimals: u8) -> Cell {
    v.map_or(Cell::Empty, |v| Cell::Number(v, decimals))
}

/// GET /divisions.xlsx — the divisions the user may see (towns and villages with their points):
/// codes as text, coordinates as numbers (WGS-84 degrees, 6 decimals).
pub async fn divisions_xlsx(State(state): State<AppState>, u: PageUser) -> Response {
    let t = u.t;
    let access = u.access.clone();
    let result = state
        .db
        .run(move |c| {
            let rows = divisions::list(c, &access, &ListFilter::default(), i64::MAX, 0)?;
            let rows: Vec<Vec<Cell>> = rows
                .into_iter()
                .map(|d| {
                    vec![
                        Cell::Code(d.code),
                        Cell::Text(d.name),
                        Cell::Text(t.get(&format!("level-{}", d.level))),
                        d.parent_code.map_or(Cell::Empty, Cell::Code),
                        d.parent_name.map_or(Cell::Empty, Cell::Text),
                        d.urban_rural_code.map_or(Cell::Empty, Cell::Code),
                        number_cell(d.lon, 6),
                        number_cell(d.lat, 6),
                        if d.approximate {
                            Cell::Text(t.get("approximate-point"))
                        } else {
                            Cell::Empty
                        },
                    ]
                })
                .collect();
            let h = headers(
                t,
                &[
                    "col-code",
                    "col-name",
                    "col-level",
                    "col-parent-code",
                    "col-parent",
                    "col-urban-rural",
                    "col-lon",
                    "col-lat",
                    "col-point",
                ],
            );
            rows_workbook(&t.get("nav-divisions"), t, h, rows)
        })
        .await;
    match result {
        Ok(bytes) => xlsx_response("divisions.xlsx", bytes),
        Err(e) => error_page(t, e),
    }
}

/// GET /zones/{id}/members.xlsx — a zone's member villages within the user's scope (distance in
/// km as a number, 3 decimals).
pub async fn zone_members_xlsx(State(state): State<AppState>, u: PageUser, Path(id): Path<i64>) -> Response {
    let t = u.t;
    let access = u.access.clone();
    let result = state
        .db
        .run(move |c| {
            let zone = zones::zone(c, &access, id)?.ok_or(AppError::NotFound)?;
            let rows: Vec<Vec<Cell>> = zones::zone_members(c, &access, id)?
                .into_iter()
                .map(|m| {
                    vec![
                        Cell::Code(m.code),
                        Cell::Text(m.name),
                        m.town_name.map_or(Cell::Empty, Cell::Text),
                        Cell::Text(t.get(&format!("reason-{}", m.reason.replace('_', "-")))),
                        number_cell(m.distance_km, 3),
                    ]
                })
                .collect();
            let h = headers(t, &["col-code", "col-name", "col-town", "col-reason", "col-distance"]);
            rows_workbook(t.pick(&zone.name, &zone.name_en), t, h, rows)
        })
        .await;
    match result {
        Ok(bytes) => xlsx_response(&format!("zone-{id}-members.xlsx"), bytes),
        Err(e) => error_page(t, e),
    }
}

/// The coverage rows as typed cells: counts as integers, rates as percentages (empty when a
/// group has no units).
pub fn coverage_cells(rows: Vec<(String, String, crate::registry::coverage::CoverageRow)>) -> Vec<Vec<Cell>> {
    rows.into_iter()
        .map(|(key, name, r)| {
            vec![
                Cell::Code(key),
                Cell::Text(name),
                Cell::Int(r.units),
                Cell::Int(r.org_covered),
                r.org_rate.map_or(Cell::Empty, Cell::Rate),
                Cell::Int(r.work_covered),
                r.work_rate.map_or(Cell::Empty, Cell::Rate),
            ]
        })
        .collect()
}

/// The audit log as a typed workbook: number, time (China time), user, translated action and
/// record kind, record, values before and after, detail.
///
/// # Errors
/// [`AppError::Internal`] when the workbook cannot be written.
pub fn audit_workbook(t: Tr, entries: &[crate::audit::Entry]) -> Result<Vec<u8>, AppError> {
    let keys = [
        "audit-col-id",
        "col-when",
        "audit-col-user",
        "audit-col-action",
        "audit-col-entity",
        "audit-col-record",
        "audit-col-before",
        "audit-col-after",
        "audit-col-detail",
    ];
    let rows: Vec<Vec<Cell>> = entries
        .iter()
        .map(|e| {
            let entity = super::admin::entity_name(t, &e.entity);
            vec![
                Cell::Int(e.id),
                Cell::Text(crate::clock::in_china(e.at).format("%Y-%m-%d %H:%M:%S").to_string()),
                Cell::Text(e.username.clone()),
                Cell::Text(t.label("audit-action", &e.action)),
                Cell::Text(entity),
                Cell::Code(e.entity_id.clone()),
                e.before_json.clone().map_or(Cell::Empty, Cell::Text),
                e.after_json.clone().map_or(Cell::Empty, Cell::Text),
                Cell::Text(e.detail.clone()),
            ]
        })
        .collect();
    rows_workbook(&t.get("audit-sheet"), t, headers(t, &keys), rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_workbooks_hold_numbers_in_pages() {
        use calamine::{Data, Reader, Xlsx};
        let mut calls = 0;
        let bytes = typed_workbook(
            "单位",
            Some("序号"),
            &["代码".to_string(), "人数".to_string()],
            |offset| {
                calls += 1;
                Ok(match offset {
                    0 => vec![
                        vec![Cell::Code("000000000001".into()), Cell::Int(3)],
                        vec![Cell::Code("000000000002".into()), Cell::Empty],
                    ],
                    2 => vec![vec![Cell::Code("630121103201".into()), Cell::Rate(0.5)]],
                    _ => Vec::new(),
                })
            },
        )
        .expect("writes");
        assert_eq!(calls, 3, "pages until an empty one");
        let mut x: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).expect("reads");
        let range = x.worksheet_range("单位").expect("sheet");
        let rows: Vec<Vec<Data>> = range.rows().map(<[Data]>::to_vec).collect();
        assert_eq!(rows.len(), 4);
        assert_eq!(
            rows[1],
            [Data::Float(1.0), Data::String("000000000001".into()), Data::Float(3.0)]
        );
        assert_eq!(rows[2][..2], [Data::Float(2.0), Data::String("000000000002".into())]);
        assert_eq!(
            rows[3],
            [Data::Float(3.0), Data::String("630121103201".into()), Data::Float(0.5)]
        );
    }
}
