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

/// The importable kinds not (yet) described by [`crate::kind`], in dependency order: the
/// economy kinds, after the kinds they name. (`UNITS`, `ORGS` and `MEMBERS` remain as the
/// layouts the members' held-row transfer and the benchmarks read; their imports go through
/// [`crate::kind`].)
pub const KINDS: &[&KindSpec] = &[&UNITS, &ORGS, &MEMBERS, &PRODUCTS, &CHAINS, &BRANDS, &INCOME, &TARGETS];

/// The importable kind with this key (`units`, `orgs`, `members`, `cadres`, `twinning`,
/// `needs`, `work_logs`, `products`, `chains`, `brands`, `income`, `targets`; `party_orgs` is
/// accepted for `orgs`). Kinds described by [`crate::kind`] come in their derived layout; those
/// not importable (dispatch batches) are not found.
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

/// Sources of a village collective's income (SPEC C5) as choices: `(key, Chinese, English)`.
/// Keys and Chinese names are those of [`crate::economy::IncomeSource`]; the import also takes
/// the short forms it parses (经营, 发包, 补贴收入 …).
pub const INCOME_SOURCES: &[(&str, &str, &str)] = &[
    ("operating", "经营收入", "operating"),
    ("contracting_leasing", "发包及上交收入", "contracting and leasing"),
    ("investment_returns", "投资收益", "investment returns"),
    ("services", "服务收入", "services"),
    ("subsidies", "补助收入", "subsidies"),
    ("other", "其他收入", "other"),
];

/// The village column of the economy kinds.
const ECONOMY_VILLAGE: ColumnSpec = ColumnSpec {
    key: "village",
    zh: "村代码",
    en: "village",
    aliases: &["村(社区)代码", "区划代码", "village_code"],
    required: true,
    cell: CellKind::Code,
    note_zh: "村(社区)的12位统计用区划代码",
    note_en: "12-digit NBS division code of the village (community)",
    choices: &[],
};

/// The year column of lead products and collective income: within the program (see
/// `import::economy_kinds`), not after this year.
const ECONOMY_YEAR: ColumnSpec = ColumnSpec {
    key: "year",
    zh: "年度",
    en: "year",
    aliases: &["年份"],
    required: true,
    cell: CellKind::Integer,
    note_zh: "如 2025；须在村所在县示范带的建设期内（建设期前5年为基期，也可填写），且不晚于今年",
    note_en: "e.g. 2025; within the years of the program of the village's county (the five years before them, the baseline, are accepted too) and not after this year",
    choices: &[],
};

/// Lead products (SPEC C4, 一村一品) per village and year. Natural key: village, year and
/// product name.
pub const PRODUCTS: KindSpec = KindSpec {
    key: "products",
    zh: "主导产品",
    en: "lead products",
    natural_key: "village+year+name",
    columns: &[
        ECONOMY_VILLAGE,
        ECONOMY_YEAR,
        ColumnSpec {
            key: "name",
            zh: "产品名称",
            en: "name",
            aliases: &["主导产品", "产品", "product"],
            required: true,
            cell: CellKind::Text,
            note_zh: "如 牦牛肉、鸡腿葱、青稞",
            note_en: "e.g. yak beef, chicken-leg scallion, highland barley",
            choices: &[],
        },
        ColumnSpec {
            key: "category",
            zh: "产品类别",
            en: "category",
            aliases: &["类别", "产业类别"],
            required: true,
            cell: CellKind::Choice,
            note_zh: "从下拉列表中选择",
            note_en: "Pick from the list",
            choices: crate::economy::PRODUCT_CATEGORIES,
        },
        ColumnSpec {
            key: "scale",
            zh: "规模",
            en: "scale",
            aliases: &["生产规模", "种养规模"],
            required: false,
            cell: CellKind::Decimal,
            note_zh: "数量，不小于0；与规模单位同时填写或同时留空",
            note_en: "A number of 0 or more; give it with its unit, or leave both empty",
            choices: &[],
        },
        ColumnSpec {
            key: "scale_unit",
            zh: "规模单位",
            en: "scale_unit",
            aliases: &["计量单位", "unit"],
            required: false,
            cell: CellKind::Text,
            note_zh: "亩、头、只、户、吨等",
            note_en: "mu, head, birds, households, tonnes …",
            choices: &[],
        },
        ColumnSpec {
            key: "output_value",
            zh: "产值(元)",
            en: "output_value",
            aliases: &["年产值", "产值", "output value", "output_value_yuan"],
            required: false,
            cell: CellKind::Decimal,
            note_zh: "年产值，单位元，如 12,345.67 或 1.2万；表头写“产值(万元)”时按万元读",
            note_en: "Annual output value in yuan, e.g. 12,345.67 or 1.2万; read in 万 (10,000 yuan) when the header says 万元",
            choices: &[],
        },
        ColumnSpec {
            key: "households",
            zh: "带动户数",
            en: "households",
            aliases: &["参与户数", "从业户数", "户数"],
            required: false,
            cell: CellKind::Integer,
            note_zh: "从事该产业的农户数",
            note_en: "Households engaged in the product",
            choices: &[],
        },
        ColumnSpec {
            key: "income_per_household",
            zh: "户均收入(元)",
            en: "income_per_household",
            aliases: &["户均收入", "户均增收", "income per household"],
            required: false,
            cell: CellKind::Decimal,
            note_zh: "参与农户户均年收入，单位元",
            note_en: "Annual income per engaged household, in yuan",
            choices: &[],
        },
    ],
};

/// A link of a development chain naming a registered unit.
const fn chain_unit(
    key: &'static str,
    zh: &'static str,
    aliases: &'static [&'static str],
    note_zh: &'static str,
    note_en: &'static str,
) -> ColumnSpec {
    ColumnSpec {
        key,
        zh,
        en: key,
        aliases,
        required: false,
        cell: CellKind::Text,
        note_zh,
        note_en,
        choices: &[],
    }
}

/// Development chains (SPEC C4, 党支部+协会+公司+市场): one per village and product, each link
/// the village's party branch or a registered unit, empty while missing. Natural key: village
/// and product.
pub const CHAINS: KindSpec = KindSpec {
    key: "chains",
    zh: "发展链条",
    en: "development chains",
    natural_key: "village+product",
    columns: &[
        ECONOMY_VILLAGE,
        ColumnSpec {
            key: "product",
            zh: "产品",
            en: "product",
            aliases: &["主导产品", "产品名称"],
            required: true,
            cell: CellKind::Text,
            note_zh: "一般为该村主导产品的名称",
            note_en: "Normally the name of one of the village's lead products",
            choices: &[],
        },
        ColumnSpec {
            key: "branch",
            zh: "党支部",
            en: "branch",
            aliases: &["村党组织", "党组织", "支部", "party_branch", "branch_code"],
            required: false,
            cell: CellKind::Code,
            note_zh: "党组织代码或全称；村党支部的代码一般是村的12位区划代码；留空表示缺此环节",
            note_en: "Party organization code or full name; a village's branch normally has the village's 12-digit code; empty while the link is missing",
            choices: &[],
        },
        chain_unit(
            "association",
            "协会/合作社",
            &["协会", "合作社", "协会(合作社)", "cooperative"],
            "协会或合作社：登记单位的统一社会信用代码或全称；留空表示缺此环节",
            "Association or cooperative: a registered unit's credit code or full name; empty while missing",
        ),
        chain_unit(
            "company",
            "公司",
            &["企业", "龙头企业"],
            "登记单位的统一社会信用代码或全称；留空表示缺此环节",
            "A registered unit's credit code or full name; empty while missing",
        ),
        chain_unit(
            "market",
            "市场",
            &["销售市场"],
            "登记单位的统一社会信用代码或全称；留空表示缺此环节",
            "A registered unit's credit code or full name; empty while missing",
        ),
    ],
};

/// Party-building brands (SPEC C4, 党建品牌). Natural key: name and year.
pub const BRANDS: KindSpec = KindSpec {
    key: "brands",
    zh: "党建品牌",
    en: "party-building brands",
    natural_key: "name+year",
    columns: &[
        ColumnSpec {
            key: "name",
            zh: "品牌名称",
            en: "name",
            aliases: &["党建品牌", "品牌"],
            required: true,
            cell: CellKind::Text,
            note_zh: "",
            note_en: "",
            choices: &[],
        },
        ColumnSpec {
            key: "owner",
            zh: "所属单位或村",
            en: "owner",
            aliases: &["所属单位", "所属村", "创建单位", "owner_unit", "owner_village"],
            required: true,
            cell: CellKind::Code,
            note_zh: "登记单位的统一社会信用代码或全称，或村(社区)的12位区划代码",
            note_en: "A registered unit's credit code or full name, or a village's 12-digit division code",
            choices: &[],
        },
        ColumnSpec {
            key: "zone",
            zh: "所属示范带",
            en: "zone",
            aliases: &["示范带", "片区"],
            required: false,
            cell: CellKind::Text,
            note_zh: "示范带名称，如 一环、东峡线；须是品牌所属单位或村所在县的示范带",
            note_en: "The zone's name, e.g. 一环 or 东峡线; a zone of the owner's county",
            choices: &[],
        },
        ColumnSpec {
            key: "level",
            zh: "品牌级别",
            en: "level",
            aliases: &["级别", "命名级别"],
            required: true,
            cell: CellKind::Choice,
            note_zh: "县级、市级、省级或国家级",
            note_en: "county, city, province or national",
            choices: crate::economy::BRAND_LEVELS,
        },
        ColumnSpec {
            key: "year",
            zh: "命名年度",
            en: "year",
            aliases: &["年度", "年份", "命名年份"],
            required: true,
            cell: CellKind::Integer,
            note_zh: "品牌命名的年份，1949年至今年",
            note_en: "Year the brand was named, from 1949 to this year",
            choices: &[],
        },
    ],
};

/// Annual income of village collectives (SPEC C5, 村集体经济收入), one row per village, year
/// and source. Natural key: village, year and source.
pub const INCOME: KindSpec = KindSpec {
    key: "income",
    zh: "村集体经济收入",
    en: "collective income",
    natural_key: "village+year+source",
    columns: &[
        ECONOMY_VILLAGE,
        ECONOMY_YEAR,
        ColumnSpec {
            key: "source",
            zh: "收入来源",
            en: "source",
            aliases: &["来源", "收入项目", "收入类别"],
            required: true,
            cell: CellKind::Choice,
            note_zh: "每行一个来源：经营收入、发包及上交收入、投资收益、服务收入、补助收入或其他收入",
            note_en: "One source per row: operating, contracting and leasing, investment returns, services, subsidies or other",
            choices: INCOME_SOURCES,
        },
        ColumnSpec {
            key: "amount",
            zh: "金额(元)",
            en: "amount",
            aliases: &["收入金额", "金额", "收入", "amount_yuan"],
            required: true,
            cell: CellKind::Decimal,
            note_zh: "全年金额，单位元，不能为负，如 12,345.67 或 1.2万；表头写“金额(万元)”时按万元读",
            note_en: "The year's amount in yuan, not negative, e.g. 12,345.67 or 1.2万; read in 万 (10,000 yuan) when the header says 万元",
            choices: &[],
        },
    ],
};

/// Yearly income targets of village collectives (SPEC C5). Natural key: village and year.
pub const TARGETS: KindSpec = KindSpec {
    key: "targets",
    zh: "收入目标",
    en: "income targets",
    natural_key: "village+year",
    columns: &[
        ECONOMY_VILLAGE,
        ColumnSpec {
            key: "year",
            zh: "年度",
            en: "year",
            aliases: &["年份"],
            required: true,
            cell: CellKind::Integer,
            note_zh: "须在村所在县示范带的建设期内（建设期前5年为基期，也可填写）",
            note_en: "Within the years of the program of the village's county (or the five years before them, the baseline)",
            choices: &[],
        },
        ColumnSpec {
            key: "target",
            zh: "目标收入(元)",
            en: "target",
            aliases: &["收入目标", "目标", "目标金额", "target_yuan"],
            required: true,
            cell: CellKind::Decimal,
            note_zh: "当年村集体经济收入目标，单位元，如 50000 或 5万；表头写“目标收入(万元)”时按万元读",
            note_en: "The year's collective income target in yuan, e.g. 50000 or 5万; read in 万 (10,000 yuan) when the header says 万元",
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
        assert_eq!(kind("targets").map(|k| k.natural_key), Some("village+year"));
    }

    #[test]
    fn income_source_choices_are_the_core_sources() {
        use std::str::FromStr;

        use crate::economy::IncomeSource;
        let keys: Vec<&str> = INCOME_SOURCES.iter().map(|c| c.0).collect();
        let core: Vec<&str> = IncomeSource::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(keys, core);
        for &(key, zh, _) in INCOME_SOURCES {
            let s = IncomeSource::from_str(key).expect("key parses");
            assert_eq!(s.zh(), zh);
            assert_eq!(IncomeSource::from_str(zh), Ok(s));
        }
    }
}
