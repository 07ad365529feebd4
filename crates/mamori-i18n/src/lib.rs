//! Messages in Japanese (default) and English, from Fluent resource files compiled into the
//! binary (`locales/{ja,en}/*.ftl`). Japanese is written as MHLW documents write it.
#![forbid(unsafe_code)]

use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{Loader, static_loader};
use std::borrow::Cow;
use std::collections::HashMap;
use unic_langid::{LanguageIdentifier, langid};

static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "ja",
        // No Unicode isolation marks around arguments: terminals and logs show them as junk.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Ja,
    En,
}

static JA: LanguageIdentifier = langid!("ja");
static EN: LanguageIdentifier = langid!("en");

impl Lang {
    /// `ja`, `ja_JP.UTF-8`, `en-US` … → a language; anything else → `None`.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let t = tag.trim().to_ascii_lowercase();
        if t.starts_with("ja") {
            Some(Lang::Ja)
        } else if t.starts_with("en") {
            Some(Lang::En)
        } else {
            None
        }
    }

    /// An explicit choice (`--lang`), else `MAMORI_LANG`, `LC_ALL`, `LC_MESSAGES`, `LANG`;
    /// Japanese when none names a language we have (including `C` and `POSIX`).
    pub fn detect(explicit: Option<&str>) -> Lang {
        if let Some(l) = explicit.and_then(Lang::from_tag) {
            return l;
        }
        for var in ["MAMORI_LANG", "LC_ALL", "LC_MESSAGES", "LANG"] {
            if let Ok(v) = std::env::var(var)
                && !v.is_empty()
            {
                // The first variable that is set decides, as in POSIX locale resolution.
                return Lang::from_tag(&v).unwrap_or_default();
            }
        }
        Lang::Ja
    }

    pub fn tag(self) -> &'static str {
        match self {
            Lang::Ja => "ja",
            Lang::En => "en",
        }
    }

    fn id(self) -> &'static LanguageIdentifier {
        match self {
            Lang::Ja => &JA,
            Lang::En => &EN,
        }
    }

    /// The message `key`; the key itself if it is missing (a test keeps that from happening).
    pub fn t(self, key: &str) -> String {
        LOCALES.try_lookup(self.id(), key).unwrap_or_else(|| key.to_owned())
    }

    pub fn try_t(self, key: &str) -> Option<String> {
        LOCALES.try_lookup(self.id(), key)
    }

    /// The message `key` with named arguments.
    pub fn ta(self, key: &str, args: &[(&'static str, Arg)]) -> String {
        let map: HashMap<Cow<'static, str>, FluentValue> =
            args.iter().map(|(k, v)| (Cow::Borrowed(*k), v.to_fluent())).collect();
        LOCALES.try_lookup_with_args(self.id(), key, &map).unwrap_or_else(|| key.to_owned())
    }

    /// [`Lang::ta`], or `None` when the key is missing.
    pub fn try_ta(self, key: &str, args: &[(&'static str, Arg)]) -> Option<String> {
        let map: HashMap<Cow<'static, str>, FluentValue> =
            args.iter().map(|(k, v)| (Cow::Borrowed(*k), v.to_fluent())).collect();
        LOCALES.try_lookup_with_args(self.id(), key, &map)
    }
}

/// A message argument.
#[derive(Debug, Clone)]
pub enum Arg {
    Str(String),
    Num(f64),
}

impl Arg {
    fn to_fluent(&self) -> FluentValue<'static> {
        match self {
            Arg::Str(s) => FluentValue::from(s.clone()),
            Arg::Num(n) => FluentValue::from(*n),
        }
    }
}

impl From<&str> for Arg {
    fn from(s: &str) -> Self {
        Arg::Str(s.to_owned())
    }
}
impl From<String> for Arg {
    fn from(s: String) -> Self {
        Arg::Str(s)
    }
}
impl From<&String> for Arg {
    fn from(s: &String) -> Self {
        Arg::Str(s.clone())
    }
}
impl From<u64> for Arg {
    fn from(n: u64) -> Self {
        Arg::Num(n as f64)
    }
}
impl From<i64> for Arg {
    fn from(n: i64) -> Self {
        Arg::Num(n as f64)
    }
}
impl From<usize> for Arg {
    fn from(n: usize) -> Self {
        Arg::Num(n as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn keys(src: &str) -> BTreeSet<String> {
        src.lines()
            .filter(|l| !l.starts_with([' ', '#', '\t', '.', '*', '[']) && l.contains(" ="))
            .map(|l| l.split(" =").next().unwrap().trim().to_owned())
            .collect()
    }

    #[test]
    fn japanese_and_english_have_the_same_keys() {
        let mut ja = keys(include_str!("../locales/ja/main.ftl"));
        ja.extend(keys(include_str!("../locales/ja/findings.ftl")));
        let mut en = keys(include_str!("../locales/en/main.ftl"));
        en.extend(keys(include_str!("../locales/en/findings.ftl")));
        assert!(ja.len() > 20);
        let only_ja: Vec<_> = ja.difference(&en).collect();
        let only_en: Vec<_> = en.difference(&ja).collect();
        assert!(only_ja.is_empty() && only_en.is_empty(), "ja only: {only_ja:?}, en only: {only_en:?}");
        for k in &ja {
            assert!(Lang::Ja.try_t(k).is_some() || k.contains('-'), "{k}");
        }
    }

    #[test]
    fn arguments_are_filled_without_isolation_marks() {
        let s = Lang::Ja.ta("serve-listening", &[("url", "http://127.0.0.1:8780/".into())]);
        assert!(s.contains("http://127.0.0.1:8780/"), "{s}");
        assert!(!s.contains('\u{2068}'), "{s:?}");
        let en = Lang::En.ta("serve-listening", &[("url", "u".into())]);
        assert_eq!(en, "mamori is running: u");
        assert_eq!(Lang::Ja.t("jobs-none"), "ジョブはありません。");
    }

    #[test]
    fn tags_resolve() {
        assert_eq!(Lang::from_tag("ja_JP.UTF-8"), Some(Lang::Ja));
        assert_eq!(Lang::from_tag("en_US.UTF-8"), Some(Lang::En));
        assert_eq!(Lang::from_tag("C"), None);
        assert_eq!(Lang::detect(Some("en")), Lang::En);
    }
}
