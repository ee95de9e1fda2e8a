//! The `[[mqtt.sources]]` tables as written in `monban.toml`, deserialised with serde.
//!
//! [`SourceConfig`] is internally tagged by `preset`. serde honours
//! `deny_unknown_fields` on the *inner* struct of a newtype variant (the tag is taken
//! out before the struct sees the table), so every preset's struct refuses keys it does
//! not know; `unknown_keys_are_refused` in the tests holds us to that.
//!
//! Nothing is checked here beyond the shape: [`SourceConfig::compile`] does the checking
//! and builds the [`Source`].

use super::value::DEFAULT_OFFSET;
use super::{contact, esp_rfid, generic, uhppoted, MappingError, Preset, Source};
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;
use std::fmt;

/// One `[[mqtt.sources]]` table.
// A handful of these exist, once, at start-up: boxing the generic variant would only
// make matching on it clumsier.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "preset")]
pub enum SourceConfig {
    #[serde(rename = "esp-rfid")]
    EspRfid(EspRfidConfig),
    #[serde(rename = "uhppoted")]
    Uhppoted(UhppotedConfig),
    #[serde(rename = "tasmota")]
    Tasmota(TasmotaConfig),
    #[serde(rename = "esphome")]
    Esphome(EsphomeConfig),
    #[serde(rename = "shelly")]
    Shelly(ShellyConfig),
    #[serde(rename = "generic")]
    Generic(GenericConfig),
}

/// `preset = "esp-rfid"`: an esp-rfid reader (or several sharing one topic).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EspRfidConfig {
    pub name: Option<String>,
    /// esp-rfid's MQTT topic setting.
    pub topic: String,
    /// The door of every message of this device.
    pub door: Option<String>,
    /// Or, when several devices share the topic: the payload's `door` or `hostname` →
    /// door id.
    #[serde(default)]
    pub doors: BTreeMap<String, String>,
    /// What the reader reads: `card` (default), `biometric`, `mobile`, …
    pub credential_type: Option<String>,
    /// For device times written as local text (esp-rfid writes Unix seconds).
    pub utc_offset: Option<String>,
}

/// `preset = "uhppoted"`: a uhppoted-mqtt gateway for UHPPOTE controllers.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UhppotedConfig {
    pub name: Option<String>,
    /// Default `uhppoted/gateway/events`.
    pub topic: Option<String>,
    /// `"{controller serial}:{door number}"` → door id.
    pub doors: BTreeMap<String, String>,
    /// The controllers' clock (default `+09:00`).
    pub utc_offset: Option<String>,
}

/// `preset = "tasmota"`: a Tasmota device with a door contact on a switch input.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TasmotaConfig {
    pub name: Option<String>,
    /// Tasmota's `%topic%`.
    pub topic: String,
    pub door: String,
    /// Default `Switch1`.
    pub switch: Option<String>,
    /// The state that means open: `ON` (default) or `OFF`.
    pub open: Option<String>,
}

/// `preset = "esphome"`: an ESPHome node with a door `binary_sensor`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EsphomeConfig {
    pub name: Option<String>,
    /// ESPHome's `topic_prefix` (the node name by default).
    pub topic: String,
    pub door: String,
    /// The binary_sensor's object id (default `door`).
    pub sensor: Option<String>,
    /// `ON` (default) or `OFF`.
    pub open: Option<String>,
}

/// `preset = "shelly"`: a Shelly Door/Window (Gen1).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShellyConfig {
    pub name: Option<String>,
    /// The Shelly device id, e.g. `shellydw2-ABC123`.
    pub topic: String,
    pub door: String,
}

/// `preset = "generic"`: topics and payloads described key by key.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenericConfig {
    /// Required for generic sources.
    pub name: Option<String>,
    /// A topic pattern: `{name}` captures one level; `+` and `#` are allowed.
    pub topic: String,
    pub door: ValueSpecConfig,
    /// Rendered door → door id.
    #[serde(default)]
    pub door_map: BTreeMap<String, String>,
    pub kind: ValueSpecConfig,
    pub event_id: Option<ValueSpecConfig>,
    pub ts: Option<ValueSpecConfig>,
    pub utc_offset: Option<String>,
    pub direction: Option<ValueSpecConfig>,
    pub credential_type: Option<ValueSpecConfig>,
    pub credential_id: Option<ValueSpecConfig>,
}

/// A value spec: a string (`"/pointer"`, a `"{template}"` or a literal), or a table
/// `{ field = <string>, map = { from = "to", "*" = fallback }, default = "…" }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueSpecConfig {
    Text(String),
    Table {
        field: String,
        map: BTreeMap<String, String>,
        default: Option<String>,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ValueTable {
    field: String,
    #[serde(default)]
    map: BTreeMap<String, String>,
    default: Option<String>,
}

impl<'de> Deserialize<'de> for ValueSpecConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ValueSpecConfig;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "a string (\"/json/pointer\", a \"{template}\" or a literal) or a table { field = \"…\", map = { … }, default = \"…\" }",
                )
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
                Ok(ValueSpecConfig::Text(s.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                let t = ValueTable::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(ValueSpecConfig::Table {
                    field: t.field,
                    map: t.map,
                    default: t.default,
                })
            }
        }
        d.deserialize_any(V)
    }
}

/// The checks shared by the presets, each naming the source and the key.
pub(super) struct Check {
    pub name: String,
}

impl Check {
    pub(super) fn err(&self, key: impl Into<String>, message: impl Into<String>) -> MappingError {
        MappingError {
            name: self.name.clone(),
            key: key.into(),
            message: message.into(),
        }
    }

    pub(super) fn door(&self, key: &str, raw: &str) -> Result<monban_core::DoorId, MappingError> {
        monban_core::DoorId::parse(raw).map_err(|e| {
            self.err(
                key,
                format!("{e}; use the door's id from [[doors]] in monban.toml"),
            )
        })
    }

    pub(super) fn device_topic(&self, raw: &str) -> Result<String, MappingError> {
        super::topic::check_device_topic(raw).map_err(|m| self.err("topic", m))?;
        Ok(raw.to_string())
    }

    pub(super) fn offset(&self, raw: Option<&str>) -> Result<chrono::FixedOffset, MappingError> {
        super::value::parse_offset(raw.unwrap_or(DEFAULT_OFFSET))
            .map_err(|m| self.err("utc_offset", m))
    }

    pub(super) fn credential_type(
        &self,
        key: &str,
        raw: Option<&str>,
    ) -> Result<monban_core::CredentialType, MappingError> {
        raw.unwrap_or("card")
            .parse()
            .map_err(|m: String| self.err(key, m))
    }

    /// `ON` or `OFF`, default `ON`: the switch state that means open.
    pub(super) fn on_off(&self, raw: Option<&str>) -> Result<bool, MappingError> {
        match raw.map(|s| s.trim().to_ascii_uppercase()).as_deref() {
            None | Some("ON") => Ok(true),
            Some("OFF") => Ok(false),
            Some(_) => Err(self.err(
                "open",
                format!(
                    "{:?} is not ON or OFF; write the state the device reports when the door is open",
                    raw.unwrap_or_default()
                ),
            )),
        }
    }
}

fn check_name(
    default_name: String,
    name: Option<&str>,
) -> Result<(String, Option<String>), MappingError> {
    match name {
        None => Ok((default_name, None)),
        Some(n) => {
            let bad = |message: &str| MappingError {
                name: n.to_string(),
                key: "name".into(),
                message: message.into(),
            };
            if n.trim().is_empty() {
                return Err(bad("the name must not be empty"));
            }
            if n.chars().count() > 64 || n.chars().any(char::is_control) {
                return Err(bad(
                    "the name must be at most 64 characters without control characters (it starts every event id of the source)",
                ));
            }
            Ok((n.to_string(), Some(n.to_string())))
        }
    }
}

impl SourceConfig {
    /// The preset as written in the TOML.
    pub fn preset(&self) -> &'static str {
        match self {
            SourceConfig::EspRfid(_) => "esp-rfid",
            SourceConfig::Uhppoted(_) => "uhppoted",
            SourceConfig::Tasmota(_) => "tasmota",
            SourceConfig::Esphome(_) => "esphome",
            SourceConfig::Shelly(_) => "shelly",
            SourceConfig::Generic(_) => "generic",
        }
    }

    /// The configured name, or the default `{preset}:{topic}`.
    pub fn name(&self) -> String {
        let (name, topic) = match self {
            SourceConfig::EspRfid(c) => (&c.name, Some(c.topic.as_str())),
            SourceConfig::Uhppoted(c) => (
                &c.name,
                Some(c.topic.as_deref().unwrap_or(uhppoted::DEFAULT_TOPIC)),
            ),
            SourceConfig::Tasmota(c) => (&c.name, Some(c.topic.as_str())),
            SourceConfig::Esphome(c) => (&c.name, Some(c.topic.as_str())),
            SourceConfig::Shelly(c) => (&c.name, Some(c.topic.as_str())),
            SourceConfig::Generic(c) => (&c.name, Some(c.topic.as_str())),
        };
        name.clone()
            .unwrap_or_else(|| format!("{}:{}", self.preset(), topic.unwrap_or_default()))
    }

    /// Checks everything (door ids, topics, templates, maps, offsets) and builds the
    /// [`Source`].
    pub fn compile(&self) -> Result<Source, MappingError> {
        let explicit = match self {
            SourceConfig::EspRfid(c) => c.name.as_deref(),
            SourceConfig::Uhppoted(c) => c.name.as_deref(),
            SourceConfig::Tasmota(c) => c.name.as_deref(),
            SourceConfig::Esphome(c) => c.name.as_deref(),
            SourceConfig::Shelly(c) => c.name.as_deref(),
            SourceConfig::Generic(c) => c.name.as_deref(),
        };
        let (name, explicit) = check_name(self.name(), explicit)?;
        let check = Check { name: name.clone() };
        // The event id prefix: the configured name, else the preset's short prefix.
        let prefix = |short: &str| explicit.clone().unwrap_or_else(|| short.to_string());
        let preset = match self {
            SourceConfig::EspRfid(c) => {
                Preset::EspRfid(esp_rfid::EspRfid::compile(c, &check, prefix("esp"))?)
            }
            SourceConfig::Uhppoted(c) => {
                Preset::Uhppoted(uhppoted::Uhppoted::compile(c, &check, prefix("uh"))?)
            }
            SourceConfig::Tasmota(c) => Preset::Contact(contact::Contact::tasmota(
                c,
                &check,
                name.clone(),
                prefix("tasmota"),
            )?),
            SourceConfig::Esphome(c) => Preset::Contact(contact::Contact::esphome(
                c,
                &check,
                name.clone(),
                prefix("esphome"),
            )?),
            SourceConfig::Shelly(c) => Preset::Contact(contact::Contact::shelly(
                c,
                &check,
                name.clone(),
                prefix("shelly"),
            )?),
            SourceConfig::Generic(c) => {
                let Some(prefix) = explicit else {
                    return Err(check.err(
                        "name",
                        "a generic source needs a name: it names the source in dead letters and starts its event ids",
                    ));
                };
                Preset::Generic(Box::new(generic::Generic::compile(c, &check, prefix)?))
            }
        };
        Ok(Source { name, preset })
    }
}
