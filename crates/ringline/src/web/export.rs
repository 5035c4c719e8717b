//! XLSX exports of lists (SPEC §2: every list can be exported). Each export reads through the
//! same scoped data-layer calls as its page, so it holds exactly what the user may see.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::pages::error_page;
use super::{AppError, AppState, PageUser};
use crate::divisions::{self, ListFilter};
use crate::i18n::Tr;
use crate::zones;

/// A one-sheet workbook: a bold, frozen header row, then the rows as text (codes stay text so
/// Excel does not turn them into numbers).
pub fn workbook(sheet: &str, headers: &[String], rows: &[Vec<String>]) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(sheet)?;
    let bold = Format::new().set_bold();
    for (i, h) in headers.iter().enumerate() {
        ws.write_string_with_format(0, i as u16, h, &bold)?;
        ws.set_column_width(i as u16, 16)?;
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            ws.write_string(r as u32 + 1, c as u16, excel_text(v))?;
        }
    }
    ws.set_freeze_panes(1, 0)?;
    wb.save_to_buffer()
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

fn headers(t: Tr, keys: &[&str]) -> Vec<String> {
    keys.iter().map(|k| t.get(k)).collect()
}

/// GET /divisions.xlsx — the divisions the user may see (towns and villages with their points).
pub async fn divisions_xlsx(State(state): State<AppState>, u: PageUser) -> Response {
    let t = u.t;
    let access = u.access.clone();
    let result = state
        .db
        .run(move |c| {
            let rows = divisions::list(c, &access, &ListFilter::default(), i64::MAX, 0)?;
            let rows: Vec<Vec<String>> = rows
                .into_iter()
                .map(|d| {
                    vec![
                        d.code,
                        d.name,
                        t.get(&format!("level-{}", d.level)),
                        d.parent_code.unwrap_or_default(),
                        d.parent_name.unwrap_or_default(),
                        d.urban_rural_code.unwrap_or_default(),
                        d.lon.map(|v| format!("{v:.6}")).unwrap_or_default(),
                        d.lat.map(|v| format!("{v:.6}")).unwrap_or_default(),
                        if d.approximate {
                            t.get("approximate-point")
                        } else {
                            String::new()
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
            workbook(&t.get("nav-divisions"), &h, &rows).map_err(|e| AppError::Internal(e.to_string()))
        })
        .await;
    match result {
        Ok(bytes) => xlsx_response("divisions.xlsx", bytes),
        Err(e) => error_page(t, e),
    }
}

/// GET /zones/{id}/members.xlsx — a zone's member villages within the user's scope.
pub async fn zone_members_xlsx(State(state): State<AppState>, u: PageUser, Path(id): Path<i64>) -> Response {
    let t = u.t;
    let access = u.access.clone();
    let result = state
        .db
        .run(move |c| {
            let zone = zones::zone(c, &access, id)?.ok_or(AppError::NotFound)?;
            let rows: Vec<Vec<String>> = zones::zone_members(c, &access, id)?
                .into_iter()
                .map(|m| {
                    vec![
                        m.code,
                        m.name,
                        m.town_name.unwrap_or_default(),
                        t.get(&format!("reason-{}", m.reason.replace('_', "-"))),
                        m.distance_km.map(|d| format!("{d:.3}")).unwrap_or_default(),
                    ]
                })
                .collect();
            let h = headers(t, &["col-code", "col-name", "col-town", "col-reason", "col-distance"]);
            // Sheet names may not hold some characters and are at most 31 long.
            let sheet: String = t
                .pick(&zone.name, &zone.name_en)
                .chars()
                .filter(|c| !"[]:*?/\\".contains(*c))
                .take(31)
                .collect();
            workbook(&sheet, &h, &rows).map_err(|e| AppError::Internal(e.to_string()))
        })
        .await;
    match result {
        Ok(bytes) => xlsx_response(&format!("zone-{id}-members.xlsx"), bytes),
        Err(e) => error_page(t, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workbook_round_trips_through_calamine() {
        use calamine::{Reader, Xlsx};
        let bytes = workbook(
            "区划",
            &["代码".to_string(), "名称".to_string()],
            &[vec!["630121100202".into(), "闇门滩村委会".into()]],
        )
        .expect("writes");
        let mut x: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).expect("reads");
        let range = x.worksheet_range("区划").expect("sheet");
        let rows: Vec<Vec<String>> = range
            .rows()
            .map(|r| r.iter().map(|c| c.to_string()).collect())
            .collect();
        assert_eq!(rows, vec![vec!["代码", "名称"], vec!["630121100202", "闇门滩村委会"]]);
    }
}
