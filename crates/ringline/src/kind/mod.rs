//! One description per record kind (units, party organizations, members, cadres, …), owned by
//! the kind's feature module, and the generic drivers built on it: import (the check loop, the
//! plan against the database, the atomic apply with undo), XLSX export, CLI output, list and
//! detail pages, create / edit / retire forms, and the JSON API with its OpenAPI paths.
//!
//! A kind is a type implementing [`Kind`]: its [`Desc`] (fields people type, columns people
//! read, natural key, list filters, permissions, how it is retired) plus the pieces only it
//! knows — `check` (the one validation every way in uses: an import row, a web form, an API
//! body), `stored` (the stored records a checked batch matches by natural key), `values` (a
//! record back into what a person would type, for edit forms, partial updates and merging a
//! file's missing columns), `insert`, `update`, `retire`, and the scoped reads `list` and `get`.
//! Every kind is listed in [`KindId`]; [`KindId::ops`] matches exhaustively, so a kind that is
//! declared but not implemented, or implemented without one of its pieces, does not compile.
//!
//! Labels come from the Fluent files: `{kind}` (plural name), `{kind}-one` (one record),
//! `{kind}-{key}` for every field and column, `{kind}-{key}-note` for a field's note
//! (templates, forms). `locales_complete` in the tests checks that each exists in both languages.

pub mod cx;
pub mod export;
pub mod import;
pub mod values;
pub mod write;

use std::collections::HashMap;

use ringline_core::division::Level;
use serde::Serialize;

pub use cx::Cx;
pub use values::{Raw, Values};

use crate::access::{Access, Permission};
use crate::db::{DbConn, DbError, DbResult};

/// The choices of a choice field: `(stored key, Chinese label, English label)`.
pub type Choices = &'static [(&'static str, &'static str, &'static str)];

/// How a field's text is read and checked (and which widget a form shows).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    /// A name (person, unit, organization): spaces folded, at most 100 characters.
    Name,
    /// One line of free text, at most 500 characters.
    Text,
    /// Several lines of free text (minutes, logs), at most 5,000 characters.
    LongText,
    /// Digits and letters kept as text (codes): never a number in Excel.
    Code,
    /// A citizen ID number (GB 11643-1999). Personal data.
    IdNumber,
    /// A phone number. Personal data.
    Phone,
    /// A calendar date.
    Date,
    /// A year (`2025`, `2025年`).
    Year,
    /// A whole number of 0 or more.
    Count,
    /// A whole number that may be negative.
    Integer,
    /// A decimal number (degrees, scales).
    Decimal,
    /// An amount of money in yuan as typed (`12,345.60`, `1.2万`), stored in fen.
    Amount,
    /// Yes or no.
    Bool,
    /// One of a fixed list.
    Choice(Choices),
    /// Several of a fixed list or a stored list, separated by `;` or `、`.
    Multi,
    /// A division of one of these levels, by code or by name (`town village`).
    Division(&'static [Level]),
    /// A record of another kind, by its code or its full name.
    Ref(KindId),
}

impl Ty {
    /// Whether the template and exports keep the column as text (codes, ID numbers, phones).
    pub fn is_code(self) -> bool {
        matches!(self, Ty::Code | Ty::IdNumber | Ty::Phone | Ty::Division(_))
    }
}

/// A field people type: an import column, a form field, a key of an API body.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    /// Stable key: the JSON name in the API, the column key of imports, the form field name.
    pub key: &'static str,
    /// How it is read.
    pub ty: Ty,
    /// Whether every record must have a value.
    pub required: bool,
    /// Other headers accepted in files (case, spaces, `_` and `-` ignored), besides the labels in
    /// both languages and the key.
    pub aliases: &'static [&'static str],
    /// Personal data (ID numbers, phones): masked wherever it is shown, never logged.
    pub personal: bool,
    /// Whether the field has a note (`{kind}-{key}-note`) shown in templates and forms.
    pub note: bool,
}

impl Field {
    /// A field with no aliases and no note.
    pub const fn new(key: &'static str, ty: Ty, required: bool) -> Field {
        Field {
            key,
            ty,
            required,
            aliases: &[],
            personal: matches!(ty, Ty::IdNumber | Ty::Phone),
            note: false,
        }
    }

    /// The same field with other accepted headers.
    pub const fn aliases(mut self, aliases: &'static [&'static str]) -> Field {
        self.aliases = aliases;
        self
    }

    /// The same field with a note in the locale files.
    pub const fn noted(mut self) -> Field {
        self.note = true;
        self
    }
}

/// How a column of a record is shown (pages, exports, CLI).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Show {
    /// Text as is.
    Text,
    /// A code (monospace on pages, text in Excel).
    Code,
    /// A whole number.
    Int,
    /// A decimal number with this many decimals.
    Decimal(u8),
    /// An amount in integer fen, shown in yuan (Excel: a number with a yuan format).
    Fen,
    /// A rate 0–1 shown as a percentage (Excel: a number with a percent format).
    Rate,
    /// A date `YYYY-MM-DD` (Excel: a date cell).
    Date,
    /// A choice key shown by its label.
    Choice(Choices),
    /// Yes or no.
    Bool,
    /// A division code shown as "town › village" (the code alongside in exports).
    Place,
    /// The name of a record of another kind, linked to it by the id in the column `id_key`.
    Link(KindId, &'static str),
    /// A list of texts, or of labels in both languages (`{"zh", "en"}`, shown in the reader's;
    /// also one such label alone).
    List,
}

/// A column people read: a key of the record's JSON.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// Key in the record's JSON (and the label `{kind}-{key}`).
    pub key: &'static str,
    /// How it is shown.
    pub show: Show,
    /// Shown in lists (every column is shown on the detail page and exported).
    pub list: bool,
}

impl Column {
    /// A column shown in lists, details and exports.
    pub const fn new(key: &'static str, show: Show) -> Column {
        Column { key, show, list: true }
    }

    /// A column shown on the detail page and in exports only.
    pub const fn detail(key: &'static str, show: Show) -> Column {
        Column { key, show, list: false }
    }
}

/// A filter of a list: a query parameter of pages, the API and the CLI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    /// `q`: names containing a text.
    Text,
    /// `under`: records within a division subtree.
    Under,
    /// A choice field equal to one of its keys.
    Choice(&'static str, Choices),
    /// A yes/no flag (`true` narrows the list).
    Flag(&'static str),
    /// Records related to the record of another kind with this id (`org_id`).
    Id(&'static str, KindId),
    /// A division code field within a subtree (`home_community`: a village, or a town for all
    /// its villages).
    Division(&'static str),
    /// A calendar year equal to this one (`year`: 1949–2200).
    Year(&'static str),
}

impl Filter {
    /// The query parameter's name.
    pub fn key(&self) -> &'static str {
        match self {
            Filter::Text => "q",
            Filter::Under => "under",
            Filter::Choice(k, _) | Filter::Flag(k) | Filter::Id(k, _) | Filter::Division(k) | Filter::Year(k) => k,
        }
    }
}

/// How a record leaves the active list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retire {
    /// It is kept with a reason and a date, and leaves lists and counts (units, members).
    Keep(Choices),
    /// It is deleted; the audit log and the undo store keep its values (a need, a twinning).
    Delete,
    /// It cannot be retired (a confirmed batch, a program's history).
    Never,
}

/// Who may do what with a kind, beyond reading it in scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Perms {
    /// Create and edit records (forms, API) and import them.
    pub write: Permission,
    /// Retire records.
    pub retire: Permission,
}

/// The description of a record kind.
#[derive(Debug)]
pub struct Desc {
    /// Which kind.
    pub id: KindId,
    /// Stable key: URL segment (`/units`), API path (`/api/v1/units`), CLI and import name.
    pub key: &'static str,
    /// Audit log entity name (`unit`, `member`).
    pub entity: &'static str,
    /// Fields people type, in template and form order.
    pub fields: &'static [Field],
    /// Columns people read, in order.
    pub columns: &'static [Column],
    /// The natural key: field keys whose values together identify a record in a file.
    pub natural_key: &'static [&'static str],
    /// The list filters.
    pub filters: &'static [Filter],
    /// Who may write and retire.
    pub perms: Perms,
    /// How records are retired.
    pub retire: Retire,
    /// Whether the kind can be imported from files.
    pub importable: bool,
}

impl Desc {
    /// The field with this key.
    pub fn field(&self, key: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.key == key)
    }

    /// Index of the field with this key.
    pub fn field_index(&self, key: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.key == key)
    }

    /// The label key of a field or column.
    pub fn label_key(&self, key: &str) -> String {
        format!("{}-{}", self.key, key.replace('_', "-"))
    }

    /// The label of a field or column in `t`'s language.
    pub fn label(&self, t: crate::i18n::Tr, key: &str) -> String {
        t.get(&self.label_key(key))
    }

    /// The note of a field, if it has one.
    pub fn note(&self, t: crate::i18n::Tr, key: &str) -> Option<String> {
        self.field(key)
            .filter(|f| f.note)
            .map(|f| t.get(&format!("{}-note", self.label_key(f.key))))
    }

    /// The plural name of the kind.
    pub fn name(&self, t: crate::i18n::Tr) -> String {
        t.get(self.key)
    }

    /// The name of one record.
    pub fn one(&self, t: crate::i18n::Tr) -> String {
        t.get(&format!("{}-one", self.key))
    }
}

/// Every record kind. [`KindId::ops`] maps each to its implementation; the match is exhaustive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KindId {
    /// Units (单位).
    Units,
    /// Party organizations (党组织).
    Orgs,
    /// Party members (党员).
    Members,
    /// Dispatched cadres (选派干部名册).
    Cadres,
    /// Twinning pairs of a county unit and a village (结对帮扶).
    Twinning,
    /// Village needs: a skill and its priority (村需求).
    Needs,
    /// Work logs of residencies (驻村日志).
    WorkLogs,
    /// Dispatch batches (选派批次).
    Batches,
    /// Programs (示范创建方案).
    Programs,
    /// Zones (示范区 / 示范带).
    Zones,
    /// Lead products (主导产品, 一村一品).
    Products,
    /// Development chains (发展链条: 党支部+协会+公司+市场).
    Chains,
    /// Party-building brands (党建品牌).
    Brands,
    /// Collective income by source (村集体经济收入).
    Income,
    /// Income targets (收入目标).
    Targets,
}

impl KindId {
    /// Every kind, in import dependency order.
    pub const ALL: &'static [KindId] = &[
        KindId::Programs,
        KindId::Zones,
        KindId::Units,
        KindId::Orgs,
        KindId::Members,
        KindId::Cadres,
        KindId::Twinning,
        KindId::Needs,
        KindId::Batches,
        KindId::WorkLogs,
        KindId::Products,
        KindId::Chains,
        KindId::Brands,
        KindId::Income,
        KindId::Targets,
    ];

    /// The kind's implementation, type-erased for the generic drivers.
    pub fn ops(self) -> &'static dyn Ops {
        match self {
            KindId::Units => &Driver::<crate::registry::unit::Units>::NEW,
            KindId::Orgs => &Driver::<crate::registry::org::Orgs>::NEW,
            KindId::Members => &Driver::<crate::registry::member::Members>::NEW,
            KindId::Cadres => &Driver::<crate::cadres::kinds::Cadres>::NEW,
            KindId::Twinning => &Driver::<crate::cadres::kinds::Twinning>::NEW,
            KindId::Needs => &Driver::<crate::cadres::kinds::Needs>::NEW,
            KindId::WorkLogs => &Driver::<crate::cadres::work_log::WorkLogs>::NEW,
            KindId::Batches => &Driver::<crate::cadres::batch_kind::Batches>::NEW,
            KindId::Programs => &Driver::<crate::zones::kinds::Programs>::NEW,
            KindId::Zones => &Driver::<crate::zones::kinds::Zones>::NEW,
            KindId::Products => &Driver::<crate::economy::product::Products>::NEW,
            KindId::Chains => &Driver::<crate::economy::chain::Chains>::NEW,
            KindId::Brands => &Driver::<crate::economy::brand::Brands>::NEW,
            KindId::Income => &Driver::<crate::economy::income::Income>::NEW,
            KindId::Targets => &Driver::<crate::economy::income::Targets>::NEW,
        }
    }

    /// The kind's description.
    pub fn desc(self) -> &'static Desc {
        self.ops().desc()
    }

    /// The kind's key.
    pub fn key(self) -> &'static str {
        self.desc().key
    }

    /// The kind with this key.
    pub fn parse(key: &str) -> Option<KindId> {
        KindId::ALL.iter().copied().find(|k| k.key() == key)
    }
}

/// A page of records and the number of all matches.
#[derive(Debug, Clone, Serialize)]
pub struct Page<T> {
    /// The records of this page.
    pub items: Vec<T>,
    /// All records matching the filters.
    pub total: i64,
}

/// The filters and page of a list, checked against the kind's [`Desc::filters`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListQuery {
    /// Names containing this text.
    pub q: Option<String>,
    /// Within this division subtree (a 12-digit code).
    pub under: Option<String>,
    /// Choice, id, year and division filters: key → the checked value.
    pub values: HashMap<&'static str, String>,
    /// Flags set: their keys.
    pub flags: Vec<&'static str>,
    /// Include retired records.
    pub retired: bool,
    /// Page size.
    pub limit: i64,
    /// Records skipped.
    pub offset: i64,
}

impl ListQuery {
    /// The first `limit` records.
    pub fn first(limit: i64) -> ListQuery {
        ListQuery {
            limit,
            ..ListQuery::default()
        }
    }

    /// The value of a choice, id, year or division filter.
    pub fn value(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(String::as_str)
    }

    /// Whether a flag is set.
    pub fn flag(&self, key: &str) -> bool {
        self.flags.contains(&key)
    }
}

/// Why a write was refused.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The input has problems, each naming its field.
    #[error("the input has {} problem(s)", .0.len())]
    Invalid(Vec<crate::import::Issue>),
    /// The record does not exist or is outside the caller's scope.
    #[error("not found")]
    NotFound,
    /// The caller's role may not do this.
    #[error("your role may not do this")]
    Forbidden,
    /// The record cannot change this way (retired, confirmed); the key names why.
    #[error("{1}")]
    Conflict(&'static str, String),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl WriteError {
    /// A stable code: the rule key of the first problem of [`WriteError::Invalid`], the key of
    /// a [`WriteError::Conflict`], `not-found`, `forbidden` or `internal`.
    pub fn code(&self) -> String {
        match self {
            WriteError::Invalid(issues) => issues
                .first()
                .map_or_else(|| "invalid-input".to_string(), |i| i.key.clone()),
            WriteError::NotFound => "not-found".into(),
            WriteError::Forbidden => "forbidden".into(),
            WriteError::Conflict(key, _) => (*key).to_string(),
            WriteError::Db(_) => "internal".into(),
        }
    }
}

impl From<diesel::result::Error> for WriteError {
    fn from(e: diesel::result::Error) -> Self {
        WriteError::Db(DbError::from(e))
    }
}

/// A stored record a checked one matches by natural key.
#[derive(Debug, Clone)]
pub struct Stored<N> {
    /// Its id (as in URLs).
    pub id: String,
    /// Its values as stored.
    pub new: N,
}

/// What a retirement says: the reason (a key of [`Retire::Keep`]'s choices), the date and a note.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
pub struct RetireInput {
    /// Reason key (for kinds kept when retired).
    #[serde(default)]
    pub reason: String,
    /// Date it took effect (`YYYY-MM-DD`; default today).
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Date)]
    pub date: Option<chrono::NaiveDate>,
    /// Free-text note.
    #[serde(default)]
    pub note: String,
}

/// A record kind: its description and the pieces only it knows (module docs).
pub trait Kind: 'static + Send + Sync {
    /// A checked record, ready to write (personal data unmasked; never shown as is).
    type New: Clone + Send + 'static;
    /// A stored record as a reader sees it (personal data masked), the API's JSON.
    type Record: Serialize + utoipa::ToSchema + Send + 'static;

    /// The description.
    const DESC: Desc;

    /// Checks what a person typed (a file row, a form, an API body) and builds the record.
    /// Problems go into `v` by field; `None` when there is any.
    fn check(v: &mut Values, cx: &mut Cx) -> DbResult<Option<Self::New>>;

    /// Checks checked records together — a file's rows, or the one record of a form: what no
    /// record tells alone (references to other rows of the same file, loops). Problems go into
    /// `errors` by position in `news`, and those records become `None`. Default: nothing.
    fn check_all(
        cx: &mut Cx,
        news: &mut [Option<Self::New>],
        errors: &mut Vec<(usize, crate::import::Issue)>,
    ) -> DbResult<()> {
        let _ = (cx, news, errors);
        Ok(())
    }

    /// For kinds keyed by personal data (the citizen ID number), the row as a held import row
    /// keeps it (JSON), so a row whose key belongs to a record outside the caller's scope is
    /// answered like a new one and held for the county (`crate::import::held`); `None` (the
    /// default): such a row is refused as outside the caller's area.
    fn held_json(n: &Self::New) -> Option<String> {
        let _ = n;
        None
    }

    /// A stored record that may no longer change or be retired (a confirmed batch): the
    /// conflict's key (its text is `error-<key>`) and an English message; `None` (the default):
    /// it may.
    fn frozen(n: &Self::New) -> Option<(&'static str, String)> {
        let _ = n;
        None
    }

    /// What a new record's form starts from: defaults a person may change (a batch's size
    /// range, the caller's county). Default: nothing.
    fn defaults(cx: &mut Cx) -> DbResult<Raw> {
        let _ = cx;
        Ok(Raw::default())
    }

    /// Whether the record was generated for the demo (illustrative); a real import or form
    /// that matches it makes it real. Default: no such mark.
    fn illustrative(n: &Self::New) -> bool {
        let _ = n;
        false
    }

    /// The natural key of a checked record (duplicates inside one file are refused by it).
    fn key(n: &Self::New) -> String;

    /// The division the record belongs to: its scope key and the area of its audit entries.
    fn area(n: &Self::New) -> String;

    /// For each checked record, the stored record it matches by natural key (any scope: the
    /// driver decides what a match outside the caller's scope means).
    fn stored(cx: &mut Cx, news: &[&Self::New]) -> DbResult<Vec<Option<Stored<Self::New>>>>;

    /// The stored record with this id within the caller's scope, as stored (for edit forms).
    fn load(cx: &mut Cx, id: &str) -> DbResult<Option<Self::New>>;

    /// Whether two checked records hold the same values (timestamps and marks aside).
    fn same(a: &Self::New, b: &Self::New) -> bool;

    /// The record as a person would type it: field key → text (unmasked). Used to fill edit
    /// forms (personal fields are left out of the form), to merge a partial update, and to keep
    /// a file's missing columns on update.
    fn values(cx: &mut Cx, n: &Self::New) -> DbResult<Raw>;

    /// Inserts checked records; returns their ids in order. Called inside the caller's
    /// transaction; the driver audits.
    fn insert(conn: &mut DbConn, rows: &[Self::New]) -> DbResult<Vec<String>>;

    /// Replaces the stored record `id` with `n`. Inside the caller's transaction.
    fn update(conn: &mut DbConn, id: &str, n: &Self::New) -> DbResult<()>;

    /// Retires the stored record `id` (see [`Desc::retire`]) as of `how.date`; `Ok(false)` when
    /// it was not active. Inside the caller's transaction; the driver audits.
    fn retire(cx: &mut Cx, id: &str, how: &RetireInput) -> DbResult<bool>;

    /// Deletes a record this import created (undo), when nothing refers to it; `Ok(false)`
    /// when something does.
    fn remove(conn: &mut DbConn, id: &str) -> DbResult<bool>;

    /// A page of records within the caller's scope.
    fn list(conn: &mut DbConn, access: &Access, q: &ListQuery) -> DbResult<Page<Self::Record>>;

    /// One record within the caller's scope.
    fn get(conn: &mut DbConn, access: &Access, id: &str) -> DbResult<Option<Self::Record>>;
}

/// A kind's operations, type-erased, for drivers that handle every kind alike (pages, API,
/// CLI, imports). Implemented for every [`Kind`] by [`Driver`].
pub trait Ops: Sync {
    /// The description.
    fn desc(&self) -> &'static Desc;
    /// The record's OpenAPI schema: its name and the schema.
    fn schema(&self) -> (String, utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>);
    /// A page of records as JSON.
    fn list_json(&self, conn: &mut DbConn, access: &Access, q: &ListQuery) -> DbResult<Page<serde_json::Value>>;
    /// One record as JSON.
    fn get_json(&self, conn: &mut DbConn, access: &Access, id: &str) -> DbResult<Option<serde_json::Value>>;
    /// The values an edit form starts from (personal fields left out).
    fn form_values(&self, cx: &mut Cx, id: &str) -> DbResult<Option<Raw>>;
    /// The values a new record's form starts from ([`Kind::defaults`]).
    fn form_defaults(&self, cx: &mut Cx) -> DbResult<Raw>;
    /// Creates a record from typed values; returns its id.
    fn create(&self, cx: &mut Cx, raw: &Raw) -> Result<String, WriteError>;
    /// Changes a record: the given values over the stored ones.
    fn edit(&self, cx: &mut Cx, id: &str, raw: &Raw) -> Result<(), WriteError>;
    /// Retires a record.
    fn retire(&self, cx: &mut Cx, id: &str, how: &RetireInput) -> Result<(), WriteError>;
    /// Checks, plans and (with `opts.apply`) applies a located sheet.
    fn import(
        &self,
        cx: &mut Cx,
        sheet: &crate::import::framework::Sheet,
        opts: crate::import::framework::Options,
        progress: crate::import::framework::Progress,
    ) -> Result<crate::import::framework::Report, crate::import::framework::ImportError>;
    /// Undoes an applied import's changes to records of this kind (see [`import::undo`]).
    fn undo(&self, conn: &mut DbConn, access: &Access, changes: &[import::Change]) -> Result<(), WriteError>;
}

/// The generic drivers for one kind.
pub struct Driver<K>(std::marker::PhantomData<fn() -> K>);

impl<K> Driver<K> {
    /// The (zero-sized) driver.
    pub const NEW: Driver<K> = Driver(std::marker::PhantomData);
}

impl<K: Kind> Ops for Driver<K> {
    fn desc(&self) -> &'static Desc {
        desc_of::<K>()
    }

    fn schema(&self) -> (String, utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>) {
        (
            <K::Record as utoipa::ToSchema>::name().into_owned(),
            <K::Record as utoipa::PartialSchema>::schema(),
        )
    }

    fn list_json(&self, conn: &mut DbConn, access: &Access, q: &ListQuery) -> DbResult<Page<serde_json::Value>> {
        let page = K::list(conn, access, q)?;
        Ok(Page {
            items: page.items.iter().map(to_json).collect(),
            total: page.total,
        })
    }

    fn get_json(&self, conn: &mut DbConn, access: &Access, id: &str) -> DbResult<Option<serde_json::Value>> {
        Ok(K::get(conn, access, id)?.as_ref().map(to_json))
    }

    fn form_values(&self, cx: &mut Cx, id: &str) -> DbResult<Option<Raw>> {
        let Some(n) = K::load(cx, id)? else {
            return Ok(None);
        };
        let mut raw = K::values(cx, &n)?;
        for f in K::DESC.fields.iter().filter(|f| f.personal) {
            raw.0.remove(f.key);
        }
        Ok(Some(raw))
    }

    fn form_defaults(&self, cx: &mut Cx) -> DbResult<Raw> {
        K::defaults(cx)
    }

    fn create(&self, cx: &mut Cx, raw: &Raw) -> Result<String, WriteError> {
        write::create::<K>(cx, raw)
    }

    fn edit(&self, cx: &mut Cx, id: &str, raw: &Raw) -> Result<(), WriteError> {
        write::edit::<K>(cx, id, raw)
    }

    fn retire(&self, cx: &mut Cx, id: &str, how: &RetireInput) -> Result<(), WriteError> {
        write::retire::<K>(cx, id, how)
    }

    fn import(
        &self,
        cx: &mut Cx,
        sheet: &crate::import::framework::Sheet,
        opts: crate::import::framework::Options,
        progress: crate::import::framework::Progress,
    ) -> Result<crate::import::framework::Report, crate::import::framework::ImportError> {
        import::run::<K>(cx, sheet, opts, progress)
    }

    fn undo(&self, conn: &mut DbConn, access: &Access, changes: &[import::Change]) -> Result<(), WriteError> {
        import::undo_kind::<K>(conn, access, changes)
    }
}

/// The description of `K` as a `'static` reference.
pub fn desc_of<K: Kind>() -> &'static Desc {
    // A `const` item of a generic trait cannot be borrowed for `'static` directly; promotion
    // through a `const` block gives each kind one static copy.
    const { &K::DESC }
}

/// The file layout of a kind — the import columns, their headers in both languages, notes and
/// drop-down choices — derived once from its description, for the header finder, templates and
/// error workbooks.
pub fn file_spec(id: KindId) -> &'static crate::import::spec::KindSpec {
    use crate::import::spec::{CellKind, ColumnSpec, KindSpec};
    use std::sync::OnceLock;
    static SPECS: OnceLock<Vec<&'static KindSpec>> = OnceLock::new();
    let specs = SPECS.get_or_init(|| {
        let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
        let (zh, en) = (
            crate::i18n::Tr(crate::i18n::Lang::Zh),
            crate::i18n::Tr(crate::i18n::Lang::En),
        );
        KindId::ALL
            .iter()
            .map(|k| {
                let d = k.desc();
                let columns: Vec<ColumnSpec> = d
                    .fields
                    .iter()
                    .map(|f| ColumnSpec {
                        key: f.key,
                        zh: leak(d.label(zh, f.key)),
                        en: leak(d.label(en, f.key)),
                        aliases: f.aliases,
                        required: f.required,
                        cell: match f.ty {
                            Ty::Name | Ty::Text | Ty::LongText | Ty::Multi | Ty::Ref(_) => CellKind::Text,
                            Ty::Code | Ty::IdNumber | Ty::Phone | Ty::Division(_) => CellKind::Code,
                            Ty::Date => CellKind::Date,
                            Ty::Year | Ty::Count | Ty::Integer => CellKind::Integer,
                            Ty::Decimal | Ty::Amount => CellKind::Decimal,
                            Ty::Choice(_) | Ty::Bool => CellKind::Choice,
                        },
                        note_zh: leak(d.note(zh, f.key).unwrap_or_default()),
                        note_en: leak(d.note(en, f.key).unwrap_or_default()),
                        choices: match f.ty {
                            Ty::Choice(c) => c,
                            Ty::Bool => &[("true", "是", "yes"), ("false", "否", "no")],
                            _ => &[],
                        },
                    })
                    .collect();
                let spec: &'static KindSpec = Box::leak(Box::new(KindSpec {
                    key: d.key,
                    zh: leak(d.name(zh)),
                    en: leak(d.name(en)),
                    columns: Box::leak(columns.into_boxed_slice()),
                    natural_key: leak(d.natural_key.join("+")),
                }));
                spec
            })
            .collect()
    });
    let i = KindId::ALL.iter().position(|k| *k == id).unwrap_or(0);
    specs[i]
}

fn to_json<T: Serialize>(t: &T) -> serde_json::Value {
    serde_json::to_value(t).unwrap_or(serde_json::Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::{Lang, Tr};

    /// Every kind's labels exist in both languages: the kind's names, every field and column,
    /// every note a field declares.
    #[test]
    fn locales_complete() {
        let mut missing = Vec::new();
        for k in KindId::ALL {
            let d = k.desc();
            let mut keys = vec![d.key.to_string(), format!("{}-one", d.key)];
            keys.extend(d.fields.iter().map(|f| d.label_key(f.key)));
            keys.extend(d.columns.iter().map(|c| d.label_key(c.key)));
            keys.extend(
                d.fields
                    .iter()
                    .filter(|f| f.note)
                    .map(|f| format!("{}-note", d.label_key(f.key))),
            );
            for key in keys {
                for lang in [Lang::Zh, Lang::En] {
                    if Tr(lang).get(&key) == key {
                        missing.push(format!("{}: {key}", lang.code()));
                    }
                }
            }
        }
        assert!(missing.is_empty(), "missing labels: {missing:?}");
    }

    /// Descriptions are consistent: natural keys, filters and columns name what exists.
    #[test]
    fn descriptions_are_consistent() {
        for k in KindId::ALL {
            let d = k.desc();
            assert_eq!(d.id, *k);
            assert_eq!(KindId::parse(d.key), Some(*k));
            for key in d.natural_key {
                assert!(d.field(key).is_some(), "{}: natural key {key} is no field", d.key);
            }
            let mut seen = std::collections::HashSet::new();
            for f in d.fields {
                assert!(seen.insert(f.key), "{}: field {} twice", d.key, f.key);
            }
        }
    }
}
