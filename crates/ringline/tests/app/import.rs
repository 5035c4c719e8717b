//! Division import through the library, on the test app's database: errors with their place,
//! encodings, XLSX, the national table layout, and re-imports that rename, retire and reinstate.

use std::path::Path;

use ringline::db::DbConn;
use ringline::divisions;
use ringline::import::divisions::{self as imp, ImportError, Options, Plan};
use ringline::import::table::{ReadError, read_table};

use crate::calls;
use crate::datong::{self, DONGXIA};
use crate::harness::{TestApp, fixture, fixture_text, table_counts};

/// Reads and plans `path` (a dry run).
fn plan_file(conn: &mut DbConn, path: &Path, opts: &Options) -> Plan {
    let r = imp::read(path, opts).unwrap_or_else(|e| panic!("{} is readable: {e}", path.display()));
    imp::plan(conn, r.incoming, r.files, r.issues, opts).expect("plan")
}

/// Plans and applies `path`, which must be free of errors, retiring the covered codes the file
/// does not list (`--retire-missing`).
fn apply_file(conn: &mut DbConn, path: &Path) -> Plan {
    let plan = plan_file(
        conn,
        path,
        &Options {
            retire_missing: true,
            ..Options::default()
        },
    );
    assert!(plan.errors.is_empty(), "{:?}", plan.errors);
    calls::apply(conn, &plan, "test").expect("apply");
    plan
}

fn read_error(path: &Path) -> ReadError {
    match imp::read(path, &Options::default()) {
        Err(ImportError::Read(e)) => e,
        Err(e) => panic!("{}: expected a read error, got {e}", path.display()),
        Ok(r) => panic!(
            "{}: expected a read error, read {} rows",
            path.display(),
            r.incoming.len()
        ),
    }
}

/// (event, old name, new name) of a code's history, oldest first.
fn events(conn: &mut DbConn, code: &str) -> Vec<(String, Option<String>, Option<String>)> {
    calls::history(conn, code)
        .into_iter()
        .map(|h| (h.event, h.old_name, h.new_name))
        .collect()
}

fn s(v: &str) -> Option<String> {
    Some(v.to_string())
}

fn zone_counts(conn: &mut DbConn) -> Vec<i64> {
    let pid = calls::program_id(conn);
    calls::zones_of(conn, pid).into_iter().map(|z| z.member_count).collect()
}

async fn bad_rows_are_reported_with_their_place_and_nothing_is_written(app: TestApp) {
    let mut conn = app.conn();
    let before = table_counts(&mut conn);
    let path = fixture("bad_divisions.csv");
    let plan = plan_file(&mut conn, &path, &Options::default());

    // One error per bad row; line numbers as an editor shows them (header = 1, line 3 blank).
    let found: Vec<(usize, &str, &str)> = plan
        .errors
        .iter()
        .map(|e| (e.line, e.column.as_str(), e.key.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            (2, "code", "code-not-digits"),
            (4, "code", "code-wrong-length"),
            (5, "code", "parent-unknown"),
            (7, "code", "code-duplicate"),
            (8, "level", "code-level-mismatch"),
            (9, "parent_code", "parent-contradicts-code"),
            (10, "lng_gcj02", "point-outside-china"),
            (11, "lat_gcj02", "point-half-empty"),
            (12, "urban_rural_code", "urban-rural-code-invalid"),
            (13, "name", "name-empty"),
        ]
    );
    let file = path.display().to_string();
    for e in &plan.errors {
        assert_eq!(e.file, file, "{e}");
        assert_eq!(e.sheet, None);
        assert!(!e.message.is_empty(), "{e:?}");
        let shown = e.to_string();
        assert!(
            shown.starts_with(&file)
                && shown.contains(&format!("line {}", e.line))
                && shown.contains(&format!("column {}", e.column)),
            "{shown}"
        );
    }
    let value_of = |line: usize| plan.errors.iter().find(|e| e.line == line).expect("line").value.clone();
    assert_eq!(value_of(2), "63012110A201");
    assert_eq!(value_of(4), "63012110120");
    assert_eq!(value_of(5), "630121211201");
    assert_eq!(value_of(8), "town");
    assert_eq!(value_of(9), "630121102000");
    assert_eq!(value_of(12), "999");
    let dup = plan.errors.iter().find(|e| e.line == 7).expect("duplicate");
    assert!(
        dup.message.contains("line 6"),
        "points at the first occurrence: {}",
        dup.message
    );
    let unknown = plan.errors.iter().find(|e| e.line == 5).expect("unknown parent");
    assert!(unknown.message.contains("630121211000"), "{}", unknown.message);

    // The file holds 11 data rows on lines 2 and 4–13 (the blank line 3 is not one).
    assert_eq!(plan.files.len(), 1);
    assert_eq!((plan.files[0].rows, plan.files[0].kept), (11, 11));
    assert_eq!(plan.files[0].encoding.as_deref(), Some("UTF-8"));

    match calls::apply(&mut conn, &plan, "bad_divisions.csv") {
        Err(ImportError::Invalid(n)) => assert_eq!(n, 10),
        other => panic!("apply must be refused, got {other:?}"),
    }
    assert_eq!(table_counts(&mut conn), before, "nothing written");
    assert!(calls::division(&mut conn, "630121101290").is_none());
}

async fn apply_is_all_or_nothing(app: TestApp) {
    let mut conn = app.conn();
    let before = table_counts(&mut conn);
    let csv = "code,name,level,parent_code\n\
               630121103290,甲村委会,village,630121103000\n\
               630121103291,乙村委会,village,630121103000\n";
    let path = app.write_file("two_new.csv", csv.as_bytes());
    let mut plan = plan_file(&mut conn, &path, &Options::default());
    assert_eq!(plan.counts().new, 2);
    // Make the last insert fail (the first new row again: a primary-key violation) after the
    // others were written inside the transaction.
    let again = plan.new[0].clone();
    plan.new.push(again);
    let result = calls::apply(&mut conn, &plan, "two_new.csv");
    // A key found taken while writing reads as another writer's doing: check again.
    assert!(matches!(result, Err(ImportError::Changed)), "{result:?}");
    assert_eq!(table_counts(&mut conn), before, "the transaction was rolled back");
    assert!(calls::division(&mut conn, "630121103290").is_none());
    assert_eq!(zone_counts(&mut conn), datong::ZONE_MEMBER_COUNTS);
}

async fn gbk_csv_is_decoded(app: TestApp) {
    let mut conn = app.conn();
    // What Chinese Excel or WPS saves as "CSV": GBK text and Chinese headers. The point is given
    // in GCJ-02 under a header that does not say so, hence `crs: Gcj02`; it is 东峡镇's seat.
    let text = "区划代码,名称,级别,上级代码,城乡分类代码,经度,纬度\r\n\
                630121103290,试验新村村委会,村,630121103000,220,101.809478,37.038057\r\n";
    let (bytes, _, unmappable) = encoding_rs::GBK.encode(text);
    assert!(!unmappable);
    assert!(std::str::from_utf8(&bytes).is_err(), "really not UTF-8");
    let path = app.write_file("gbk.csv", &bytes);
    let opts = Options {
        crs: ringline::core::geo::Crs::Gcj02,
        ..Options::default()
    };
    let plan = plan_file(&mut conn, &path, &opts);
    assert!(plan.errors.is_empty(), "{:?}", plan.errors);
    assert_eq!(plan.files[0].encoding.as_deref(), Some("GB18030"));
    let c = plan.counts();
    assert_eq!(
        (c.rows, c.new, c.renamed, c.updated, c.retired, c.errors),
        (1, 1, 0, 0, 0, 0)
    );
    calls::apply(&mut conn, &plan, "gbk.csv").expect("apply");

    let d = calls::division(&mut conn, "630121103290").expect("stored");
    assert_eq!(d.name, "试验新村村委会");
    assert_eq!(d.parent_name.as_deref(), Some("东峡镇"));
    assert_eq!(d.urban_rural_code.as_deref(), Some("220"));
    assert!(!d.approximate);
    let seat = datong::point_of(DONGXIA);
    assert!((d.lon.expect("lon") - seat.lon).abs() < 1e-9 && (d.lat.expect("lat") - seat.lat).abs() < 1e-9);
    assert_eq!(
        events(&mut conn, "630121103290"),
        [("created".into(), None, s("试验新村村委会"))]
    );
    // Applying recomputed the zones: at 东峡镇's seat it joins the 东峡线 on its own point.
    let mut expected = datong::ZONE_MEMBER_COUNTS;
    expected[1] += 1;
    assert_eq!(zone_counts(&mut conn), expected);
}

async fn unreadable_files_get_a_clear_error(app: TestApp) {
    // UTF-16 with a byte-order mark ("Unicode text" exports).
    let mut utf16 = vec![0xFF, 0xFE];
    for u in "code,name\n630121103290,村\n".encode_utf16() {
        utf16.extend(u.to_le_bytes());
    }
    let path = app.write_file("utf16.csv", &utf16);
    let e = read_error(&path);
    assert!(matches!(e, ReadError::Utf16 { .. }), "{e}");
    assert!(
        e.to_string().contains("utf16.csv") && e.to_string().contains("UTF-8"),
        "{e}"
    );

    // UTF-16 without a byte-order mark.
    let bare: Vec<u8> = utf16[2..].to_vec();
    let path = app.write_file("utf16_bare.csv", &bare);
    assert!(matches!(read_error(&path), ReadError::Utf16 { .. }));

    // Latin-1 (ISO 8859-1): "é" is the byte 0xE9, which GB18030 can only read as the first of two
    // bytes; the space after it cannot be the second, so this is neither UTF-8 nor GBK.
    let mut latin1 = b"code,name\n630121103290,Caf".to_vec();
    let bad_at = latin1.len();
    latin1.extend(b"\xE9 du Village\n");
    let path = app.write_file("latin1.csv", &latin1);
    match read_error(&path) {
        ReadError::Encoding { file, offset } => {
            assert!(file.ends_with("latin1.csv"));
            assert_eq!(offset, bad_at, "the offset of the 0xE9 byte");
        }
        e => panic!("expected an encoding error, got {e}"),
    }
    // 0xFF is never valid in UTF-8 or GB18030.
    let path = app.write_file("ff.csv", b"code,name\n630121103290,\xFF\xFF\n");
    let e = read_error(&path);
    assert!(matches!(e, ReadError::Encoding { .. }), "{e}");
    assert!(e.to_string().contains("neither UTF-8 nor GBK"), "{e}");

    for (name, bytes) in [("empty.csv", &b""[..]), ("blank.csv", b" \r\n\n")] {
        let path = app.write_file(name, bytes);
        assert!(matches!(read_error(&path), ReadError::Empty { .. }), "{name}");
    }
    let path = app.write_file("header_only.csv", b"code,name,level\n");
    assert!(matches!(read_error(&path), ReadError::NoRows { .. }));
    let path = app.write_file("divisions.json", b"{}");
    assert!(matches!(read_error(&path), ReadError::UnknownType { .. }));
    let e = read_error(&app.dir.path().join("missing.csv"));
    assert!(matches!(e, ReadError::Io { .. }), "{e}");
    let path = app.write_file("fake.xlsx", b"code,name\n1,2\n");
    assert!(matches!(read_error(&path), ReadError::Spreadsheet { .. }));

    // A header without a code column: one issue at line 1, and a plan that cannot be applied.
    let mut conn = app.conn();
    let before = table_counts(&mut conn);
    let path = app.write_file("no_code.csv", "id,name,level\n630121103290,村,village\n".as_bytes());
    let plan = plan_file(&mut conn, &path, &Options::default());
    assert_eq!(plan.errors.len(), 1, "{:?}", plan.errors);
    let e = &plan.errors[0];
    assert_eq!((e.key.as_str(), e.line), ("header-missing-column", 1));
    assert!(e.file.ends_with("no_code.csv"));
    assert!(
        e.message.contains("code") && e.message.contains("id, name, level"),
        "{}",
        e.message
    );
    assert!(matches!(
        calls::apply(&mut conn, &plan, "no_code.csv"),
        Err(ImportError::Invalid(1))
    ));
    assert_eq!(table_counts(&mut conn), before);
}

async fn line_numbers_follow_the_file(app: TestApp) {
    // A UTF-8 file with a byte-order mark, Windows line ends, a note that spans two lines (as
    // Excel writes a cell with a line break) and blank lines: the bad row is on line 6.
    let text = "\u{feff}code,name,level,parent_code,note\r\n\
                630121103290,甲村委会,village,630121103000,\"first line\r\nsecond line\"\r\n\
                \r\n\
                630121103291,乙村委会,village,630121103000,\r\n\
                63012110329,丙村委会,village,630121103000,\r\n\
                \r\n";
    let path = app.write_file("lines.csv", text.as_bytes());
    let mut conn = app.conn();
    let plan = plan_file(&mut conn, &path, &Options::default());
    assert_eq!(plan.errors.len(), 1, "{:?}", plan.errors);
    let e = &plan.errors[0];
    assert_eq!(
        (e.line, e.column.as_str(), e.key.as_str()),
        (6, "code", "code-wrong-length")
    );
    assert_eq!(plan.files[0].rows, 3);
    let lines: Vec<usize> = plan.new.iter().map(|r| r.line).collect();
    assert_eq!(lines, [2, 5]);
    assert_eq!(
        plan.new[0].name, "甲村委会",
        "the byte-order mark is not part of the header"
    );
}

/// Writes 东峡镇's rows (the fixture) to an XLSX sheet with codes, parent codes, urban-rural
/// codes and coordinates as numbers, as a spreadsheet user would type them, then a new village.
/// A blank row is left after the header, so data rows start at sheet row 3.
fn write_dongxia_xlsx(path: &Path, extra: &[(f64, &str)]) {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let sheet = wb.add_worksheet();
    sheet.set_name("区划").expect("sheet name");
    let text = fixture_text("datong_dongxia.csv");
    let mut lines = text.lines();
    for (col, h) in lines.next().expect("header").split(',').enumerate() {
        sheet.write_string(0, col as u16, h).expect("header cell");
    }
    let mut row = 2u32;
    for line in lines {
        for (col, cell) in line.split(',').enumerate() {
            if cell.is_empty() {
                continue;
            }
            let col = col as u16;
            match (col, cell.parse::<f64>()) {
                (1 | 2, _) | (_, Err(_)) => sheet.write_string(row, col, cell),
                (_, Ok(n)) => sheet.write_number(row, col, n),
            }
            .expect("cell");
        }
        row += 1;
    }
    for (code, name) in extra {
        sheet.write_number(row, 0, *code).expect("code");
        sheet.write_string(row, 1, *name).expect("name");
        sheet.write_string(row, 2, "village").expect("level");
        sheet.write_number(row, 3, 630121103000.0).expect("parent");
        row += 1;
    }
    wb.save(path).expect("save xlsx");
}

async fn xlsx_with_numeric_codes_is_read(app: TestApp) {
    let path = app.dir.path().join("dongxia.xlsx");
    write_dongxia_xlsx(&path, &[(630121103290.0, "试验新村村委会")]);
    let table = read_table(&path).expect("readable");
    assert_eq!(table.sheet.as_deref(), Some("区划"));
    assert_eq!(table.encoding, None);
    assert_eq!(table.rows.len(), 16);
    // Sheet row numbers: header 1, blank 2, data from 3.
    assert_eq!(table.rows[0].line, 3);
    assert_eq!(table.rows[0].get(0), "630121103000");
    assert_eq!(table.rows[0].get(3), "630121000000");
    assert_eq!(table.rows[2].get(4), "121", "a number typed as 121, not 121.0");
    assert_eq!(table.rows[15].get(0), "630121103290");
    assert_eq!(table.rows[15].line, 18);
    assert!(
        table
            .rows
            .iter()
            .all(|r| r.get(0).len() == 12 && r.get(0).starts_with("630121103"))
    );

    // All of 东峡镇 is there: nothing to retire; the town's point reads back the same number.
    let mut conn = app.conn();
    let plan = plan_file(&mut conn, &path, &Options::default());
    assert!(plan.errors.is_empty(), "{:?}", plan.errors);
    let c = plan.counts();
    assert_eq!(
        (c.rows, c.new, c.unchanged, c.renamed, c.updated, c.retired),
        (16, 1, 15, 0, 0, 0)
    );
    assert_eq!(plan.coverage, "630121103");
    assert_eq!(plan.levels, ["town", "village"]);

    // A bad code in a spreadsheet is reported with the sheet and its row number.
    let path = app.dir.path().join("bad.xlsx");
    write_dongxia_xlsx(&path, &[(63012110329.0, "十一位代码村委会")]);
    let plan = plan_file(&mut conn, &path, &Options::default());
    assert_eq!(plan.errors.len(), 1, "{:?}", plan.errors);
    let e = &plan.errors[0];
    assert_eq!(
        (e.line, e.column.as_str(), e.key.as_str()),
        (18, "code", "code-wrong-length")
    );
    assert_eq!(e.sheet.as_deref(), Some("区划"));
    assert!(e.to_string().contains("[区划], line 18"), "{e}");
}

async fn national_layout_reads_parent_files_and_filters(app: TestApp) {
    let mut conn = app.conn();
    let villages = fixture("national/villages.csv");

    // `--only 6301` keeps both counties of 西宁市 (6301); the parent files beside villages.csv are
    // read too.
    let only = |p: &str| Options {
        only: Some(p.into()),
        ..Options::default()
    };
    let plan = plan_file(&mut conn, &villages, &only("6301"));
    assert!(plan.errors.is_empty(), "{:?}", plan.errors);
    let files: Vec<(String, usize, usize)> = plan
        .files
        .iter()
        .map(|f| {
            let name = Path::new(&f.file)
                .file_name()
                .expect("name")
                .to_string_lossy()
                .to_string();
            (name, f.rows, f.kept)
        })
        .collect();
    assert_eq!(
        files,
        [
            ("villages.csv".to_string(), 6, 6),
            ("streets.csv".to_string(), 2, 2),
            ("areas.csv".to_string(), 2, 2)
        ]
    );
    let c = plan.counts();
    // Datong's county, 东峡镇 and 3 villages are stored with the same names and parents:
    // unchanged. 湟源县, its 城关镇 and 3 communities are new. The import covers all of 6301 at
    // these levels but lists only 1 of Datong's 20 towns and 3 of its 313 villages: the other
    // 19 towns and 310 villages are missing from the file. They are only reported…
    assert_eq!((c.rows, c.new, c.unchanged, c.renamed, c.updated), (10, 5, 5, 0, 0));
    assert_eq!((c.missing, c.retired), (19 + 310, 0));
    assert_eq!(plan.coverage, "6301");
    assert_eq!(plan.levels, ["county", "town", "village"]);
    assert!(plan.missing.iter().all(|r| r.code.starts_with("630121")));
    assert!(
        !plan
            .missing
            .iter()
            .any(|r| r.code == "630121103201" || r.code == DONGXIA)
    );
    // The two counties' city, 西宁市, is neither in the files (no cities file lies beside them)
    // nor stored: one warning names it.
    let w: Vec<(&str, &str)> = plan
        .warnings
        .iter()
        .map(|w| (w.key.as_str(), w.value.as_str()))
        .collect();
    assert_eq!(w, [("parent-missing", "630121000000")], "{:?}", plan.warnings);
    assert!(plan.warnings[0].message.contains("city 630100000000 of 2 counties"));
    // …unless retiring is asked for, and then a warning says how much of the area that is
    // (329 of the 334 stored codes under 6301).
    let retiring = plan_file(
        &mut conn,
        &villages,
        &Options {
            retire_missing: true,
            ..only("6301")
        },
    );
    assert_eq!(retiring.counts().retired, 19 + 310);
    let w: Vec<&str> = retiring.warnings.iter().map(|w| w.key.as_str()).collect();
    assert_eq!(w, ["parent-missing", "many-retirements"]);
    assert!(
        retiring.warnings[1].message.contains("329 of the 334"),
        "{}",
        retiring.warnings[1].message
    );

    // `--only 630123` keeps 湟源县 alone: 5 new rows, nothing of Datong touched.
    let plan = plan_file(&mut conn, &villages, &only("630123"));
    assert!(plan.errors.is_empty(), "{:?}", plan.errors);
    let kept: Vec<usize> = plan.files.iter().map(|f| f.kept).collect();
    assert_eq!(kept, [3, 1, 1]);
    let c = plan.counts();
    assert_eq!((c.new, c.unchanged, c.retired), (5, 0, 0));
    let before = table_counts(&mut conn);
    calls::apply(&mut conn, &plan, "villages.csv").expect("apply");
    assert_eq!(table_counts(&mut conn), (before.0 + 5, before.1 + 5));
    let county = calls::division(&mut conn, "630123000000").expect("stored");
    assert_eq!((county.name.as_str(), county.level.as_str()), ("湟源县", "county"));
    assert_eq!(county.parent_code.as_deref(), Some("630100000000"));
    let v = calls::division(&mut conn, "630123100002").expect("stored");
    assert_eq!(v.name, "人民街社区居民委员会");
    assert_eq!(v.parent_name.as_deref(), Some("城关镇"));
    assert_eq!(v.kind.as_deref(), Some("residents_committee"));
    assert!(v.lon.is_none() && !v.approximate, "no point anywhere in its chain");
    let datong_villages = calls::count(
        &mut conn,
        &divisions::ListFilter {
            level: Some(ringline::core::division::Level::Village),
            under: Some("630121".into()),
            ..Default::default()
        },
    );
    assert_eq!(datong_villages, 313);
    assert_eq!(
        zone_counts(&mut conn),
        datong::ZONE_MEMBER_COUNTS,
        "other counties are not candidates"
    );

    // A copy with one broken code: that line is reported and nothing is written.
    let broken_dir = app.dir.path().join("broken");
    std::fs::create_dir_all(&broken_dir).expect("folder");
    for name in ["streets.csv", "areas.csv"] {
        std::fs::copy(fixture(&format!("national/{name}")), broken_dir.join(name)).expect("copy");
    }
    let text = fixture_text("national/villages.csv").replace("630121103200,", "6301211032O0,");
    let broken = broken_dir.join("villages.csv");
    std::fs::write(&broken, text).expect("write");
    let before = table_counts(&mut conn);
    let plan = plan_file(&mut conn, &broken, &only("6301"));
    assert_eq!(plan.errors.len(), 1, "{:?}", plan.errors);
    let e = &plan.errors[0];
    assert!(e.file.ends_with("villages.csv"));
    // villages.csv: header, 630121103001, then the broken row on line 3.
    assert_eq!(
        (e.line, e.column.as_str(), e.key.as_str()),
        (3, "code", "code-not-digits")
    );
    assert_eq!(e.value, "6301211032O0");
    assert!(matches!(
        calls::apply(&mut conn, &plan, "villages.csv"),
        Err(ImportError::Invalid(1))
    ));
    assert_eq!(table_counts(&mut conn), before);

    // An --only that is not a code prefix is refused before reading.
    assert!(matches!(
        imp::read(&villages, &only("63a")),
        Err(ImportError::BadPrefix(_))
    ));
    assert!(matches!(
        imp::read(&villages, &only("")),
        Err(ImportError::BadPrefix(_))
    ));
}

async fn reimport_renames_retires_and_reinstates_with_history(app: TestApp) {
    let mut conn = app.conn();
    let original = fixture_text("datong_dongxia.csv");
    // The untouched copy changes nothing.
    let path = app.write_file("same.csv", original.as_bytes());
    let c = plan_file(&mut conn, &path, &Options::default()).counts();
    assert_eq!(
        (c.new, c.renamed, c.updated, c.unchanged, c.retired, c.errors),
        (0, 0, 0, 15, 0, 0)
    );

    // 1. One village renamed.
    let renamed = original.replace("630121103201,南滩村委会,", "630121103201,南滩新村村委会,");
    assert_ne!(renamed, original);
    let path = app.write_file("renamed.csv", renamed.as_bytes());
    let plan = apply_file(&mut conn, &path);
    let c = plan.counts();
    assert_eq!((c.new, c.renamed, c.updated, c.unchanged, c.retired), (0, 1, 0, 14, 0));
    assert_eq!(plan.renamed[0].code, "630121103201");
    assert_eq!(plan.renamed[0].old_name, "南滩村委会");
    assert_eq!(plan.renamed[0].new_name, "南滩新村村委会");
    let d = calls::division(&mut conn, "630121103201").expect("stored");
    assert_eq!(d.name, "南滩新村村委会");
    assert_eq!(
        events(&mut conn, "630121103201"),
        [
            ("created".into(), None, s("南滩村委会")),
            ("renamed".into(), s("南滩村委会"), s("南滩新村村委会")),
        ]
    );
    assert_eq!(calls::history(&mut conn, "630121103201")[1].source, "test");

    // 2. One village left out: retired, not deleted, and out of its zone.
    let (count_before, _) = table_counts(&mut conn);
    let shortened: String = renamed
        .lines()
        .filter(|l| !l.starts_with("630121103212,"))
        .map(|l| format!("{l}\n"))
        .collect();
    let path = app.write_file("shortened.csv", shortened.as_bytes());
    let plan = apply_file(&mut conn, &path);
    let c = plan.counts();
    assert_eq!((c.renamed, c.unchanged, c.retired), (0, 14, 1));
    assert_eq!(plan.retired[0].code, "630121103212");
    assert_eq!(plan.retired[0].old_name, "元墩子村委会");
    assert_eq!(table_counts(&mut conn).0, count_before, "nothing deleted");
    let d = calls::division(&mut conn, "630121103212").expect("still stored");
    assert_eq!(d.status, "retired");
    assert_eq!(d.name, "元墩子村委会");
    assert_eq!(events(&mut conn, "630121103212").last().expect("event").0, "retired");
    let active = calls::count(
        &mut conn,
        &divisions::ListFilter {
            parent: Some(DONGXIA.into()),
            ..Default::default()
        },
    );
    assert_eq!(active, 13);
    let mut expected = datong::ZONE_MEMBER_COUNTS;
    expected[1] -= 1;
    assert_eq!(zone_counts(&mut conn), expected, "a retired village leaves the 东峡线");

    // 3. The retired code again under another name: refused, never silently reused.
    let reused = format!("{shortened}630121103212,新元墩子村委会,village,630121103000,220,,\n");
    let path = app.write_file("reused.csv", reused.as_bytes());
    let before = table_counts(&mut conn);
    let plan = plan_file(&mut conn, &path, &Options::default());
    assert_eq!(plan.errors.len(), 1, "{:?}", plan.errors);
    let e = &plan.errors[0];
    assert_eq!(
        (e.key.as_str(), e.line, e.value.as_str()),
        ("code-reused", 16, "630121103212")
    );
    assert!(
        e.message.contains("元墩子村委会") && e.message.contains("新元墩子村委会"),
        "{}",
        e.message
    );
    assert!(matches!(
        calls::apply(&mut conn, &plan, "reused.csv"),
        Err(ImportError::Invalid(1))
    ));
    assert_eq!(table_counts(&mut conn), before);

    // 4. The retired code again under its old name: reinstated, with a warning.
    let back = format!("{shortened}630121103212,元墩子村委会,village,630121103000,220,,\n");
    let path = app.write_file("back.csv", back.as_bytes());
    let plan = apply_file(&mut conn, &path);
    let c = plan.counts();
    assert_eq!((c.reinstated, c.retired, c.new, c.warnings), (1, 0, 0, 1));
    assert_eq!(plan.warnings[0].key, "code-reinstated");
    assert_eq!(plan.warnings[0].line, 16);
    let d = calls::division(&mut conn, "630121103212").expect("stored");
    assert_eq!(d.status, "active");
    let kinds: Vec<String> = events(&mut conn, "630121103212").into_iter().map(|e| e.0).collect();
    assert_eq!(kinds, ["created", "retired", "reinstated"]);
    assert_eq!(zone_counts(&mut conn), datong::ZONE_MEMBER_COUNTS, "back in the 东峡线");
}

/// Real rows of the NBS 2023 table (../shared/data/china) for two quirks of the national layout:
/// 东莞市 (4419) has no counties, so the areas file lists it once more as "county" 441900 and
/// its towns carry county digits 00; 金门县 (350527) is listed on the county, town and village
/// level under the same 12-digit code.
async fn national_table_quirks_import_cleanly(app: TestApp) {
    let mut conn = app.conn();
    app.write_file(
        "areas.csv",
        "code,name,cityCode,provinceCode\n441900,\"东莞市\",4419,44\n350527,\"金门县\",3505,35\n".as_bytes(),
    );
    app.write_file(
        "streets.csv",
        "code,name,areaCode,provinceCode,cityCode\n441900003,\"东城街道\",441900,44,4419\n350527000,\"金门县\",350527,35,3505\n"
            .as_bytes(),
    );
    let villages = app.write_file(
        "villages.csv",
        "code,name,streetCode,provinceCode,cityCode,areaCode\n441900003001,\"东泰社区居委会\",441900003,44,4419,441900\n350527000000,\"金门县\",350527000,35,3505,350527\n"
            .as_bytes(),
    );
    let plan = plan_file(&mut conn, &villages, &Options::default());
    assert!(plan.errors.is_empty(), "{:?}", plan.errors);
    // 东莞市 (as a city), 东城街道, 东泰社区居委会 and 金门县 once: 4 new; 金门县 twice more.
    assert_eq!(plan.counts().new, 4);
    let repeated: Vec<&str> = plan.warnings.iter().map(|w| w.key.as_str()).collect();
    // Their parents are not in these files: 东莞市's province 44 and 金门县's city 3505.
    assert_eq!(
        repeated,
        ["code-repeated", "code-repeated", "parent-missing", "parent-missing"]
    );
    calls::apply(&mut conn, &plan, "villages.csv").expect("apply");
    let town = calls::division(&mut conn, "441900003000").expect("stored");
    assert_eq!(
        (town.level.as_str(), town.parent_code.as_deref()),
        ("town", Some("441900000000"))
    );
    assert_eq!(town.parent_name.as_deref(), Some("东莞市"));
    let city = calls::division(&mut conn, "441900000000").expect("stored");
    assert_eq!(city.level, "city");
}

on_both_backends!(
    national_table_quirks_import_cleanly,
    bad_rows_are_reported_with_their_place_and_nothing_is_written,
    apply_is_all_or_nothing,
    gbk_csv_is_decoded,
    unreadable_files_get_a_clear_error,
    line_numbers_follow_the_file,
    xlsx_with_numeric_codes_is_read,
    national_layout_reads_parent_files_and_filters,
    reimport_renames_retires_and_reinstates_with_history,
);
