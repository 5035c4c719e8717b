//! Division import (SPEC C1): the project's own layout (`code,name,level,parent_code,
//! urban_rural_code,lng_gcj02,lat_gcj02,…`, as in `data/datong/divisions.csv`) and the national
//! statistical table layout (`provinces`/`cities`/`areas`/`streets`/`villages` files with
//! `code,name,…Code` columns). Headers may also be written in Chinese (区划代码, 名称, 级别, 上级代码,
//! 城乡分类代码, 经度, 纬度).
//!
//! The flow is read → [`plan`] (a dry run that changes nothing) → [`apply`] (one transaction,
//! refused while the plan has errors). Codes are stable identifiers: a code missing from a
//! re-import is *retired* (when the import is told to retire missing codes), never deleted, and a retired code that comes back under another name
//! is an error rather than a silent reuse.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use diesel::prelude::*;
use ringline_core::division::{DivisionCode, Level, check_level};
use ringline_core::geo::{Crs, LonLat, in_china, to_wgs84};
use serde::Serialize;

use super::Issue;
use super::table::{ReadError, Table, read_table};
use crate::db::schema::{division_history, divisions};
use crate::db::{DbConn, DbError, DbResult, now, prefix_end};
use crate::divisions::{ACTIVE, DivisionRow, RETIRED};

/// NBS urban-rural class codes (城乡分类代码), 2009 rules as used in the 2016 table.
pub const URBAN_RURAL_CODES: [&str; 7] = ["111", "112", "121", "122", "123", "210", "220"];

/// Options of one import.
#[derive(Debug, Clone)]
pub struct Options {
    /// Coordinate system of coordinate columns whose header does not name one.
    pub crs: Crs,
    /// Only rows whose code starts with these digits.
    pub only: Option<String>,
    /// Read the national table's parent files (streets, areas) next to a villages/streets file.
    pub with_parents: bool,
    /// Retire the stored codes that the import covers but does not list. Off by default: a file
    /// that lists only some villages must not retire the others by accident.
    pub retire_missing: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            crs: Crs::Wgs84,
            only: None,
            with_parents: true,
            retire_missing: false,
        }
    }
}

/// A validated incoming division.
#[derive(Debug, Clone)]
pub struct Incoming {
    /// Code.
    pub code: DivisionCode,
    /// Name.
    pub name: String,
    /// Level (from the code, checked against a level column when there is one).
    pub level: Level,
    /// Parent code (from the code, checked against a parent column).
    pub parent: Option<DivisionCode>,
    /// Urban-rural class code.
    pub urban_rural_code: Option<String>,
    /// Point in WGS-84.
    pub point: Option<LonLat>,
    /// Where it came from.
    pub file: String,
    /// Line in that file.
    pub line: usize,
}

/// Why an import could not even be read.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file could not be read as a table.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// The `--only` prefix is not 1–12 digits.
    #[error("--only must be 1 to 12 digits of a division code, not {0:?}")]
    BadPrefix(String),
    /// Database failure.
    #[error(transparent)]
    Db(#[from] DbError),
    /// The plan has errors, so nothing was written.
    #[error("the input has {0} error(s); nothing was written")]
    Invalid(usize),
    /// The divisions the plan covers changed after it was made (another import wrote them
    /// meanwhile), so nothing was written: plan again.
    #[error(
        "another import changed these divisions after they were checked; nothing was written — run the import again"
    )]
    Changed,
}

/// A file that was read, with its row count.
#[derive(Debug, Clone, Serialize)]
pub struct FileRead {
    /// File name.
    pub file: String,
    /// Data rows read (before `--only`).
    pub rows: usize,
    /// Rows kept after `--only`.
    pub kept: usize,
    /// Detected text encoding.
    pub encoding: Option<String>,
}

/// A planned rename.
#[derive(Debug, Clone, Serialize)]
pub struct Rename {
    /// Code.
    pub code: String,
    /// Stored name.
    pub old_name: String,
    /// Name in the file.
    pub new_name: String,
}

/// The outcome of a dry run: what would change, and every error found.
#[derive(Debug, Default, Serialize)]
pub struct Plan {
    /// Files read.
    pub files: Vec<FileRead>,
    /// The subtree prefix the import covers (codes outside it are never retired).
    pub coverage: String,
    /// Levels present in the input.
    pub levels: Vec<String>,
    /// Codes that would be added.
    #[serde(skip)]
    pub new: Vec<Incoming>,
    /// Renames.
    pub renamed: Vec<Rename>,
    /// Codes whose other fields (parent, class, point) change.
    #[serde(skip)]
    pub updated: Vec<Incoming>,
    /// Count of rows identical to what is stored.
    pub unchanged: usize,
    /// Stored active codes in the covered subtree and levels that the input does not list.
    pub missing: Vec<Rename>,
    /// The codes this plan retires: `missing` when the import retires missing codes, else none.
    pub retired: Vec<Rename>,
    /// Retired codes the input lists again under the same name.
    #[serde(skip)]
    pub reinstated: Vec<Incoming>,
    /// What the records hold on each `missing` code that anything names (members,
    /// organizations, units, income …): retiring such a code keeps the records, readable, but
    /// attaches nothing new to it, and it leaves every summary.
    pub holdings: std::collections::BTreeMap<String, crate::divisions::Holdings>,
    /// Errors; a plan with errors cannot be applied.
    pub errors: Vec<Issue>,
    /// Warnings (applied anyway).
    pub warnings: Vec<Issue>,
    /// Parents outside the covered subtree that the plan looked up.
    #[serde(skip)]
    outside_parents: Vec<String>,
    /// A hash of the stored rows the plan was made against (the covered subtree and the
    /// parents outside it, see [`stored_state`]); [`apply`] writes only while they are the same.
    #[serde(skip)]
    stored_state: u64,
}

/// Counts of a plan, as printed and returned by the API.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct Counts {
    /// Rows read (after `--only`).
    pub rows: usize,
    /// New codes.
    pub new: usize,
    /// Renamed codes.
    pub renamed: usize,
    /// Codes with other changes.
    pub updated: usize,
    /// Unchanged codes.
    pub unchanged: usize,
    /// Covered codes the input does not list.
    pub missing: usize,
    /// Codes to retire.
    pub retired: usize,
    /// Codes to reinstate.
    pub reinstated: usize,
    /// Errors.
    pub errors: usize,
    /// Warnings.
    pub warnings: usize,
}

impl Plan {
    /// The counts.
    pub fn counts(&self) -> Counts {
        Counts {
            rows: self.files.iter().map(|f| f.kept).sum(),
            new: self.new.len(),
            renamed: self.renamed.len(),
            updated: self.updated.len(),
            unchanged: self.unchanged,
            missing: self.missing.len(),
            retired: self.retired.len(),
            reinstated: self.reinstated.len(),
            errors: self.errors.len(),
            warnings: self.warnings.len(),
        }
    }
}

/// Column positions found in a header.
struct Columns {
    code: usize,
    name: usize,
    level: Option<usize>,
    parent: Option<usize>,
    urban_rural: Option<usize>,
    lon: Option<(usize, Crs)>,
    lat: Option<usize>,
}

const CODE: &[&str] = &["code", "区划代码", "统计用区划代码", "代码"];
const NAME: &[&str] = &["name", "名称", "区划名称"];
const LEVEL: &[&str] = &["level", "级别", "层级"];
const PARENT: &[&str] = &["parent_code", "parent", "上级代码", "上级区划代码"];
/// National table parent columns, nearest parent first.
const NATIONAL_PARENTS: &[&str] = &["streetCode", "areaCode", "cityCode", "provinceCode"];
const URBAN_RURAL: &[&str] = &["urban_rural_code", "城乡分类代码", "城乡分类"];

fn find_columns(t: &Table, opts: &Options, issues: &mut Vec<Issue>) -> Option<Columns> {
    let missing = |what: &str, names: &[&str]| Issue {
        file: t.file.clone(),
        sheet: t.sheet.clone(),
        line: 1,
        column: String::new(),
        value: String::new(),
        key: "header-missing-column".into(),
        message: format!(
            "the header has no {what} column (expected one of: {}); found: {}",
            names.join(", "),
            t.headers.join(", ")
        ),
        ..Default::default()
    };
    let code = t.column(CODE);
    let name = t.column(NAME);
    if code.is_none() {
        issues.push(missing("code", CODE));
    }
    if name.is_none() {
        issues.push(missing("name", NAME));
    }
    let parent = t
        .column(PARENT)
        .or_else(|| NATIONAL_PARENTS.iter().find_map(|p| t.column(&[p])));
    let mut lon = None;
    let mut lat = None;
    let mut systems = Vec::new();
    for (suffix, crs) in [("gcj02", Crs::Gcj02), ("bd09", Crs::Bd09), ("wgs84", Crs::Wgs84)] {
        let lo = t.column(&[&format!("lng_{suffix}"), &format!("lon_{suffix}")]);
        let la = t.column(&[&format!("lat_{suffix}")]);
        if lo.is_some() || la.is_some() {
            systems.push(suffix);
            if lon.is_none() && lat.is_none() {
                lon = lo.map(|i| (i, crs));
                lat = la;
            }
        }
    }
    if systems.len() > 1 {
        issues.push(Issue {
            file: t.file.clone(),
            sheet: t.sheet.clone(),
            line: 1,
            column: String::new(),
            value: String::new(),
            key: "header-several-coordinate-systems".into(),
            message: format!(
                "the header has coordinate columns in several systems ({}); keep one pair of longitude/latitude columns",
                systems.join(", ")
            ),
            ..Default::default()
        });
        return None;
    }
    if lon.is_none() && lat.is_none() {
        lon = t.column(&["lng", "lon", "longitude", "经度"]).map(|i| (i, opts.crs));
        lat = t.column(&["lat", "latitude", "纬度"]);
    }
    if lon.is_some() != lat.is_some() {
        issues.push(Issue {
            file: t.file.clone(),
            sheet: t.sheet.clone(),
            line: 1,
            column: String::new(),
            value: String::new(),
            key: "header-coordinates-unpaired".into(),
            message: "the header has a longitude column without a latitude column or the reverse".into(),
            ..Default::default()
        });
        return None;
    }
    Some(Columns {
        code: code?,
        name: name?,
        level: t.column(LEVEL),
        parent,
        urban_rural: t.column(URBAN_RURAL),
        lon,
        lat,
    })
}

/// What [`read`] found: valid rows, the files read, and row-level problems.
#[derive(Debug, Default)]
pub struct ReadResult {
    /// Valid rows.
    pub incoming: Vec<Incoming>,
    /// Files read.
    pub files: Vec<FileRead>,
    /// Problems, each with its place.
    pub issues: Vec<Issue>,
}

/// Reads `path` (and, for national-table files, the parent-level files next to it) into
/// validated rows. Row-level problems are returned as issues; only unreadable files fail.
pub fn read(path: &Path, opts: &Options) -> Result<ReadResult, ImportError> {
    if let Some(p) = &opts.only
        && (p.is_empty() || p.len() > 12 || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(ImportError::BadPrefix(p.clone()));
    }
    let mut files = vec![path.to_path_buf()];
    if opts.with_parents {
        files.extend(national_parent_files(path));
    }
    let mut incoming = Vec::new();
    let mut reads = Vec::new();
    let mut issues = Vec::new();
    for f in files {
        let table = read_table(&f)?;
        reads.push(read_rows(&table, opts, &mut incoming, &mut issues));
    }
    Ok(ReadResult {
        incoming,
        files: reads,
        issues,
    })
}

/// For a national table file (`villages.*`, `streets.*`, `areas.*`, `cities.*`), the
/// parent-level files beside it that exist, down to the provinces: villages → streets, areas,
/// cities, provinces; streets → areas, cities, provinces; and so on.
fn national_parent_files(path: &Path) -> Vec<PathBuf> {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return Vec::new();
    };
    let Some((stem, ext)) = name.split_once('.') else {
        return Vec::new();
    };
    let parents: &[&str] = match stem {
        "villages" => &["streets", "areas", "cities", "provinces"],
        "streets" => &["areas", "cities", "provinces"],
        "areas" => &["cities", "provinces"],
        "cities" => &["provinces"],
        _ => &[],
    };
    parents
        .iter()
        .map(|p| path.with_file_name(format!("{p}.{ext}")))
        .filter(|p| p.exists())
        .collect()
}

/// Validates the rows of one table, appending valid rows to `out` and problems to `issues`.
pub fn read_rows(t: &Table, opts: &Options, out: &mut Vec<Incoming>, issues: &mut Vec<Issue>) -> FileRead {
    let kept = match find_columns(t, opts, issues) {
        Some(cols) => read_rows_with(t, &cols, opts, out, issues),
        None => 0,
    };
    FileRead {
        file: t.file.clone(),
        rows: t.rows.len(),
        kept,
        encoding: t.encoding.map(str::to_string),
    }
}

/// Validates rows; returns how many passed the `--only` filter (valid or not).
fn read_rows_with(
    t: &Table,
    cols: &Columns,
    opts: &Options,
    out: &mut Vec<Incoming>,
    issues: &mut Vec<Issue>,
) -> usize {
    let mut kept = 0;
    for row in &t.rows {
        let issue = |column: usize, key: &str, message: String| Issue {
            file: t.file.clone(),
            sheet: t.sheet.clone(),
            line: row.line,
            column: t.headers.get(column).cloned().unwrap_or_default(),
            value: super::shorten(row.get(column), 200),
            key: key.to_string(),
            message: super::shorten(&message, 500),
            ..Default::default()
        };
        let raw_code = row.get(cols.code);
        if let Some(p) = &opts.only {
            // Compare on the normalised code so full-width digits or short national codes
            // are filtered the same way.
            let padded = DivisionCode::parse(raw_code).map(|c| c.as_str().to_string());
            let c = padded.as_deref().unwrap_or(raw_code);
            if !c.starts_with(p.as_str()) {
                continue;
            }
        }
        kept += 1;
        let code = match DivisionCode::parse(raw_code) {
            Ok(c) => c,
            Err(e) => {
                issues.push(issue(cols.code, e.key(), e.to_string()));
                continue;
            }
        };
        let mut ok = true;
        let name = match ringline_core::text::check_name(row.get(cols.name), 100) {
            Ok(n) => n,
            Err(e) => {
                issues.push(issue(cols.name, e.key(), e.to_string()));
                ok = false;
                String::new()
            }
        };
        let level = code.level();
        if let Some(i) = cols.level {
            let declared = row.get(i);
            match declared.parse::<Level>() {
                Ok(l) => {
                    if let Err(e) = check_level(&code, l) {
                        issues.push(issue(i, e.key(), e.to_string()));
                        ok = false;
                    }
                }
                Err(_) => {
                    issues.push(issue(
                        i,
                        "level-unknown",
                        format!("unknown level {declared:?}; use province, city, county, town or village"),
                    ));
                    ok = false;
                }
            }
        }
        let parent = code.parent();
        if let Some(i) = cols.parent {
            let given = row.get(i);
            if !given.is_empty() {
                match DivisionCode::parse(given) {
                    Ok(g) if Some(&g) == parent.as_ref() => {}
                    // The national table lists a city without counties (东莞市 4419) once more
                    // as its own county (441900, parent 4419): the same node.
                    Ok(g) if g == code => {}
                    Ok(_) | Err(_) => {
                        issues.push(issue(
                            i,
                            "parent-contradicts-code",
                            format!(
                                "parent code {given} contradicts code {code}, whose parent is {}",
                                parent.as_ref().map(|p| p.as_str()).unwrap_or("(none)")
                            ),
                        ));
                        ok = false;
                    }
                }
            }
        }
        let urban_rural_code = match cols.urban_rural.map(|i| (i, row.get(i))) {
            Some((_, "")) | None => None,
            Some((i, v)) => {
                if URBAN_RURAL_CODES.contains(&v) {
                    Some(v.to_string())
                } else {
                    issues.push(issue(
                        i,
                        "urban-rural-code-invalid",
                        format!(
                            "urban-rural class code {v:?} is not one of {}",
                            URBAN_RURAL_CODES.join(", ")
                        ),
                    ));
                    ok = false;
                    None
                }
            }
        };
        let mut point = None;
        if let (Some((lon_i, crs)), Some(lat_i)) = (cols.lon, cols.lat) {
            let (lo, la) = (row.get(lon_i), row.get(lat_i));
            match (lo.is_empty(), la.is_empty()) {
                (true, true) => {}
                (false, false) => {
                    let num = |v: &str| v.parse::<f64>().ok().filter(|x| x.is_finite());
                    match (num(lo), num(la)) {
                        (Some(lon), Some(lat)) => {
                            let p = LonLat { lon, lat };
                            if in_china(p) {
                                point = Some(to_wgs84(crs, p));
                            } else {
                                issues.push(issue(
                                    lon_i,
                                    "point-outside-china",
                                    format!(
                                        "the point ({lon}, {lat}) lies outside China (longitude 73.4–135.1, latitude 18.1–53.6); check that longitude and latitude are not swapped"
                                    ),
                                ));
                                ok = false;
                            }
                        }
                        (None, _) => {
                            issues.push(issue(
                                lon_i,
                                "point-not-number",
                                format!("longitude {lo:?} is not a number"),
                            ));
                            ok = false;
                        }
                        (_, None) => {
                            issues.push(issue(
                                lat_i,
                                "point-not-number",
                                format!("latitude {la:?} is not a number"),
                            ));
                            ok = false;
                        }
                    }
                }
                _ => {
                    issues.push(issue(
                        if lo.is_empty() { lon_i } else { lat_i },
                        "point-half-empty",
                        "give both longitude and latitude, or neither".into(),
                    ));
                    ok = false;
                }
            }
        }
        if ok {
            out.push(Incoming {
                code,
                name,
                level,
                parent,
                urban_rural_code,
                point,
                file: t.file.clone(),
                line: row.line,
            });
        }
    }
    kept
}

/// Compares validated rows with the database and returns what an apply would do, with every
/// cross-row error (duplicates, unknown or retired parents, reused retired codes).
/// Changes nothing.
pub fn plan(
    conn: &mut DbConn,
    incoming: Vec<Incoming>,
    files: Vec<FileRead>,
    mut errors: Vec<Issue>,
    opts: &Options,
) -> DbResult<Plan> {
    let mut plan = Plan {
        files,
        ..Default::default()
    };
    // Duplicates inside the input.
    let mut first_seen: HashMap<String, (String, usize, String)> = HashMap::new();
    let mut rows = Vec::with_capacity(incoming.len());
    for inc in incoming {
        match first_seen.get(inc.code.as_str()) {
            // The same code and name again in another file (the national table repeats a city
            // without counties as a county, and 金门县 on every level): the same unit, kept once.
            // Within one file a repeated code is an error.
            Some((file, line, name)) if *name == inc.name && *file != inc.file => plan.warnings.push(Issue {
                file: inc.file.clone(),
                sheet: None,
                line: inc.line,
                column: "code".into(),
                value: inc.code.to_string(),
                key: "code-repeated".into(),
                message: format!(
                    "code {} ({}) is listed again; first at {file}, line {line}; kept once",
                    inc.code, inc.name
                ),
                ..Default::default()
            }),
            Some((file, line, _)) => errors.push(Issue {
                file: inc.file.clone(),
                sheet: None,
                line: inc.line,
                column: "code".into(),
                value: inc.code.to_string(),
                key: "code-duplicate".into(),
                message: format!("code {} appears twice; first at {file}, line {line}", inc.code),
                ..Default::default()
            }),
            None => {
                first_seen.insert(inc.code.to_string(), (inc.file.clone(), inc.line, inc.name.clone()));
                rows.push(inc);
            }
        }
    }
    // Coverage: the --only prefix, else the longest level-aligned prefix shared by all codes.
    let coverage = match &opts.only {
        Some(p) => p.clone(),
        None => common_level_prefix(rows.iter().map(|r| r.code.as_str())),
    };
    let mut levels: Vec<Level> = rows
        .iter()
        .map(|r| r.level)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    levels.sort_by_key(|l| l.depth());
    plan.levels = levels.iter().map(|l| l.as_str().to_string()).collect();
    plan.coverage = coverage.clone();

    // Stored rows in the covered subtree.
    let mut q = divisions::table
        .into_boxed()
        .filter(divisions::code.ge(coverage.clone()));
    if let Some(end) = prefix_end(&coverage) {
        q = q.filter(divisions::code.lt(end));
    }
    let stored: Vec<DivisionRow> = q.select(DivisionRow::as_select()).load(conn)?;
    let stored: HashMap<String, DivisionRow> = stored.into_iter().map(|r| (r.code.clone(), r)).collect();

    // Parents outside the covered subtree (e.g. the city of a county) are looked up one by one.
    let incoming_codes: HashSet<String> = rows.iter().map(|r| r.code.to_string()).collect();
    let mut outside_parents: HashMap<String, Option<DivisionRow>> = HashMap::new();
    for r in &rows {
        if let Some(p) = &r.parent
            && !incoming_codes.contains(p.as_str())
            && !stored.contains_key(p.as_str())
            && !outside_parents.contains_key(p.as_str())
        {
            let found = divisions::table
                .find(p.as_str())
                .select(DivisionRow::as_select())
                .first(conn)
                .optional()?;
            outside_parents.insert(p.to_string(), found);
        }
    }

    plan.outside_parents = outside_parents.keys().cloned().collect();
    plan.outside_parents.sort();
    let mut in_order: Vec<&DivisionRow> = stored.values().collect();
    in_order.sort_by(|a, b| a.code.cmp(&b.code));
    let outside: Vec<(&str, Option<&DivisionRow>)> = plan
        .outside_parents
        .iter()
        .map(|c| (c.as_str(), outside_parents.get(c).and_then(Option::as_ref)))
        .collect();
    plan.stored_state = state_hash(in_order.into_iter(), outside.into_iter());

    // Counties and cities whose parent is neither in the input nor stored: imported, with one
    // warning per missing parent (the tree above them stays incomplete).
    let mut orphans: std::collections::BTreeMap<String, Vec<(String, Level, String, usize)>> =
        std::collections::BTreeMap::new();
    for r in rows {
        if let (Some(p), true) = (&r.parent, matches!(r.level, Level::County | Level::City))
            && !incoming_codes.contains(p.as_str())
            && !stored.contains_key(p.as_str())
            && outside_parents.get(p.as_str()).is_none_or(Option::is_none)
        {
            orphans
                .entry(p.to_string())
                .or_default()
                .push((r.code.to_string(), r.level, r.file.clone(), r.line));
        }
        let issue = |key: &str, column: &str, value: String, message: String| Issue {
            file: r.file.clone(),
            sheet: None,
            line: r.line,
            column: column.into(),
            value,
            key: key.into(),
            message,
            ..Default::default()
        };
        // Towns and villages need their parent, in the input or stored and active.
        if let (Some(p), true) = (&r.parent, matches!(r.level, Level::Town | Level::Village)) {
            let parent_row = stored
                .get(p.as_str())
                .or_else(|| outside_parents.get(p.as_str()).and_then(Option::as_ref));
            if !incoming_codes.contains(p.as_str()) {
                match parent_row {
                    None => errors.push(issue(
                        "parent-unknown",
                        "code",
                        r.code.to_string(),
                        format!(
                            "the parent {p} of {} is neither in the file nor in the database; import the parent level first or include it",
                            r.code
                        ),
                    )),
                    Some(pr) if pr.status == RETIRED => errors.push(issue(
                        "parent-retired",
                        "code",
                        r.code.to_string(),
                        format!("the parent {p} ({}) is retired", pr.name),
                    )),
                    Some(_) => {}
                }
            }
        }
        match stored.get(r.code.as_str()) {
            None => plan.new.push(r),
            Some(s) if s.status == RETIRED => {
                if s.name == r.name {
                    plan.warnings.push(issue(
                        "code-reinstated",
                        "code",
                        r.code.to_string(),
                        format!(
                            "code {} ({}) was retired and is listed again; it will be reinstated",
                            r.code, r.name
                        ),
                    ));
                    plan.reinstated.push(r);
                } else {
                    errors.push(issue(
                        "code-reused",
                        "code",
                        r.code.to_string(),
                        format!(
                            "code {} was retired as {:?} and is listed again as {:?}; NBS codes are never reused for another unit — check the code",
                            r.code, s.name, r.name
                        ),
                    ));
                }
            }
            Some(s) => {
                let point_changed = r.point.is_some_and(|p| Some(p.lon) != s.lon || Some(p.lat) != s.lat);
                let class_changed = r.urban_rural_code.is_some() && r.urban_rural_code != s.urban_rural_code;
                let parent_changed = r.parent.as_ref().map(|p| p.to_string()) != s.parent_code;
                if s.name != r.name {
                    plan.renamed.push(Rename {
                        code: r.code.to_string(),
                        old_name: s.name.clone(),
                        new_name: r.name.clone(),
                    });
                    if point_changed || class_changed || parent_changed {
                        plan.updated.push(r);
                    }
                } else if point_changed || class_changed || parent_changed {
                    plan.updated.push(r);
                } else {
                    plan.unchanged += 1;
                }
            }
        }
    }
    for (parent, children) in orphans {
        let (first, level, file, line) = &children[0];
        let parent_level = DivisionCode::parse(&parent)
            .map(|c| c.level().as_str().to_string())
            .unwrap_or_default();
        plan.warnings.push(Issue {
            file: file.clone(),
            sheet: None,
            line: *line,
            column: "code".into(),
            value: first.clone(),
            key: "parent-missing".into(),
            message: format!(
                "the {parent_level} {parent} of {} {} in the file ({first}{}) is neither in the file nor stored: they are imported without it and the tree above them stays incomplete; import it too (the national table's cities and provinces files beside this one, or a wider --only)",
                children.len(),
                match (level, children.len()) {
                    (Level::City, 1) => "city",
                    (Level::City, _) => "cities",
                    (_, 1) => "county",
                    _ => "counties",
                },
                if children.len() > 1 { ", …" } else { "" }
            ),
            ..Default::default()
        });
    }
    // Retire stored active codes at the input's levels that the input no longer lists.
    let level_names: HashSet<&str> = levels.iter().map(|l| l.as_str()).collect();
    let mut retired: Vec<Rename> = stored
        .values()
        .filter(|s| {
            s.status == ACTIVE && level_names.contains(s.level.as_str()) && !incoming_codes.contains(s.code.as_str())
        })
        .map(|s| Rename {
            code: s.code.clone(),
            old_name: s.name.clone(),
            new_name: String::new(),
        })
        .collect();
    retired.sort_by(|a, b| a.code.cmp(&b.code));
    // Retiring a large share of what the import covers usually means an incomplete file.
    let covered_active = stored
        .values()
        .filter(|s| s.status == ACTIVE && level_names.contains(s.level.as_str()))
        .count();
    if opts.retire_missing && retired.len() >= 10 && retired.len() * 5 > covered_active {
        plan.warnings.push(Issue {
            file: plan.files.first().map(|f| f.file.clone()).unwrap_or_default(),
            sheet: None,
            line: 0,
            column: String::new(),
            value: String::new(),
            key: "many-retirements".into(),
            message: format!(
                "this import would retire {} of the {} stored codes it covers (under {:?}); codes missing from the file are retired — check that the file is complete, or narrow it with --only",
                retired.len(),
                covered_active,
                if coverage.is_empty() { "(all)" } else { coverage.as_str() }
            ),
            ..Default::default()
        });
    }
    let missing_codes: Vec<String> = retired.iter().map(|r| r.code.clone()).collect();
    plan.holdings = crate::divisions::holdings(conn, &missing_codes)?;
    if opts.retire_missing {
        for r in &retired {
            if let Some(h) = plan.holdings.get(&r.code) {
                plan.warnings.push(Issue {
                    file: plan.files.first().map(|f| f.file.clone()).unwrap_or_default(),
                    sheet: None,
                    line: 0,
                    column: "code".into(),
                    value: r.code.clone(),
                    key: "retired-in-use".into(),
                    message: format!(
                        "{} ({}) will be retired while records name it: {}; they are kept and stay readable, but nothing new can be recorded for it and it leaves every summary — move them to the code that replaces it",
                        r.code,
                        r.old_name,
                        h.describe()
                    ),
                    ..Default::default()
                });
            }
        }
        plan.retired = retired.clone();
    }
    plan.missing = retired;
    errors.sort_by(|a, b| (a.file.as_str(), a.line).cmp(&(b.file.as_str(), b.line)));
    plan.errors = errors;
    Ok(plan)
}

/// The longest prefix shared by all `codes`, cut back to a level boundary (2, 4, 6 or 9 digits,
/// or all 12); `""` when they share none.
fn common_level_prefix<'a>(mut codes: impl Iterator<Item = &'a str>) -> String {
    let Some(first) = codes.next() else {
        return String::new();
    };
    let mut len = first.len();
    for c in codes {
        len = first
            .bytes()
            .zip(c.bytes())
            .take(len)
            .take_while(|(a, b)| a == b)
            .count();
    }
    let aligned = [12, 9, 6, 4, 2, 0].into_iter().find(|&b| b <= len).unwrap_or(0);
    first[..aligned].to_string()
}

/// New division row for inserts.
#[derive(Insertable)]
#[diesel(table_name = divisions)]
struct NewDivision<'a> {
    code: &'a str,
    name: &'a str,
    level: &'a str,
    parent_code: Option<&'a str>,
    urban_rural_code: Option<&'a str>,
    lon: Option<f64>,
    lat: Option<f64>,
    status: &'a str,
    created_at: chrono::NaiveDateTime,
    updated_at: chrono::NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = division_history)]
struct NewHistory<'a> {
    code: &'a str,
    event: &'a str,
    old_name: Option<&'a str>,
    new_name: Option<&'a str>,
    source: &'a str,
    at: chrono::NaiveDateTime,
}

/// A hash of stored division rows (`rows` in code order, then the parents outside the subtree by
/// code, each found or not): every column an import reads or writes, and `updated_at`.
fn state_hash<'a>(
    rows: impl Iterator<Item = &'a DivisionRow>,
    outside: impl Iterator<Item = (&'a str, Option<&'a DivisionRow>)>,
) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::hash::DefaultHasher::new();
    let row = |r: &DivisionRow, h: &mut std::hash::DefaultHasher| {
        (
            &r.code,
            &r.name,
            &r.level,
            &r.parent_code,
            &r.urban_rural_code,
            &r.status,
        )
            .hash(h);
        (
            r.lon.map(f64::to_bits),
            r.lat.map(f64::to_bits),
            r.updated_at,
            r.retired_at,
        )
            .hash(h);
    };
    for r in rows {
        row(r, &mut h);
    }
    for (code, found) in outside {
        code.hash(&mut h);
        match found {
            Some(r) => row(r, &mut h),
            None => 0u8.hash(&mut h),
        }
    }
    h.finish()
}

/// [`state_hash`] of what is stored now under `coverage` and for the `outside` parents.
fn stored_state(conn: &mut DbConn, coverage: &str, outside: &[String]) -> DbResult<u64> {
    let mut q = divisions::table
        .into_boxed()
        .filter(divisions::code.ge(coverage.to_string()));
    if let Some(end) = prefix_end(coverage) {
        q = q.filter(divisions::code.lt(end));
    }
    let rows: Vec<DivisionRow> = q
        .order(divisions::code.asc())
        .select(DivisionRow::as_select())
        .load(conn)?;
    let mut parents = Vec::with_capacity(outside.len());
    for code in outside {
        let found = divisions::table
            .find(code.as_str())
            .select(DivisionRow::as_select())
            .first(conn)
            .optional()?;
        parents.push((code.as_str(), found));
    }
    Ok(state_hash(rows.iter(), parents.iter().map(|(c, r)| (*c, r.as_ref()))))
}

/// Rows per multi-row INSERT: 10 columns × 1,000 stays under both backends' bind limits.
const CHUNK: usize = 1000;

/// Applies a plan in one transaction, then recomputes zone membership. Refuses a plan with
/// errors. `source` names the input in the history (usually the file name).
/// `progress` is called with (rows done, rows total) as rows are written.
///
/// Division imports wait for each other ([`crate::db::lock_writers`]); once it is this one's
/// turn, the stored divisions the plan was made against are read again, and when another
/// import changed them meanwhile nothing is written: [`ImportError::Changed`].
pub fn apply(
    conn: &mut DbConn,
    who: &crate::access::Access,
    plan: &Plan,
    source: &str,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<(), ImportError> {
    if !plan.errors.is_empty() {
        return Err(ImportError::Invalid(plan.errors.len()));
    }
    let at = now();
    let total = plan.new.len() + plan.renamed.len() + plan.updated.len() + plan.retired.len() + plan.reinstated.len();
    let written = crate::db::write_transaction::<_, ImportError, _>(conn, |conn| {
        crate::db::lock_writers(conn, "divisions", crate::db::WriteArea::Everywhere)?;
        if stored_state(conn, &plan.coverage, &plan.outside_parents)? != plan.stored_state {
            return Err(ImportError::Changed);
        }
        let mut done = 0;
        for chunk in plan.new.chunks(CHUNK) {
            let rows: Vec<NewDivision> = chunk
                .iter()
                .map(|r| NewDivision {
                    code: r.code.as_str(),
                    name: &r.name,
                    level: r.level.as_str(),
                    parent_code: r.parent.as_ref().map(|p| p.as_str()),
                    urban_rural_code: r.urban_rural_code.as_deref(),
                    lon: r.point.map(|p| p.lon),
                    lat: r.point.map(|p| p.lat),
                    status: ACTIVE,
                    created_at: at,
                    updated_at: at,
                })
                .collect();
            crate::insert_rows!(&mut *conn, divisions::table, &rows, CHUNK);
            let hist: Vec<NewHistory> = chunk
                .iter()
                .map(|r| NewHistory {
                    code: r.code.as_str(),
                    event: "created",
                    old_name: None,
                    new_name: Some(&r.name),
                    source,
                    at,
                })
                .collect();
            crate::insert_rows!(&mut *conn, division_history::table, &hist, CHUNK);
            done += chunk.len();
            progress(done, total);
        }
        for r in &plan.renamed {
            diesel::update(divisions::table.find(&r.code))
                .set((divisions::name.eq(&r.new_name), divisions::updated_at.eq(at)))
                .execute(conn)?;
            diesel::insert_into(division_history::table)
                .values(NewHistory {
                    code: &r.code,
                    event: "renamed",
                    old_name: Some(&r.old_name),
                    new_name: Some(&r.new_name),
                    source,
                    at,
                })
                .execute(conn)?;
            done += 1;
        }
        for r in plan.updated.iter().chain(&plan.reinstated) {
            let current: DivisionRow = divisions::table
                .find(r.code.as_str())
                .select(DivisionRow::as_select())
                .first(conn)?;
            diesel::update(divisions::table.find(r.code.as_str()))
                .set((
                    divisions::parent_code.eq(r.parent.as_ref().map(|p| p.to_string())),
                    divisions::urban_rural_code.eq(r.urban_rural_code.clone().or(current.urban_rural_code)),
                    divisions::lon.eq(r.point.map(|p| p.lon).or(current.lon)),
                    divisions::lat.eq(r.point.map(|p| p.lat).or(current.lat)),
                    divisions::status.eq(ACTIVE),
                    divisions::retired_at.eq(None::<chrono::NaiveDateTime>),
                    divisions::updated_at.eq(at),
                ))
                .execute(conn)?;
            let event = if current.status == RETIRED {
                "reinstated"
            } else {
                "updated"
            };
            diesel::insert_into(division_history::table)
                .values(NewHistory {
                    code: r.code.as_str(),
                    event,
                    old_name: Some(&current.name),
                    new_name: Some(&r.name),
                    source,
                    at,
                })
                .execute(conn)?;
            done += 1;
        }
        for r in &plan.retired {
            diesel::update(divisions::table.find(&r.code))
                .set((
                    divisions::status.eq(RETIRED),
                    divisions::retired_at.eq(Some(at)),
                    divisions::updated_at.eq(at),
                ))
                .execute(conn)?;
            diesel::insert_into(division_history::table)
                .values(NewHistory {
                    code: &r.code,
                    event: "retired",
                    old_name: Some(&r.old_name),
                    new_name: None,
                    source,
                    at,
                })
                .execute(conn)?;
            done += 1;
        }
        progress(done, total);
        crate::zones::recompute_all(conn)?;
        // Per-record before/after lives in division_history; the audit entry points to it.
        let c = plan.counts();
        crate::audit::record(
            conn,
            who,
            crate::audit::Change {
                action: "import",
                entity: "division",
                entity_id: if plan.coverage.is_empty() { "*" } else { &plan.coverage },
                after: Some(serde_json::json!(c)),
                scope: plan.coverage.clone(),
                detail: format!(
                    "{source}: {} new, {} renamed, {} updated, {} retired, {} reinstated (details in the division history)",
                    c.new, c.renamed, c.updated, c.retired, c.reinstated
                ),
                ..Default::default()
            },
        )?;
        Ok(())
    });
    match written {
        // A code taken by a writer outside the lock at the same moment.
        Err(ImportError::Db(e)) if e.is_conflict() => Err(ImportError::Changed),
        other => other,
    }
}

/// Reads, plans and (when `write`) applies an import of `path` in one call.
pub fn import_file(conn: &mut DbConn, path: &Path, opts: &Options, write: bool) -> Result<Plan, ImportError> {
    let r = read(path, opts)?;
    let plan = plan(conn, r.incoming, r.files, r.issues, opts)?;
    if write {
        let source = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("import")
            .to_string();
        apply(conn, &crate::access::Access::system(), &plan, &source, &mut |_, _| {})?;
    }
    Ok(plan)
}

impl From<diesel::result::Error> for ImportError {
    fn from(e: diesel::result::Error) -> Self {
        ImportError::Db(DbError::Query(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_prefix_is_level_aligned() {
        let codes = ["630121000000", "630121100000", "630121100202"];
        assert_eq!(common_level_prefix(codes.into_iter()), "630121");
        assert_eq!(
            common_level_prefix(["630121103201", "630121103205"].into_iter()),
            "630121103"
        );
        assert_eq!(common_level_prefix(["110101001001", "630121103205"].into_iter()), "");
        assert_eq!(common_level_prefix(["630121103201"].into_iter()), "630121103201");
    }
}
