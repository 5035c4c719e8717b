//! Workbooks around imports, written with rust_xlsxwriter:
//!
//! - [`template`]: the template people fill in for one importable kind ([`KindSpec`]), with the
//!   exact headers the importer reads, notes, text/date formats, drop-downs and an instructions
//!   sheet;
//! - [`error_workbook`]: what an import hands back when a file has problems — the rows that
//!   failed, with their original cells and the offending cells marked, and a list of every
//!   problem.

use std::borrow::Cow;
use std::collections::HashMap;

use rust_xlsxwriter::{
    Color, DataValidation, DataValidationErrorStyle, DataValidationRule, DocProperties, ExcelDateTime, Format,
    FormatAlign, FormatBorder, Formula, Note, Workbook, Worksheet, XlsxError,
};

use super::Issue;
use super::spec::{CellKind, ColumnSpec, KindSpec};
use super::table::Row;

/// Last row (1-based, as Excel numbers it) that a template's drop-downs and validations cover;
/// they start at row 2, below the header.
pub const TEMPLATE_ROWS: u32 = 100_000;

/// Most issues listed on the second sheet of an [`error_workbook`]; a final line counts the rest.
pub const MAX_ISSUES: usize = 100_000;

/// Most rows copied to the first sheet of an [`error_workbook`]; a final line on the second sheet
/// counts the rest.
pub const MAX_ROWS: usize = 100_000;

/// Fill of required headers in templates (orange; the instructions say so).
const REQUIRED_FILL: u32 = 0xF8CBAD;
/// Fill of optional headers in templates (light blue).
const OPTIONAL_FILL: u32 = 0xDDEBF7;
/// Fill of header rows in error workbooks (light grey).
const HEADER_FILL: u32 = 0xE7E6E6;
/// Background of a cell with an error.
const ERROR_FILL: u32 = 0xFFC7CE;
/// Font colour of a cell with an error.
const ERROR_FONT: u32 = 0x9C0006;

/// Excel's limit on a cell's text, in UTF-16 units.
const CELL_LIMIT: usize = 32_767;
/// Longest note text written (notes are for reading at a glance).
const NOTE_LIMIT: usize = 4_000;
/// Excel's limit on a data validation's message, in UTF-16 units.
const MESSAGE_LIMIT: usize = 255;

/// The text in a language: `zh` for `zh…` languages, `en` otherwise.
fn t<'a>(lang: &str, zh: &'a str, en: &'a str) -> &'a str {
    if lang.starts_with("zh") { zh } else { en }
}

/// An import template for `kind` in `lang` (`zh-CN` or `en`), as the bytes of an `.xlsx` file.
///
/// Shape:
/// - sheet 1, named [`KindSpec::name`]: row 1 holds the headers exactly as
///   [`ColumnSpec::header`] gives them (so a filled-in template re-imports), bold, required
///   columns with an orange fill and optional ones with a blue fill, each with a note
///   ([`ColumnSpec::note`], plus "必填"/"required"); the header row is frozen. Code columns are
///   formatted as text (`@`), date columns as `yyyy-mm-dd` with a date validation
///   (1900-01-01..=2100-12-31, warning only, since `2019.07.01` and similar texts are accepted
///   too), choice columns get a drop-down of the language's labels and whole-number columns a
///   validation `≥ 0`, over rows 2..=[`TEMPLATE_ROWS`];
/// - sheet 2, "说明"/"Instructions": one row per column (header, required, format, note,
///   accepted values), then how to fill in the file (date forms, codes as text, dry run, the
///   natural key);
/// - a hidden third sheet "lists" only when a drop-down's labels do not fit in Excel's inline
///   list (over 255 characters or containing a comma; no current kind needs it).
///
/// # Errors
///
/// [`XlsxError`] if rust_xlsxwriter refuses a value (a limit of Excel) or cannot write the file.
pub fn template(kind: &KindSpec, lang: &str) -> Result<Vec<u8>, XlsxError> {
    let zh = lang.starts_with("zh");
    let mut wb = Workbook::new();
    wb.set_properties(&DocProperties::new().set_title(format!(
        "{} {}",
        kind.name(lang),
        t(lang, "导入模板", "import template")
    )));

    let header = Format::new()
        .set_bold()
        .set_border(FormatBorder::Thin)
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter);
    let required_header = header.clone().set_background_color(Color::RGB(REQUIRED_FILL));
    let optional_header = header.set_background_color(Color::RGB(OPTIONAL_FILL));
    // Built-in format 49 is Excel's own "@" (text).
    let text = Format::new().set_num_format_index(49);
    let date = Format::new().set_num_format("yyyy-mm-dd");

    let mut data = Worksheet::new();
    data.set_name(sheet_name(kind.name(lang)))?;
    let mut lists: Option<Worksheet> = None;
    let mut list_col: u16 = 0;
    for (i, col) in kind.columns.iter().enumerate() {
        let c = col_num(i)?;
        let head = col.header(lang);
        let fmt = if col.required {
            &required_header
        } else {
            &optional_header
        };
        data.write_string_with_format(0, c, head, fmt)?;
        data.set_column_width(c, column_width(kind, col, lang))?;
        if let Some(n) = header_note(col, lang) {
            data.insert_note(0, c, &note(&n))?;
        }
        let validation = match col.cell {
            CellKind::Code => {
                data.set_column_format(c, &text)?;
                None
            }
            CellKind::Date => {
                data.set_column_format(c, &date)?;
                Some(
                    DataValidation::new()
                        .allow_date(DataValidationRule::Between(
                            ExcelDateTime::from_ymd(1900, 1, 1)?,
                            ExcelDateTime::from_ymd(2100, 12, 31)?,
                        ))
                        .set_input_title(t(lang, "日期", "Date"))?
                        .set_input_message(t(
                            lang,
                            "填写日期，如 2019-07-01；也可写作 2019/7/1、2019.07.01 或 2019年7月1日。",
                            "A date such as 2019-07-01; 2019/7/1, 2019.07.01 and 2019年7月1日 are accepted too.",
                        ))?
                        .set_error_title(t(lang, "日期格式", "Date"))?
                        .set_error_message(t(
                            lang,
                            "这不是 1900—2100 年间的日期。写作 2019-07-01 或 2019/7/1 等形式；确认无误可继续。",
                            "This is not a date between 1900 and 2100. Write it like 2019-07-01 or 2019/7/1; continue if you are sure.",
                        ))?
                        .set_error_style(DataValidationErrorStyle::Warning),
                )
            }
            CellKind::Integer => Some(
                DataValidation::new()
                    .allow_whole_number(DataValidationRule::GreaterThanOrEqualTo(0))
                    .set_error_title(t(lang, "整数", "Whole number"))?
                    .set_error_message(t(lang, "请填写不小于 0 的整数。", "Enter a whole number of 0 or more."))?,
            ),
            CellKind::Choice if !col.choices.is_empty() => {
                let labels: Vec<&str> = col.choices.iter().map(|&(_, z, e)| if zh { z } else { e }).collect();
                let inline = labels.join(",");
                let validation = if utf16_len(&inline) <= MESSAGE_LIMIT && !labels.iter().any(|l| l.contains(',')) {
                    DataValidation::new().allow_list_strings(&labels)?
                } else {
                    // Too long (or with commas) for an inline list: list the labels on a hidden
                    // sheet and point the drop-down at them.
                    let mut sheet = match lists.take() {
                        Some(s) => s,
                        None => {
                            let mut s = Worksheet::new();
                            s.set_name("lists")?;
                            s.set_hidden(true);
                            s
                        }
                    };
                    for (r, label) in labels.iter().enumerate() {
                        sheet.write_string(row_num(r)?, list_col, *label)?;
                    }
                    lists = Some(sheet);
                    let letters = col_letters(list_col);
                    list_col += 1;
                    DataValidation::new().allow_list_formula(Formula::new(format!(
                        "='lists'!${letters}$1:${letters}${}",
                        labels.len()
                    )))
                };
                let joined = labels.join(t(lang, "、", ", "));
                let full = format!(
                    "{}{joined}",
                    t(lang, "请从下拉列表中选择：", "Pick a value from the list: ")
                );
                let message = if utf16_len(&full) <= MESSAGE_LIMIT {
                    full
                } else {
                    t(lang, "请从下拉列表中选择。", "Pick a value from the list.").to_string()
                };
                Some(
                    validation
                        .set_error_title(t(lang, "请从列表中选择", "Pick from the list"))?
                        .set_error_message(message)?,
                )
            }
            CellKind::Choice | CellKind::Text | CellKind::Decimal => None,
        };
        if let Some(v) = validation {
            data.add_data_validation(1, c, TEMPLATE_ROWS - 1, c, &v)?;
        }
    }
    data.set_freeze_panes(1, 0)?;
    wb.push_worksheet(data);
    wb.push_worksheet(instructions(kind, lang, &required_header, &optional_header)?);
    if let Some(l) = lists {
        wb.push_worksheet(l);
    }
    wb.save_to_buffer()
}

/// The template's instructions sheet.
fn instructions(
    kind: &KindSpec,
    lang: &str,
    required_header: &Format,
    optional_header: &Format,
) -> Result<Worksheet, XlsxError> {
    let zh = lang.starts_with("zh");
    let mut ws = Worksheet::new();
    ws.set_name(t(lang, "说明", "Instructions"))?;
    let bold = Format::new()
        .set_bold()
        .set_border(FormatBorder::Thin)
        .set_background_color(Color::RGB(HEADER_FILL));
    let wrap = Format::new()
        .set_text_wrap()
        .set_align(FormatAlign::Top)
        .set_border(FormatBorder::Thin);
    let titles = [
        t(lang, "列名", "Column"),
        t(lang, "必填", "Required"),
        t(lang, "格式", "Format"),
        t(lang, "说明", "Notes"),
        t(lang, "可选值", "Accepted values"),
    ];
    let widths = [24.0, 8.0, 12.0, 56.0, 40.0];
    for (i, (title, width)) in titles.iter().zip(widths).enumerate() {
        let c = col_num(i)?;
        ws.write_string_with_format(0, c, *title, &bold)?;
        ws.set_column_width(c, width)?;
    }
    for (i, col) in kind.columns.iter().enumerate() {
        let r = row_num(i + 1)?;
        let head_fmt = if col.required { required_header } else { optional_header };
        ws.write_string_with_format(r, 0, col.header(lang), head_fmt)?;
        ws.write_string_with_format(
            r,
            1,
            if col.required {
                t(lang, "是", "yes")
            } else {
                t(lang, "否", "no")
            },
            &wrap,
        )?;
        let format = match col.cell {
            CellKind::Text => t(lang, "文本", "text"),
            CellKind::Code => t(lang, "文本(号码)", "text (code)"),
            CellKind::Date => t(lang, "日期", "date"),
            CellKind::Integer => t(lang, "整数", "whole number"),
            CellKind::Decimal => t(lang, "数字", "number"),
            CellKind::Choice => t(lang, "下拉选择", "drop-down"),
        };
        ws.write_string_with_format(r, 2, format, &wrap)?;
        ws.write_string_with_format(r, 3, col.note(lang), &wrap)?;
        let values = col
            .choices
            .iter()
            .map(|&(_, z, e)| if zh { z } else { e })
            .collect::<Vec<_>>()
            .join(t(lang, "、", ", "));
        ws.write_string_with_format(r, 4, &values, &wrap)?;
    }

    let natural = kind
        .natural_key_columns()
        .iter()
        .map(|c| c.header(lang))
        .collect::<Vec<_>>()
        .join("+");
    let lines = [
        t(
            lang,
            "在第一个工作表中从第 2 行起填写，每行一条记录；请勿修改、删除或调换标题行的文字。",
            "Fill in the first sheet from row 2 on, one record per row; do not change, remove or reorder the header texts.",
        )
        .to_string(),
        t(
            lang,
            "标题为橙色底色的列必须填写；蓝色底色的列可以留空。将鼠标移到标题上可查看批注。",
            "Columns whose header has an orange fill are required; those with a blue fill may be left empty. Hover over a header to read its note.",
        )
        .to_string(),
        t(
            lang,
            "日期可写作 2019-07-01、2019/7/1、2019.07.01 或 2019年7月1日。",
            "Dates may be written 2019-07-01, 2019/7/1, 2019.07.01 or 2019年7月1日.",
        )
        .to_string(),
        t(
            lang,
            "公民身份号码、统一社会信用代码、区划代码、电话等号码必须以文本形式填写（模板中这些列已设为文本格式）；若存为数字，Excel 会丢掉开头的 0 和 15 位以后的数字。",
            "ID numbers, credit codes, division codes, phone numbers and other codes must be typed as text (the template formats those columns as text); stored as numbers, Excel drops leading zeros and every digit after the 15th.",
        )
        .to_string(),
        t(
            lang,
            "带下拉列表的列请从列表中选择。",
            "In columns with a drop-down, pick a value from the list.",
        )
        .to_string(),
        t(
            lang,
            "导入时先试运行检查整个文件：只要有一处错误，就不会写入任何数据；可下载错误清单，改正后重新上传。",
            "An import is a dry run first: nothing is written until the whole file is valid. Download the error workbook, fix the rows it lists and upload the file again.",
        )
        .to_string(),
        if zh {
            format!("按“{natural}”识别记录：与已有记录“{natural}”相同的行更新该记录，其他行新增记录。")
        } else {
            format!(
                "Rows are matched to existing records by \"{natural}\": a row with the {natural} of an existing record updates it; other rows add new records."
            )
        },
    ];
    let start = kind.columns.len() + 2;
    let title = Format::new().set_bold();
    ws.write_string_with_format(
        row_num(start)?,
        0,
        t(lang, "填写说明", "How to fill in the file"),
        &title,
    )?;
    let para = Format::new().set_text_wrap().set_align(FormatAlign::Top);
    let span: f64 = widths.iter().sum();
    for (i, line) in lines.iter().enumerate() {
        let r = row_num(start + 1 + i)?;
        let text = format!("{}. {line}", i + 1);
        ws.merge_range(r, 0, r, col_num(titles.len() - 1)?, &text, &para)?;
        // Merged cells do not grow with wrapped text: size the row from an estimate.
        let lines = (display_width(&text) as f64 / (span * 0.95)).ceil().max(1.0);
        ws.set_row_height(r, 15.0 * lines + 2.0)?;
    }
    Ok(ws)
}

/// The rows of an imported sheet, for the error workbook.
#[derive(Debug, Clone, Copy)]
pub struct ErrorSource<'a> {
    /// The file name as uploaded (used on the issue list when an issue names none).
    pub file: &'a str,
    /// The sheet the rows come from, for spreadsheets.
    pub sheet: Option<&'a str>,
    /// Header cells as read from the file; [`Issue::column`] is matched against them.
    pub headers: &'a [String],
    /// The data rows as read (see [`crate::import::table::Table::rows`]); [`Issue::line`] is
    /// matched against [`Row::line`].
    pub rows: &'a [Row],
}

/// The error workbook of an import, in `lang` (`zh-CN` or `en`), as the bytes of an `.xlsx` file.
///
/// Shape:
/// - sheet 1, "错误行"/"Rows with errors": column A the row's number in the original file, then
///   the original headers, then "错误说明"/"errors". Only rows of `source` with at least one
///   issue on their line appear, in file order, with their original cell texts (always written
///   as text, so codes keep every digit). A cell an issue names (by its header) is filled red
///   and carries a note with the message(s); issues naming no column (`""`) or a column the file
///   lacks mark the row-number cell instead. The last column joins every message of the row
///   with "；" (zh) or "; " (en). Bold, frozen header row. At most [`MAX_ROWS`] rows.
/// - sheet 2, "错误清单"/"All errors": one row per issue, in the order given: file, sheet, row
///   (blank for whole-file issues, line 0), column, value and reason (`message(issue)`). At most
///   [`MAX_ISSUES`] issues; a final line says how many issues (and rows of sheet 1) were left
///   out.
///
/// `message` turns an issue into the text shown (e.g. a translation of [`Issue::key`]).
///
/// # Errors
///
/// [`XlsxError`] if rust_xlsxwriter refuses a value (a limit of Excel) or cannot write the file.
pub fn error_workbook(
    source: &ErrorSource<'_>,
    issues: &[Issue],
    message: &dyn Fn(&Issue) -> String,
    lang: &str,
) -> Result<Vec<u8>, XlsxError> {
    write_errors(source, issues, message, lang, MAX_ROWS, MAX_ISSUES)
}

/// [`error_workbook`] with its caps as parameters (tests use small ones).
fn write_errors(
    source: &ErrorSource<'_>,
    issues: &[Issue],
    message: &dyn Fn(&Issue) -> String,
    lang: &str,
    max_rows: usize,
    max_issues: usize,
) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    wb.set_properties(&DocProperties::new().set_title(format!(
        "{}: {}",
        source.file,
        t(lang, "导入错误", "import errors")
    )));
    let bold = Format::new()
        .set_bold()
        .set_border(FormatBorder::Thin)
        .set_background_color(Color::RGB(HEADER_FILL));
    let error = Format::new()
        .set_background_color(Color::RGB(ERROR_FILL))
        .set_font_color(Color::RGB(ERROR_FONT));
    let separator = t(lang, "；", "; ");

    // Sheet 1: the rows with errors.
    let mut by_line: HashMap<usize, Vec<&Issue>> = HashMap::new();
    for issue in issues.iter().filter(|i| i.line > 0) {
        by_line.entry(issue.line).or_default().push(issue);
    }
    let mut column_of: HashMap<&str, usize> = HashMap::new();
    for (i, h) in source.headers.iter().enumerate() {
        column_of.entry(h.as_str()).or_insert(i);
        column_of.entry(h.trim()).or_insert(i);
    }
    let failed: Vec<(&Row, &Vec<&Issue>)> = source
        .rows
        .iter()
        .filter_map(|row| by_line.get(&row.line).map(|found| (row, found)))
        .collect();
    let rows_left_out = failed.len().saturating_sub(max_rows);
    let failed = &failed[..failed.len().min(max_rows)];
    let width = failed
        .iter()
        .map(|(row, _)| row.cells.len())
        .max()
        .unwrap_or(0)
        .max(source.headers.len());
    let errors_col = col_num(width + 1)?;

    let mut ws = Worksheet::new();
    ws.set_name(t(lang, "错误行", "Rows with errors"))?;
    ws.write_string_with_format(0, 0, t(lang, "原行号", "row"), &bold)?;
    ws.set_column_width(0, 8)?;
    for i in 0..width {
        let c = col_num(i + 1)?;
        let h = source.headers.get(i).map(String::as_str).unwrap_or("");
        ws.write_string_with_format(0, c, clip(h, CELL_LIMIT).as_ref(), &bold)?;
        ws.set_column_width(c, (display_width(h) as f64 + 2.0).clamp(12.0, 30.0))?;
    }
    ws.write_string_with_format(0, errors_col, t(lang, "错误说明", "errors"), &bold)?;
    ws.set_column_width(errors_col, 60)?;
    for (n, (row, found)) in failed.iter().enumerate() {
        let r = row_num(n + 1)?;
        let messages: Vec<(Option<usize>, String)> = found
            .iter()
            .map(|i| {
                let col = if i.column.is_empty() {
                    None
                } else {
                    column_of
                        .get(i.column.as_str())
                        .or_else(|| column_of.get(i.column.trim()))
                        .copied()
                };
                (col, message(i))
            })
            .collect();
        let about = |col: Option<usize>| {
            messages
                .iter()
                .filter(|(c, _)| *c == col)
                .map(|(_, m)| m.as_str())
                .collect::<Vec<_>>()
        };
        let whole_row = about(None);
        if whole_row.is_empty() {
            ws.write_number(r, 0, row.line as f64)?;
        } else {
            ws.write_number_with_format(r, 0, row.line as f64, &error)?;
            ws.insert_note(r, 0, &note(&whole_row.join("\n")))?;
        }
        for i in 0..width {
            let c = col_num(i + 1)?;
            let value = clip(row.get(i), CELL_LIMIT);
            let here = about(Some(i));
            if here.is_empty() {
                if !value.is_empty() {
                    ws.write_string(r, c, value.as_ref())?;
                }
            } else {
                if value.is_empty() {
                    ws.write_blank(r, c, &error)?;
                } else {
                    ws.write_string_with_format(r, c, value.as_ref(), &error)?;
                }
                ws.insert_note(r, c, &note(&here.join("\n")))?;
            }
        }
        let all = messages
            .iter()
            .map(|(_, m)| m.as_str())
            .collect::<Vec<_>>()
            .join(separator);
        ws.write_string(r, errors_col, clip(&all, CELL_LIMIT).as_ref())?;
    }
    ws.set_freeze_panes(1, 0)?;
    wb.push_worksheet(ws);

    // Sheet 2: every issue.
    let mut ws = Worksheet::new();
    ws.set_name(t(lang, "错误清单", "All errors"))?;
    let titles = [
        (t(lang, "文件", "file"), 24.0),
        (t(lang, "工作表", "sheet"), 14.0),
        (t(lang, "行号", "row"), 8.0),
        (t(lang, "列", "column"), 18.0),
        (t(lang, "值", "value"), 24.0),
        (t(lang, "错误说明", "reason"), 80.0),
    ];
    for (i, (title, w)) in titles.iter().enumerate() {
        let c = col_num(i)?;
        ws.write_string_with_format(0, c, *title, &bold)?;
        ws.set_column_width(c, *w)?;
    }
    let listed = &issues[..issues.len().min(max_issues)];
    for (n, issue) in listed.iter().enumerate() {
        let r = row_num(n + 1)?;
        let file = if issue.file.is_empty() {
            source.file
        } else {
            issue.file.as_str()
        };
        write_text(&mut ws, r, 0, file)?;
        if let Some(sheet) = issue.sheet.as_deref().or(source.sheet) {
            write_text(&mut ws, r, 1, sheet)?;
        }
        if issue.line > 0 {
            ws.write_number(r, 2, issue.line as f64)?;
        }
        write_text(&mut ws, r, 3, &issue.column)?;
        write_text(&mut ws, r, 4, &issue.value)?;
        write_text(&mut ws, r, 5, &message(issue))?;
    }
    let issues_left_out = issues.len() - listed.len();
    let mut r = row_num(listed.len() + 1)?;
    if issues_left_out > 0 {
        let text = if lang.starts_with("zh") {
            format!("另有 {issues_left_out} 条错误未列出（共 {} 条）。", issues.len())
        } else {
            format!(
                "{issues_left_out} more errors are not listed ({} in all).",
                issues.len()
            )
        };
        ws.write_string_with_format(r, 0, &text, &error)?;
        r += 1;
    }
    if rows_left_out > 0 {
        let text = if lang.starts_with("zh") {
            format!("另有 {rows_left_out} 个出错的行未复制到“错误行”工作表。")
        } else {
            format!("{rows_left_out} more rows with errors are not copied to the \"Rows with errors\" sheet.")
        };
        ws.write_string_with_format(r, 0, &text, &error)?;
    }
    ws.set_freeze_panes(1, 0)?;
    wb.push_worksheet(ws);
    // The mark that tells the import this file is an error workbook (see
    // `RawSheet::error_workbook`): a hidden sheet, so a re-upload is warned about.
    let mut mark = Worksheet::new();
    mark.set_name(super::table::ERROR_MARK)?;
    mark.write_string(
        0,
        0,
        t(
            lang,
            "本工作簿由 ringline 写出，只包含有错误的行。",
            "Written by ringline: this workbook holds only the rows that had errors.",
        ),
    )?;
    mark.set_hidden(true);
    wb.push_worksheet(mark);
    wb.save_to_buffer()
}

/// Writes `text` (clipped to Excel's limit) as a string, leaving the cell empty for `""`.
fn write_text(ws: &mut Worksheet, row: u32, col: u16, text: &str) -> Result<(), XlsxError> {
    if !text.is_empty() {
        ws.write_string(row, col, clip(text, CELL_LIMIT).as_ref())?;
    }
    Ok(())
}

/// The note of a template header: the column's note, led by "必填"/"required" when required;
/// `None` when there is nothing to say.
fn header_note(col: &ColumnSpec, lang: &str) -> Option<String> {
    let text = col.note(lang);
    match (col.required, text.is_empty()) {
        (false, true) => None,
        (false, false) => Some(text.to_string()),
        (true, true) => Some(t(lang, "必填", "required").to_string()),
        (true, false) => Some(format!("{}{text}", t(lang, "必填。", "Required. "))),
    }
}

/// A cell note without the author prefix, sized roughly to its text.
fn note(text: &str) -> Note {
    let text = clip(text, NOTE_LIMIT);
    // About 34 columns of text (CJK characters count two) per line at the default font.
    let lines: usize = text.split('\n').map(|l| display_width(l).div_ceil(34).max(1)).sum();
    let height = (lines as u32).clamp(2, 30) * 12 + 12;
    Note::new(text.into_owned())
        .add_author_prefix(false)
        .set_width(220)
        .set_height(height)
}

/// A template column's width in characters: wide enough for its header, wider for codes and
/// names of organizations.
fn column_width(kind: &KindSpec, col: &ColumnSpec, lang: &str) -> f64 {
    let zh = lang.starts_with("zh");
    let base: f64 = match col.cell {
        CellKind::Code => 22.0,
        CellKind::Date => 14.0,
        CellKind::Integer | CellKind::Decimal => 14.0,
        CellKind::Choice => col
            .choices
            .iter()
            .map(|&(_, z, e)| display_width(if zh { z } else { e }) as f64 + 4.0)
            .fold(14.0, f64::max),
        CellKind::Text => {
            let organization = matches!(
                col.key,
                "address" | "parent" | "unit" | "joint_units" | "party_organization" | "employer"
            ) || (col.key == "name" && kind.key != "members");
            if organization { 24.0 } else { 14.0 }
        }
    };
    base.max(display_width(col.header(lang)) as f64 + 4.0).clamp(12.0, 30.0)
}

/// Columns a text takes on screen: two for wide (CJK) characters, one for others.
fn display_width(s: &str) -> usize {
    s.chars().map(|c| if (c as u32) >= 0x1100 { 2 } else { 1 }).sum()
}

/// The length of `s` in UTF-16 units, the unit of Excel's limits.
fn utf16_len(s: &str) -> usize {
    s.encode_utf16().count()
}

/// `s`, cut to at most `max` UTF-16 units (the last being "…") when longer.
fn clip(s: &str, max: usize) -> Cow<'_, str> {
    // A UTF-8 byte length bounds the UTF-16 length from above.
    if s.len() <= max || utf16_len(s) <= max {
        return Cow::Borrowed(s);
    }
    let mut out = String::new();
    let mut used = 0;
    for ch in s.chars() {
        if used + ch.len_utf16() > max.saturating_sub(1) {
            break;
        }
        used += ch.len_utf16();
        out.push(ch);
    }
    out.push('…');
    Cow::Owned(out)
}

/// A valid sheet name for `name`: without `[]:*?/\`, at most 31 characters.
fn sheet_name(name: &str) -> String {
    let clean: String = name.chars().filter(|c| !"[]:*?/\\".contains(*c)).take(31).collect();
    let clean = clean.trim_matches('\'');
    if clean.is_empty() {
        "Sheet1".to_string()
    } else {
        clean.to_string()
    }
}

/// A 0-based column index as rust_xlsxwriter's column number.
fn col_num(i: usize) -> Result<u16, XlsxError> {
    u16::try_from(i).map_err(|_| XlsxError::RowColumnLimitError)
}

/// A 0-based row index as rust_xlsxwriter's row number.
fn row_num(i: usize) -> Result<u32, XlsxError> {
    u32::try_from(i).map_err(|_| XlsxError::RowColumnLimitError)
}

/// Excel's letters for a 0-based column (`0` → `A`, `26` → `AA`).
fn col_letters(col: u16) -> String {
    let mut n = u32::from(col) + 1;
    let mut out = Vec::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        out.push(char::from(b'A' + rem as u8));
        n = (n - 1) / 26;
    }
    out.iter().rev().collect()
}

#[cfg(test)]
mod tests {
    use std::io::{Cursor, Read};

    use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};

    use super::*;
    use crate::import::spec::MEMBERS;

    fn open(bytes: &[u8]) -> Xlsx<Cursor<Vec<u8>>> {
        open_workbook_from_rs::<Xlsx<_>, _>(Cursor::new(bytes.to_vec())).expect("opens")
    }

    fn texts(x: &mut Xlsx<Cursor<Vec<u8>>>, sheet: &str) -> Vec<Vec<String>> {
        x.worksheet_range(sheet)
            .expect("sheet")
            .rows()
            .map(|r| r.iter().map(|c| c.to_string()).collect())
            .collect()
    }

    fn part_names(bytes: &[u8]) -> Vec<String> {
        let zip = zip::ZipArchive::new(Cursor::new(bytes.to_vec())).expect("zip");
        zip.file_names().map(str::to_string).collect()
    }

    fn part(bytes: &[u8], name: &str) -> String {
        let mut zip = zip::ZipArchive::new(Cursor::new(bytes.to_vec())).expect("zip");
        let mut s = String::new();
        zip.by_name(name).expect("part").read_to_string(&mut s).expect("utf-8");
        s
    }

    #[test]
    fn members_template_round_trips() {
        for (lang, sheet, help) in [("zh-CN", "党员", "说明"), ("en", "party members", "Instructions")] {
            let bytes = template(&MEMBERS, lang).expect("writes");
            let mut x = open(&bytes);
            assert_eq!(x.sheet_names(), vec![sheet.to_string(), help.to_string()], "{lang}");
            let rows = texts(&mut x, sheet);
            let headers: Vec<String> = MEMBERS.columns.iter().map(|c| c.header(lang).to_string()).collect();
            assert_eq!(rows, vec![headers.clone()], "{lang}");
            let help_rows = texts(&mut x, help);
            for h in &headers {
                assert!(
                    help_rows.iter().any(|r| r.first() == Some(h)),
                    "{lang}: {h} missing from instructions"
                );
            }
            let all = help_rows.concat().join("\n");
            assert!(all.contains("2019年7月1日"), "{lang}");
            let key_header = MEMBERS.column(MEMBERS.natural_key).expect("key").header(lang);
            assert!(all.contains(&format!("“{key_header}”")) || all.contains(&format!("\"{key_header}\"")));
            if lang == "zh-CN" {
                assert!(all.contains("正式党员、预备党员"), "choices listed");
            }

            let names = part_names(&bytes);
            assert!(names.iter().any(|n| n.starts_with("xl/comments")), "{names:?}");
            let xml = part(&bytes, "xl/worksheets/sheet1.xml");
            assert!(xml.contains("<dataValidation"), "validations written");
            assert!(xml.contains("type=\"list\""), "drop-down written");
            assert!(xml.contains("type=\"date\""), "date validation written");
            assert!(xml.contains("<pane"), "header frozen");
            let label = if lang == "zh-CN" {
                "正式党员,预备党员"
            } else {
                "full,probationary"
            };
            assert!(xml.contains(label), "{lang}: drop-down labels");
            let styles = part(&bytes, "xl/styles.xml");
            assert!(styles.contains("formatCode=\"yyyy-mm-dd\""), "date format");
            // "@" is built-in format 49.
            assert!(styles.contains("numFmtId=\"49\""), "text format");
        }
    }

    #[test]
    fn every_kind_writes_in_both_languages() {
        for kind in crate::import::spec::kinds() {
            for lang in ["zh-CN", "en"] {
                let bytes = template(kind, lang).expect("writes");
                let mut x = open(&bytes);
                let rows = texts(&mut x, &sheet_name(kind.name(lang)));
                let headers: Vec<String> = kind.columns.iter().map(|c| c.header(lang).to_string()).collect();
                assert_eq!(rows, vec![headers], "{} {lang}", kind.key);
            }
        }
    }

    fn sample() -> (Vec<String>, Vec<Row>, Vec<Issue>) {
        let headers: Vec<String> = ["姓名", "公民身份号码", "党员类别"].map(String::from).to_vec();
        let row = |line: usize, cells: [&str; 3]| Row {
            line,
            cells: cells.map(String::from).to_vec(),
        };
        let rows = vec![
            row(5, ["张三", "11010519491231002X", "正式党员"]),
            row(6, ["李四", "110105194912310037", "预备党员"]),
            row(7, ["王五", "013456789012345678", "正式党员"]),
        ];
        let issue = |line: usize, column: &str, value: &str, key: &str, message: &str| Issue {
            file: "members.xlsx".into(),
            sheet: Some("党员".into()),
            line,
            column: column.into(),
            value: value.into(),
            key: key.into(),
            message: message.into(),
            ..Default::default()
        };
        let issues = vec![
            issue(5, "公民身份号码", "11010519491231002X", "id-checksum", "校验码不符"),
            issue(7, "", "", "duplicate-row", "与第 5 行重复"),
        ];
        (headers, rows, issues)
    }

    #[test]
    fn error_workbook_lists_failed_rows_and_issues() {
        let (headers, rows, issues) = sample();
        let source = ErrorSource {
            file: "members.xlsx",
            sheet: Some("党员"),
            headers: &headers,
            rows: &rows,
        };
        let bytes = error_workbook(&source, &issues, &|i: &Issue| i.message.clone(), "zh-CN").expect("writes");
        let mut x = open(&bytes);
        // The two sheets a person reads, and the hidden mark an import recognises.
        assert_eq!(
            x.sheet_names(),
            vec![
                "错误行".to_string(),
                "错误清单".to_string(),
                crate::import::table::ERROR_MARK.to_string()
            ]
        );
        let hidden: Vec<bool> = x
            .sheets_metadata()
            .iter()
            .map(|m| m.visible != calamine::SheetVisible::Visible)
            .collect();
        assert_eq!(hidden, [false, false, true]);

        let range = x.worksheet_range("错误行").expect("sheet");
        let rows1: Vec<&[Data]> = range.rows().collect();
        assert_eq!(rows1.len(), 3, "header and two rows");
        let text = |r: &[Data]| r.iter().map(|c| c.to_string()).collect::<Vec<_>>();
        assert_eq!(
            text(rows1[0]),
            ["原行号", "姓名", "公民身份号码", "党员类别", "错误说明"]
        );
        assert_eq!(rows1[1][0], Data::Float(5.0));
        assert_eq!(rows1[2][0], Data::Float(7.0));
        assert_eq!(rows1[1][2], Data::String("11010519491231002X".into()));
        assert_eq!(
            rows1[2][2],
            Data::String("013456789012345678".into()),
            "code kept as text"
        );
        assert_eq!(
            text(rows1[1]),
            ["5", "张三", "11010519491231002X", "正式党员", "校验码不符"]
        );
        assert_eq!(
            text(rows1[2]),
            ["7", "王五", "013456789012345678", "正式党员", "与第 5 行重复"]
        );

        let list = texts(&mut x, "错误清单");
        assert_eq!(list.len(), 3, "header and two issues");
        assert_eq!(list[0], ["文件", "工作表", "行号", "列", "值", "错误说明"]);
        assert_eq!(
            list[1],
            [
                "members.xlsx",
                "党员",
                "5",
                "公民身份号码",
                "11010519491231002X",
                "校验码不符"
            ]
        );
        assert_eq!(list[2], ["members.xlsx", "党员", "7", "", "", "与第 5 行重复"]);

        let names = part_names(&bytes);
        assert!(names.iter().any(|n| n.starts_with("xl/comments")), "{names:?}");
        let comments: String = names
            .iter()
            .filter(|n| n.starts_with("xl/comments"))
            .map(|n| part(&bytes, n))
            .collect();
        assert!(comments.contains("校验码不符") && comments.contains("与第 5 行重复"));
        assert!(!comments.contains("Author:"), "no author prefix");
    }

    #[test]
    fn error_workbook_joins_messages_and_keeps_whole_file_issues_off_sheet_one() {
        let (headers, rows, mut issues) = sample();
        issues.push(Issue {
            file: "members.xlsx".into(),
            sheet: None,
            line: 5,
            column: "党员类别".into(),
            value: "正式党员".into(),
            key: "x".into(),
            message: "bad status".into(),
            ..Default::default()
        });
        issues.push(Issue {
            file: String::new(),
            sheet: None,
            line: 0,
            column: "入党日期".into(),
            value: String::new(),
            key: "missing-column".into(),
            message: "column missing".into(),
            ..Default::default()
        });
        let source = ErrorSource {
            file: "upload.xlsx",
            sheet: None,
            headers: &headers,
            rows: &rows,
        };
        let bytes = error_workbook(&source, &issues, &|i: &Issue| i.message.clone(), "en").expect("writes");
        let mut x = open(&bytes);
        assert_eq!(
            x.sheet_names(),
            vec![
                "Rows with errors".to_string(),
                "All errors".to_string(),
                crate::import::table::ERROR_MARK.to_string()
            ]
        );
        let sheet1 = texts(&mut x, "Rows with errors");
        assert_eq!(sheet1.len(), 3);
        assert_eq!(sheet1[0][0], "row");
        assert_eq!(sheet1[0][4], "errors");
        assert_eq!(sheet1[1][4], "校验码不符; bad status");
        let sheet2 = texts(&mut x, "All errors");
        assert_eq!(sheet2.len(), 5);
        assert_eq!(sheet2[4], ["upload.xlsx", "", "", "入党日期", "", "column missing"]);
    }

    #[test]
    fn error_workbook_caps_rows_and_issues() {
        let (headers, rows, issues) = sample();
        let source = ErrorSource {
            file: "members.xlsx",
            sheet: None,
            headers: &headers,
            rows: &rows,
        };
        let bytes = write_errors(&source, &issues, &|i: &Issue| i.message.clone(), "en", 1, 1).expect("writes");
        let mut x = open(&bytes);
        assert_eq!(texts(&mut x, "Rows with errors").len(), 2);
        let sheet2 = texts(&mut x, "All errors");
        assert_eq!(sheet2.len(), 4, "{sheet2:?}");
        assert!(sheet2[2][0].starts_with("1 more errors"), "{sheet2:?}");
        assert!(sheet2[3][0].starts_with("1 more rows"), "{sheet2:?}");
    }

    #[test]
    fn helpers() {
        assert_eq!(clip("abc", 5), "abc");
        assert_eq!(clip("abcdef", 4), "abc…");
        assert_eq!(clip("𝄞𝄞𝄞", 4), "𝄞…");
        assert_eq!(col_letters(0), "A");
        assert_eq!(col_letters(25), "Z");
        assert_eq!(col_letters(26), "AA");
        assert_eq!(sheet_name("a/b:c"), "abc");
        assert_eq!(header_note(&MEMBERS.columns[0], "zh-CN").as_deref(), Some("必填"));
        assert_eq!(
            header_note(&MEMBERS.columns[1], "en").as_deref(),
            Some(MEMBERS.columns[1].note_en)
        );
    }
}
