//! Japanese first, English on request: the page language comes from the URL (`?lang=en`),
//! so the server render and the hydrated page always agree, links keep the choice, and a
//! page can be bookmarked or printed in either language.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

/// A language of the dashboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Lang {
    /// 日本語 (the default).
    #[default]
    Ja,
    En,
}

impl Lang {
    /// The BCP 47 code, for `lang` attributes and the `?lang=` parameter.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Ja => "ja",
            Lang::En => "en",
        }
    }

    /// The text in this language.
    pub fn pick<'a>(self, ja: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Ja => ja,
            Lang::En => en,
        }
    }

    /// The other language (for the switch).
    pub fn other(self) -> Lang {
        match self {
            Lang::Ja => Lang::En,
            Lang::En => Lang::Ja,
        }
    }

    /// `path` with the language kept: English adds `lang=en` to the query.
    pub fn href(self, path: &str) -> String {
        match self {
            Lang::Ja => path.to_string(),
            Lang::En if path.contains('?') => format!("{path}&lang=en"),
            Lang::En => format!("{path}?lang=en"),
        }
    }

    fn from_query(value: Option<String>) -> Lang {
        match value.as_deref() {
            Some("en") => Lang::En,
            _ => Lang::Ja,
        }
    }
}

/// The language of the current page, from `?lang=`.
pub fn use_lang() -> Memo<Lang> {
    let query = use_query_map();
    Memo::new(move |_| Lang::from_query(query.with(|q| q.get("lang"))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_keep_the_language() {
        assert_eq!(Lang::Ja.href("/rooms"), "/rooms");
        assert_eq!(Lang::En.href("/rooms"), "/rooms?lang=en");
        assert_eq!(Lang::En.href("/export?from=x"), "/export?from=x&lang=en");
        assert_eq!(Lang::from_query(Some("en".into())), Lang::En);
        assert_eq!(Lang::from_query(Some("fr".into())), Lang::Ja);
        assert_eq!(Lang::from_query(None), Lang::Ja);
        assert_eq!(Lang::Ja.other(), Lang::En);
        assert_eq!(Lang::En.pick("概要", "Overview"), "Overview");
    }
}
