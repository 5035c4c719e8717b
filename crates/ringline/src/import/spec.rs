//! What each importable kind of record looks like in a file: its columns, the headers people use
//! (Chinese first, English aliases), which are required, notes for the template and the values a
//! drop-down offers. The import framework ([`super::framework`]) matches headers against these
//! specs; the template and error workbooks ([`super::workbook`]) are written from them.

/// How a column's cells are read and formatted in templates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellKind {
    /// Free text (names, addresses).
    Text,
    /// Digits and letters that must stay text in Excel (codes, ID numbers, phones): the template
    /// formats the column as text so Excel does not turn them into numbers.
    Code,
    /// A calendar date.
    Date,
    /// A whole number.
    Integer,
    /// A decimal number (degrees, amounts).
    Decimal,
    /// One of [`ColumnSpec::choices`].
    Choice,
}

/// One column of an importable kind.
#[derive(Debug, Clone, Copy)]
pub struct ColumnSpec {
    /// Stable key (the English header, snake case), used in the API and error reports.
    pub key: &'static str,
    /// Chinese header written in templates (the header people use).
    pub zh: &'static str,
    /// English header written in English templates.
    pub en: &'static str,
    /// Other headers accepted for this column (case, spaces, `_` and `-` ignored).
    pub aliases: &'static [&'static str],
    /// Whether every row must have a value.
    pub required: bool,
    /// How the cell is read.
    pub cell: CellKind,
    /// Template note, Chinese.
    pub note_zh: &'static str,
    /// Template note, English.
    pub note_en: &'static str,
    /// For [`CellKind::Choice`]: the accepted values as `(stored key, Chinese label, English
    /// label)`; the template's drop-down offers the labels of its language.
    pub choices: &'static [(&'static str, &'static str, &'static str)],
}

impl ColumnSpec {
    /// The header in a language (`zh-CN` or `en`).
    pub fn header(&self, lang: &str) -> &'static str {
        if lang.starts_with("zh") { self.zh } else { self.en }
    }

    /// The template note in a language.
    pub fn note(&self, lang: &str) -> &'static str {
        if lang.starts_with("zh") {
            self.note_zh
        } else {
            self.note_en
        }
    }

    /// Every header this column answers to: Chinese, English, the key and the aliases.
    pub fn names(&self) -> impl Iterator<Item = &'static str> {
        [self.zh, self.en, self.key]
            .into_iter()
            .chain(self.aliases.iter().copied())
    }
}

/// An importable kind of record.
#[derive(Debug, Clone, Copy)]
pub struct KindSpec {
    /// Stable key used on the command line and in URLs (`members`, `units`, `orgs`).
    pub key: &'static str,
    /// Name in Chinese (sheet name of the template).
    pub zh: &'static str,
    /// Name in English.
    pub en: &'static str,
    /// The columns, in template order.
    pub columns: &'static [ColumnSpec],
    /// The natural key a re-import matches on: a column key, or several joined with `+`
    /// (`unit+village`).
    pub natural_key: &'static str,
}

impl KindSpec {
    /// The kind's name in a language.
    pub fn name(&self, lang: &str) -> &'static str {
        if lang.starts_with("zh") { self.zh } else { self.en }
    }

    /// The column with this key.
    pub fn column(&self, key: &str) -> Option<&'static ColumnSpec> {
        self.columns.iter().find(|c| c.key == key)
    }

    /// The columns of the natural key, in order.
    pub fn natural_key_columns(&self) -> Vec<&'static ColumnSpec> {
        self.natural_key.split('+').filter_map(|k| self.column(k)).collect()
    }
}

/// The file layouts kept as constants (`UNITS`, `ORGS` and `MEMBERS`: the layouts the members'
/// held-row transfer, the scale generator and the benchmarks read). Every importable kind is
/// described by [`crate::kind`]; its layout is derived from that description.
pub const KINDS: &[&KindSpec] = &[&UNITS, &ORGS, &MEMBERS];

/// The importable kind with this key (`units`, `orgs`, `members`, `cadres`, `twinning`,
/// `needs`, `work_logs`, `products`, `chains`, `brands`, `income`, `targets`; `party_orgs` is
/// accepted for `orgs`), in the layout derived from its description; kinds not importable
/// (dispatch batches, programs, zones) are not found.
pub fn kind(key: &str) -> Option<&'static KindSpec> {
    let key = if key == "party_orgs" { "orgs" } else { key };
    if let Some(id) = crate::kind::KindId::parse(key) {
        return id.desc().importable.then(|| crate::kind::file_spec(id));
    }
    KINDS.iter().copied().find(|k| k.key == key)
}

/// Every importable kind's file layout, in dependency order: the kinds described by
/// [`crate::kind`] (units before organizations before members; the dispatch kinds after the
/// units they name, work logs after the residencies of the cadres), then the economy kinds
/// (development chains and brands naming units and organizations).
pub fn kinds() -> Vec<&'static KindSpec> {
    crate::kind::KindId::ALL
        .iter()
        .filter(|k| k.desc().importable)
        .map(|k| crate::kind::file_spec(*k))
        .chain(
            KINDS
                .iter()
                .copied()
                .filter(|k| crate::kind::KindId::parse(k.key).is_none()),
        )
        .collect()
}

/// Unit kinds (SPEC glossary "unit"): `(key, Chinese, English)`. Coverage (SPEC C3) counts
/// `non_public_enterprise` and `social_organization` (两新组织).
pub const UNIT_KINDS: &[(&str, &str, &str)] = &[
    ("agency", "机关事业单位", "agency"),
    ("soe", "国有企业", "state-owned enterprise"),
    ("non_public_enterprise", "非公有制企业", "non-public enterprise"),
    ("social_organization", "社会组织", "social organization"),
    ("cooperative", "协会/合作社", "association or cooperative"),
    ("market", "市场", "market"),
    ("village_committee", "村(居)委会", "village committee"),
    ("other", "其他", "other"),
];

/// Party organization kinds: `(key, Chinese, English)`.
pub const ORG_KINDS: &[(&str, &str, &str)] = &[
    ("committee", "党委", "committee"),
    ("general_branch", "党总支", "general branch"),
    ("branch", "党支部", "branch"),
];

/// Establishment modes (SPEC C3): own organization, joint with other units, or a
/// party-building instructor only. The first two give organization coverage, all three work
/// coverage.
pub const ORG_MODES: &[(&str, &str, &str)] = &[
    ("own", "单独组建", "own"),
    ("joint", "联合组建", "joint"),
    ("instructor", "选派党建指导员", "instructor only"),
];

/// Member status: `(key, Chinese, English)`.
pub const MEMBER_STATUSES: &[(&str, &str, &str)] = &[
    ("full", "正式党员", "full"),
    ("probationary", "预备党员", "probationary"),
];

/// Sex as written in a row (cross-checked against the ID number): `(key, Chinese, English)`.
pub const SEXES: &[(&str, &str, &str)] = &[("male", "男", "male"), ("female", "女", "female")];

/// Units (SPEC C3). Natural key: the unified social credit code; a unit without one is matched
/// by name and division.
pub const UNITS: KindSpec = KindSpec {
    key: "units",
    zh: "单位",
    en: "units",
    natural_key: "credit_code",
    columns: &[
        ColumnSpec {
            key: "name",
            zh: "单位名称",
            en: "name",
            aliases: &["名称", "单位"],
            required: true,
            cell: CellKind::Text,
            note_zh: "单位全称",
            note_en: "Full name of the unit",
            choices: &[],
        },
        ColumnSpec {
            key: "kind",
            zh: "单位类型",
            en: "kind",
            aliases: &["类型", "type"],
            required: true,
            cell: CellKind::Choice,
            note_zh: "从下拉列表中选择",
            note_en: "Pick from the list",
            choices: UNIT_KINDS,
        },
        ColumnSpec {
            key: "credit_code",
            zh: "统一社会信用代码",
            en: "credit_code",
            aliases: &["信用代码", "社会信用代码", "unified social credit code", "uscc"],
            required: false,
            cell: CellKind::Code,
            note_zh: "18位，按 GB 32100 校验；没有可留空",
            note_en: "18 characters, checked per GB 32100; leave empty if the unit has none",
            choices: &[],
        },
        ColumnSpec {
            key: "division",
            zh: "所在村(社区)代码",
            en: "division",
            aliases: &["区划代码", "所在地代码", "村代码", "division_code", "village_code"],
            required: true,
            cell: CellKind::Code,
            note_zh: "12位统计用区划代码，村(社区)或乡镇",
            note_en: "12-digit NBS division code of the village/community or town",
            choices: &[],
        },
        ColumnSpec {
            key: "address",
            zh: "地址",
            en: "address",
            aliases: &["详细地址"],
            required: false,
            cell: CellKind::Text,
            note_zh: "",
            note_en: "",
            choices: &[],
        },
        ColumnSpec {
            key: "lon",
            zh: "经度",
            en: "lon",
            aliases: &["longitude"],
            required: false,
            cell: CellKind::Decimal,
            note_zh: "WGS-84 经度，度",
            note_en: "WGS-84 longitude, degrees",
            choices: &[],
        },
        ColumnSpec {
            key: "lat",
            zh: "纬度",
            en: "lat",
            aliases: &["latitude"],
            required: false,
            cell: CellKind::Decimal,
            note_zh: "WGS-84 纬度，度",
            note_en: "WGS-84 latitude, degrees",
            choices: &[],
        },
        ColumnSpec {
            key: "headcount",
            zh: "从业人数",
            en: "headcount",
            aliases: &["职工人数", "人数", "employees"],
            required: false,
            cell: CellKind::Integer,
            note_zh: "",
            note_en: "",
            choices: &[],
        },
        ColumnSpec {
            key: "party_member_count",
            zh: "党员人数",
            en: "party_member_count",
            aliases: &["党员数"],
            required: false,
            cell: CellKind::Integer,
            note_zh: "单位报告的党员人数",
            note_en: "Number of party members the unit reports",
            choices: &[],
        },
    ],
};

/// Party organizations (SPEC C3). Natural key: the organization code.
pub const ORGS: KindSpec = KindSpec {
    key: "orgs",
    zh: "党组织",
    en: "party organizations",
    natural_key: "code",
    columns: &[
        ColumnSpec {
            key: "code",
            zh: "党组织代码",
            en: "code",
            aliases: &["组织代码", "编码", "org_code"],
            required: true,
            cell: CellKind::Code,
            note_zh: "村党支部使用村的12位区划代码",
            note_en: "A village's party branch uses the village's 12-digit code",
            choices: &[],
        },
        ColumnSpec {
            key: "name",
            zh: "党组织名称",
            en: "name",
            aliases: &["名称", "组织名称"],
            required: true,
            cell: CellKind::Text,
            note_zh: "",
            note_en: "",
            choices: &[],
        },
        ColumnSpec {
            key: "kind",
            zh: "党组织类别",
            en: "kind",
            aliases: &["类别", "组织类别", "type"],
            required: true,
            cell: CellKind::Choice,
            note_zh: "党委、党总支或党支部",
            note_en: "committee, general branch or branch",
            choices: ORG_KINDS,
        },
        ColumnSpec {
            key: "parent",
            zh: "上级党组织",
            en: "parent",
            aliases: &["上级组织", "上级党组织代码", "parent_code"],
            required: false,
            cell: CellKind::Text,
            note_zh: "上级党组织的代码或全称；县委下属的可留空",
            note_en: "Code or full name of the parent organization; empty at the top",
            choices: &[],
        },
        ColumnSpec {
            key: "mode",
            zh: "组建方式",
            en: "mode",
            aliases: &["建立方式", "establishment"],
            required: true,
            cell: CellKind::Choice,
            note_zh: "单独组建、联合组建或选派党建指导员",
            note_en: "own, joint, or instructor only",
            choices: ORG_MODES,
        },
        ColumnSpec {
            key: "unit",
            zh: "所在单位",
            en: "unit",
            aliases: &["依托单位", "单位", "unit_credit_code"],
            required: false,
            cell: CellKind::Text,
            note_zh: "依托单位的统一社会信用代码或全称；村党组织留空并填写所在村",
            note_en: "Host unit: credit code or full name; leave empty for a village's organization",
            choices: &[],
        },
        ColumnSpec {
            key: "village",
            zh: "所在村(社区)代码",
            en: "village",
            aliases: &["村代码", "village_code"],
            required: false,
            cell: CellKind::Code,
            note_zh: "村(社区)党组织填写12位区划代码",
            note_en: "For a village's organization: the 12-digit division code",
            choices: &[],
        },
        ColumnSpec {
            key: "joint_units",
            zh: "联建单位",
            en: "joint_units",
            aliases: &["覆盖单位", "covered_units"],
            required: false,
            cell: CellKind::Text,
            note_zh: "联合组建或指导员覆盖的其他单位：信用代码或全称，多个用分号隔开",
            note_en: "Other units a joint organization or instructor covers: credit codes or names, separated by ;",
            choices: &[],
        },
    ],
};

/// Party members (SPEC C3). Natural key: the citizen ID number.
pub const MEMBERS: KindSpec = KindSpec {
    key: "members",
    zh: "党员",
    en: "party members",
    natural_key: "id_number",
    columns: &[
        ColumnSpec {
            key: "name",
            zh: "姓名",
            en: "name",
            aliases: &["党员姓名"],
            required: true,
            cell: CellKind::Text,
            note_zh: "",
            note_en: "",
            choices: &[],
        },
        ColumnSpec {
            key: "sex",
            zh: "性别",
            en: "sex",
            aliases: &["gender"],
            required: false,
            cell: CellKind::Choice,
            note_zh: "可留空：由身份证号码得出；填写时须一致",
            note_en: "May be empty: derived from the ID number; must agree when given",
            choices: SEXES,
        },
        ColumnSpec {
            key: "id_number",
            zh: "公民身份号码",
            en: "id_number",
            aliases: &["身份证号码", "身份证号", "身份证", "证件号码", "id number", "id_card"],
            required: true,
            cell: CellKind::Code,
            note_zh: "18位；15位旧号码自动升位",
            note_en: "18 characters; old 15-digit numbers are converted",
            choices: &[],
        },
        ColumnSpec {
            key: "birth_date",
            zh: "出生日期",
            en: "birth_date",
            aliases: &["出生年月", "birthday"],
            required: false,
            cell: CellKind::Date,
            note_zh: "可留空：由身份证号码得出；填写时须一致",
            note_en: "May be empty: derived from the ID number; must agree when given",
            choices: &[],
        },
        ColumnSpec {
            key: "phone",
            zh: "手机号码",
            en: "phone",
            aliases: &["联系电话", "电话", "手机", "mobile"],
            required: false,
            cell: CellKind::Code,
            note_zh: "11位手机号或带区号的固定电话",
            note_en: "11-digit mobile number or a landline with area code",
            choices: &[],
        },
        ColumnSpec {
            key: "status",
            zh: "党员类别",
            en: "status",
            aliases: &["人员类别", "党员状态", "类别"],
            required: true,
            cell: CellKind::Choice,
            note_zh: "正式党员或预备党员",
            note_en: "full or probationary",
            choices: MEMBER_STATUSES,
        },
        ColumnSpec {
            key: "join_date",
            zh: "入党日期",
            en: "join_date",
            aliases: &["入党时间", "加入党组织日期"],
            required: false,
            cell: CellKind::Date,
            note_zh: "如 2019-07-01",
            note_en: "e.g. 2019-07-01",
            choices: &[],
        },
        ColumnSpec {
            key: "party_organization",
            zh: "所在党组织",
            en: "party_organization",
            aliases: &["所在党支部", "党支部", "党组织", "party_org", "branch"],
            required: true,
            cell: CellKind::Text,
            note_zh: "党组织代码或全称",
            note_en: "Party organization code or full name",
            choices: &[],
        },
        ColumnSpec {
            key: "employer",
            zh: "工作单位",
            en: "employer",
            aliases: &["单位", "工作单位及职务"],
            required: false,
            cell: CellKind::Text,
            note_zh: "与登记单位名称一致时自动关联",
            note_en: "Linked to a registered unit when the name matches",
            choices: &[],
        },
        ColumnSpec {
            key: "home_community",
            zh: "报到社区",
            en: "home_community",
            aliases: &["居住社区", "报到社区代码", "home community"],
            required: false,
            cell: CellKind::Code,
            note_zh: "居住地社区(村)的12位区划代码",
            note_en: "12-digit division code of the community (village) where the member lives",
            choices: &[],
        },
    ],
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_unambiguous_within_a_kind() {
        let norm = |s: &str| {
            s.chars()
                .filter(|c| !matches!(c, '_' | '-' | ' '))
                .flat_map(char::to_lowercase)
                .collect::<String>()
        };
        for k in kinds() {
            let mut seen = std::collections::HashMap::new();
            for c in k.columns {
                for n in c.names() {
                    if let Some(other) = seen.insert(norm(n), c.key) {
                        assert_eq!(other, c.key, "{}: header {n:?} names two columns", k.key);
                    }
                }
            }
            for part in k.natural_key.split('+') {
                assert!(k.column(part).is_some(), "{}: {part}", k.key);
            }
        }
    }

    #[test]
    fn kinds_by_key() {
        assert_eq!(kind("members").map(|k| k.key), Some("members"));
        assert_eq!(kind("party_orgs").map(|k| k.key), Some("orgs"));
        assert_eq!(kind("cadres").map(|k| k.key), Some("cadres"));
        // One log per cadre and day: the ID number and the date.
        assert_eq!(kind("work_logs").map(|k| k.natural_key_columns().len()), Some(2));
        assert!(kind("dispatch").is_none());
        assert_eq!(kind("income").map(|k| k.natural_key_columns().len()), Some(3));
        assert_eq!(kind("targets").map(|k| k.natural_key), Some("year+village"));
        assert_eq!(kinds().len(), 12, "every importable kind has a layout");
    }
}
