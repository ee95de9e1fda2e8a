//! Factor categories (CONTRACT §2): knowledge (知識), possession (所持), inherence (生体).
//!
//! A login names its factors (`password`, `totp`, `webauthn_uv`, …); a door event names
//! the credential type that admitted a person (`card`, `pin`, `card_biometric`, …). Both
//! map to a [`CategorySet`]; a verdict asks whether the union spans two or more
//! categories.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// One authentication factor category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Knowledge,
    Possession,
    Inherence,
}

impl Category {
    fn bit(self) -> u8 {
        match self {
            Category::Knowledge => 1,
            Category::Possession => 2,
            Category::Inherence => 4,
        }
    }
    pub fn label_ja(self) -> &'static str {
        match self {
            Category::Knowledge => "知識",
            Category::Possession => "所持",
            Category::Inherence => "生体",
        }
    }
}

/// A set of categories.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct CategorySet(u8);

impl CategorySet {
    pub const EMPTY: CategorySet = CategorySet(0);

    pub fn of(categories: &[Category]) -> Self {
        CategorySet(categories.iter().fold(0, |acc, c| acc | c.bit()))
    }
    pub fn union(self, other: CategorySet) -> Self {
        CategorySet(self.0 | other.0)
    }
    pub fn len(self) -> u32 {
        self.0.count_ones()
    }
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    /// Two or more categories: what 二要素認証 needs.
    pub fn spans_two(self) -> bool {
        self.len() >= 2
    }
    pub fn contains(self, c: Category) -> bool {
        self.0 & c.bit() != 0
    }
    pub fn iter(self) -> impl Iterator<Item = Category> {
        [
            Category::Knowledge,
            Category::Possession,
            Category::Inherence,
        ]
        .into_iter()
        .filter(move |c| self.contains(*c))
    }
}

macro_rules! named_enum {
    ($(#[$doc:meta])* $name:ident, $what:literal { $($variant:ident => $wire:literal : [$($cat:ident),*]),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "&'static str")]
        pub enum $name { $($variant),* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $wire),* }
            }
            pub fn categories(self) -> CategorySet {
                match self { $($name::$variant => CategorySet::of(&[$(Category::$cat),*])),* }
            }
        }
        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($wire => Ok($name::$variant),)*
                    other => Err(format!(
                        concat!("unknown ", $what, " {:?}; expected one of: {}"),
                        other,
                        [$($wire),*].join(", ")
                    )),
                }
            }
        }
        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(s: String) -> Result<Self, String> { s.parse() }
        }
        impl From<$name> for &'static str {
            fn from(v: $name) -> &'static str { v.as_str() }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.as_str()) }
        }
    };
}

named_enum!(
    /// A login factor name (CONTRACT §2).
    Factor, "factor" {
    Password => "password": [Knowledge],
    Pin => "pin": [Knowledge],
    Totp => "totp": [Possession],
    Hotp => "hotp": [Possession],
    SmsOtp => "sms_otp": [Possession],
    Smartcard => "smartcard": [Possession],
    IcCard => "ic_card": [Possession],
    SecurityKey => "security_key": [Possession],
    Push => "push": [Possession],
    Webauthn => "webauthn": [Possession],
    Fingerprint => "fingerprint": [Inherence],
    Face => "face": [Inherence],
    Vein => "vein": [Inherence],
    Biometric => "biometric": [Inherence],
    WebauthnUv => "webauthn_uv": [Possession, Inherence],
});

named_enum!(
    /// A door credential type (CONTRACT §2).
    CredentialType, "credential type" {
    Pin => "pin": [Knowledge],
    Card => "card": [Possession],
    Mobile => "mobile": [Possession],
    Biometric => "biometric": [Inherence],
    CardBiometric => "card_biometric": [Possession, Inherence],
    CardPin => "card_pin": [Possession, Knowledge],
});

impl Factor {
    /// The categories a set of login factors spans.
    pub fn categories_of(factors: &[Factor]) -> CategorySet {
        factors
            .iter()
            .fold(CategorySet::EMPTY, |acc, f| acc.union(f.categories()))
    }
}

/// A credential a person holds: `card:04A1B2C3`, `biometric:P0001`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Credential {
    #[serde(rename = "type")]
    pub kind: CredentialType,
    pub id: String,
}

impl Credential {
    pub fn new(kind: CredentialType, id: &str) -> Result<Self, String> {
        let id = id.trim();
        if id.is_empty() {
            return Err("credential id must not be empty".into());
        }
        if id.len() > 128 || id.chars().any(|c| c.is_control()) {
            return Err(format!(
                "credential id {id:?} is too long or has control characters"
            ));
        }
        Ok(Credential {
            kind,
            id: id.to_string(),
        })
    }
    /// The key credentials are matched on: type plus the id without regard to case
    /// (card readers disagree on hex case).
    pub fn match_key(&self) -> (CredentialType, String) {
        (self.kind, self.id.to_ascii_uppercase())
    }
}

impl FromStr for Credential {
    type Err = String;
    /// Parses the inventory form `type:id`.
    fn from_str(s: &str) -> Result<Self, String> {
        let (kind, id) = s.split_once(':').ok_or_else(|| {
            format!("credential {s:?} must be written type:id, e.g. \"card:04A1B2C3\"")
        })?;
        Credential::new(kind.trim().parse()?, id)
    }
}

impl fmt::Display for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind, self.id)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn contract_table_for_factors() {
        use Category::*;
        let cases: &[(&str, &[Category])] = &[
            ("password", &[Knowledge]),
            ("pin", &[Knowledge]),
            ("totp", &[Possession]),
            ("hotp", &[Possession]),
            ("sms_otp", &[Possession]),
            ("smartcard", &[Possession]),
            ("ic_card", &[Possession]),
            ("security_key", &[Possession]),
            ("push", &[Possession]),
            ("webauthn", &[Possession]),
            ("fingerprint", &[Inherence]),
            ("face", &[Inherence]),
            ("vein", &[Inherence]),
            ("biometric", &[Inherence]),
            ("webauthn_uv", &[Possession, Inherence]),
        ];
        assert_eq!(cases.len(), Factor::ALL.len());
        for (name, cats) in cases {
            let f: Factor = name.parse().unwrap();
            assert_eq!(f.categories(), CategorySet::of(cats), "{name}");
            assert_eq!(f.as_str(), *name);
        }
    }

    #[test]
    fn contract_table_for_credentials() {
        use Category::*;
        let cases: &[(&str, &[Category])] = &[
            ("pin", &[Knowledge]),
            ("card", &[Possession]),
            ("mobile", &[Possession]),
            ("biometric", &[Inherence]),
            ("card_biometric", &[Possession, Inherence]),
            ("card_pin", &[Possession, Knowledge]),
        ];
        assert_eq!(cases.len(), CredentialType::ALL.len());
        for (name, cats) in cases {
            let c: CredentialType = name.parse().unwrap();
            assert_eq!(c.categories(), CategorySet::of(cats), "{name}");
        }
    }

    #[test]
    fn unknown_names_are_errors() {
        assert!("retina"
            .parse::<Factor>()
            .unwrap_err()
            .contains("unknown factor"));
        assert!("badge".parse::<CredentialType>().is_err());
        assert!("card".parse::<Credential>().is_err());
        assert!("card:".parse::<Credential>().is_err());
    }

    #[test]
    fn spans() {
        let pw = Factor::categories_of(&[Factor::Password]);
        assert!(!pw.spans_two());
        assert!(pw.union(CredentialType::Card.categories()).spans_two());
        assert!(!pw.union(CredentialType::Pin.categories()).spans_two());
        assert!(Factor::categories_of(&[Factor::WebauthnUv]).spans_two());
        assert!(Factor::categories_of(&[Factor::Password, Factor::Totp]).spans_two());
        assert!(!Factor::categories_of(&[Factor::Password, Factor::Pin]).spans_two());
    }
}
