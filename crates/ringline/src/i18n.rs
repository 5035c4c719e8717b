//! Bilingual text (zh-CN and en) from Fluent files in `locales/`, compiled into the binary.
//! Every key exists in both languages (checked by a test). Stable error codes double as keys
//! (`error-<code>`).

use std::sync::LazyLock;

use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, Loader, static_loader};

static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "en",
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

static EN: LazyLock<LanguageIdentifier> = LazyLock::new(|| "en".parse().expect("valid language id"));
static ZH: LazyLock<LanguageIdentifier> = LazyLock::new(|| "zh-CN".parse().expect("valid language id"));

/// A user interface language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Lang {
    /// Simplified Chinese (zh-CN).
    Zh,
    /// English (en).
    En,
}

impl Lang {
    /// BCP 47 tag: `zh-CN` or `en`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    /// Parses `zh`, `zh-CN`, `zh-Hans…` or `en…` (case-insensitive).
    pub fn parse(s: &str) -> Option<Lang> {
        let s = s.trim().to_ascii_lowercase();
        if s.starts_with("zh") {
            Some(Lang::Zh)
        } else if s.starts_with("en") {
            Some(Lang::En)
        } else {
            None
        }
    }

    /// The first supported language of an `Accept-Language` header, by q-value; Chinese when
    /// none matches (the product's first users read Chinese).
    pub fn from_accept_language(header: Option<&str>) -> Lang {
        let Some(h) = header else { return Lang::Zh };
        let mut best: Option<(f32, Lang)> = None;
        for part in h.split(',') {
            let mut it = part.split(';');
            let tag = it.next().unwrap_or("");
            let q = it
                .find_map(|p| p.trim().strip_prefix("q=").and_then(|v| v.parse::<f32>().ok()))
                .unwrap_or(1.0);
            if let Some(l) = Lang::parse(tag)
                && best.is_none_or(|(bq, _)| q > bq)
            {
                best = Some((q, l));
            }
        }
        best.map(|(_, l)| l).unwrap_or(Lang::Zh)
    }

    fn id(self) -> &'static LanguageIdentifier {
        match self {
            Lang::Zh => &ZH,
            Lang::En => &EN,
        }
    }

    /// The other language (for the switch link).
    pub fn other(self) -> Lang {
        match self {
            Lang::Zh => Lang::En,
            Lang::En => Lang::Zh,
        }
    }
}

/// A translator for one language; cheap to copy into templates.
#[derive(Debug, Clone, Copy)]
pub struct Tr(pub Lang);

impl Tr {
    /// The text for `key`; the key itself when missing (a test keeps that from happening).
    pub fn get(&self, key: &str) -> String {
        LOCALES.try_lookup(self.0.id(), key).unwrap_or_else(|| key.to_string())
    }

    /// The text for `key` with named arguments.
    pub fn args(&self, key: &str, args: &[(&str, String)]) -> String {
        let map: std::collections::HashMap<std::borrow::Cow<'static, str>, FluentValue> = args
            .iter()
            .map(|(k, v)| {
                // Numbers go in as numbers, so plural rules (one/other) apply.
                let value = match v.parse::<i64>() {
                    Ok(n) => FluentValue::from(n),
                    Err(_) => FluentValue::from(v.clone()),
                };
                (std::borrow::Cow::Owned((*k).to_string()), value)
            })
            .collect();
        LOCALES
            .try_lookup_with_args(self.0.id(), key, &map)
            .unwrap_or_else(|| key.to_string())
    }

    /// The text of key `<prefix>-<value>`, or `value` itself when there is no such key (values
    /// from the data that have no translation).
    pub fn label(&self, prefix: &str, value: &str) -> String {
        let key = format!("{prefix}-{value}");
        let s = self.get(&key);
        if s == key { value.to_string() } else { s }
    }

    /// The text for `key` with named arguments, or `None` when the key is missing.
    pub fn try_args(&self, key: &str, args: &[(&str, String)]) -> Option<String> {
        let s = self.args(key, args);
        (s != key).then_some(s)
    }

    /// The language.
    pub fn lang(&self) -> Lang {
        self.0
    }

    /// Picks the Chinese or English variant of a stored bilingual field.
    pub fn pick<'a>(&self, zh: &'a str, en: &'a str) -> &'a str {
        match self.0 {
            Lang::Zh => zh,
            Lang::En if en.is_empty() => zh,
            Lang::En => en,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn keys(text: &str) -> BTreeSet<String> {
        text.lines()
            .filter(|l| !l.starts_with(' ') && !l.starts_with('#') && l.contains(" ="))
            .filter_map(|l| l.split(" =").next())
            .map(|k| k.trim().to_string())
            .filter(|k| !k.is_empty())
            .collect()
    }

    #[test]
    fn every_key_exists_in_both_languages() {
        let mut en = keys(include_str!("../locales/en/main.ftl"));
        en.extend(keys(include_str!("../locales/en/import.ftl")));
        en.extend(keys(include_str!("../locales/en/registry.ftl")));
        en.extend(keys(include_str!("../locales/en/dispatch.ftl")));
        en.extend(keys(include_str!("../locales/en/economy.ftl")));
        en.extend(keys(include_str!("../locales/en/kinds.ftl")));
        let mut zh = keys(include_str!("../locales/zh-CN/main.ftl"));
        zh.extend(keys(include_str!("../locales/zh-CN/import.ftl")));
        zh.extend(keys(include_str!("../locales/zh-CN/registry.ftl")));
        zh.extend(keys(include_str!("../locales/zh-CN/dispatch.ftl")));
        zh.extend(keys(include_str!("../locales/zh-CN/economy.ftl")));
        zh.extend(keys(include_str!("../locales/zh-CN/kinds.ftl")));
        assert!(en.len() > 50, "{} keys", en.len());
        let only_en: Vec<_> = en.difference(&zh).collect();
        let only_zh: Vec<_> = zh.difference(&en).collect();
        assert!(
            only_en.is_empty() && only_zh.is_empty(),
            "only en: {only_en:?}; only zh: {only_zh:?}"
        );
    }

    #[test]
    fn lookup_and_negotiation() {
        assert_eq!(Tr(Lang::En).get("nav-divisions"), "Divisions");
        assert_eq!(Tr(Lang::Zh).get("nav-divisions"), "行政区划");
        assert_eq!(Lang::from_accept_language(Some("en-US,en;q=0.9,zh-CN;q=0.8")), Lang::En);
        assert_eq!(Lang::from_accept_language(Some("fr, zh-CN;q=0.5, en;q=0.4")), Lang::Zh);
        assert_eq!(Lang::from_accept_language(Some("de")), Lang::Zh);
        assert_eq!(Lang::from_accept_language(None), Lang::Zh);
        assert_eq!(
            Tr(Lang::En).args("members-count", &[("count", "14".into())]),
            "14 members"
        );
    }
}
