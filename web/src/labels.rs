//! Japanese labels for the contract's codes, and the display formats the dashboard uses.
//!
//! Pure functions over strings, shared by the server render and the browser, so both
//! produce the same text (hydration requires it). An unknown code is shown as itself
//! rather than hidden: a new code from the hub must stay visible to an officer. The codes
//! and their Japanese names are the core's (`label_ja` of `SystemCategory`,
//! `ComplianceStatus`, `VerdictKind`, `Reason`, `OfflineReason`); this module adds the
//! badges' tones and the display formats.

use chrono::{DateTime, Datelike, Timelike};
use monban_core::compliance::ComplianceStatus;
use monban_core::health::OfflineReason;
use monban_core::{Reason, SiteOffset, SystemCategory, VerdictKind};
use std::str::FromStr;

/// The Japanese name of a code the core knows, else the code itself.
fn ja<T: FromStr>(code: &str, label: impl Fn(T) -> &'static str) -> &str {
    T::from_str(code).map(label).unwrap_or(code)
}

/// A label with the CSS modifier that colours it (the badge's class is `badge badge--{tone}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Badge {
    pub label: &'static str,
    pub tone: &'static str,
}

/// System category (CONTRACT §4) → Japanese.
pub fn category(code: &str) -> &str {
    ja(code, SystemCategory::label_ja)
}

/// Compliance status (CONTRACT §8) → English, else the code itself.
pub fn status_en(code: &str) -> &str {
    ja(code, ComplianceStatus::label_en)
}

/// Verdict (CONTRACT §3) → English, else the code itself.
pub fn verdict_en(code: &str) -> &str {
    ja(code, VerdictKind::label_en)
}

/// Native MFA capability → あり/なし.
pub fn native_mfa(yes: bool) -> &'static str {
    if yes {
        "あり"
    } else {
        "なし"
    }
}

/// Compliance status (CONTRACT §8) → badge.
pub fn status(code: &str) -> Badge {
    match ComplianceStatus::from_str(code) {
        Ok(s) => Badge {
            label: s.label_ja(),
            tone: match s {
                ComplianceStatus::NoData => "neutral",
                ComplianceStatus::Direct => "ok",
                ComplianceStatus::Combined => "combined",
                ComplianceStatus::Gap => "gap",
            },
        },
        Err(_) => Badge {
            label: "不明",
            tone: "neutral",
        },
    }
}

/// Door state → badge.
pub fn door_state(code: &str) -> Badge {
    match code {
        "online" => Badge {
            label: "オンライン",
            tone: "ok",
        },
        "offline" => Badge {
            label: "オフライン",
            tone: "gap",
        },
        _ => Badge {
            label: "不明",
            tone: "neutral",
        },
    }
}

/// Why a door is offline → Japanese.
pub fn offline_reason(code: &str) -> &str {
    ja(code, OfflineReason::label_ja)
}

/// Connector source → label.
pub fn door_source(code: &str) -> &str {
    match code {
        "mqtt" => "MQTT",
        "modbus" => "Modbus TCP",
        other => other,
    }
}

/// Login verdict (CONTRACT §3) → badge.
pub fn verdict(code: &str) -> Badge {
    match VerdictKind::from_str(code) {
        Ok(v) => Badge {
            label: v.label_ja(),
            tone: match v {
                VerdictKind::Direct2fa => "ok",
                VerdictKind::CombinedMeasures => "combined",
                VerdictKind::NotMet => "gap",
                VerdictKind::NotApplicable => "neutral",
            },
        },
        Err(_) => Badge {
            label: "不明",
            tone: "neutral",
        },
    }
}

/// A `not_met` reason code (CONTRACT §3) → Japanese.
pub fn reason(code: &str) -> &str {
    ja(code, Reason::label_ja)
}

/// A login factor name (CONTRACT §2) → Japanese.
pub fn factor(code: &str) -> &str {
    match code {
        "password" => "パスワード",
        "pin" => "PIN",
        "totp" => "TOTP",
        "hotp" => "HOTP",
        "sms_otp" => "SMSワンタイム",
        "smartcard" => "スマートカード",
        "ic_card" => "ICカード",
        "security_key" => "セキュリティキー",
        "push" => "プッシュ承認",
        "webauthn" => "WebAuthn",
        "webauthn_uv" => "WebAuthn（本人確認）",
        "fingerprint" => "指紋",
        "face" => "顔",
        "vein" => "静脈",
        "biometric" => "生体",
        other => other,
    }
}

/// 確定 (final) or 暫定 (may still change within the grace period).
pub fn finality(is_final: bool) -> &'static str {
    if is_final {
        "確定"
    } else {
        "暫定"
    }
}

/// An RFC 3339 instant in JST as `2026-11-21 09:05:00`. Text that does not parse is
/// returned unchanged, so a bad value is visible rather than silently dropped.
pub fn jst_time(rfc3339: &str) -> String {
    match DateTime::parse_from_rfc3339(rfc3339) {
        Ok(t) => {
            // Spelled out rather than `format("%Y-…")`: chrono's strftime machinery would
            // add tens of kilobytes to the wasm bundle for one fixed pattern.
            // Japan has no daylight saving time, so a fixed offset is exact.
            let t = t.with_timezone(&SiteOffset::JST.fixed());
            format!(
                "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
                t.year(),
                t.month(),
                t.day(),
                t.hour(),
                t.minute(),
                t.second()
            )
        }
        Err(_) => rfc3339.to_string(),
    }
}

/// Coverage (0.0..=1.0) as `87.5%`; `—` when there is no successful login to cover.
pub fn coverage(coverage: f64, successful: u64) -> String {
    if successful == 0 {
        return "—".to_string();
    }
    format!("{:.1}%", coverage_percent(coverage))
}

/// Coverage as a percentage clamped to 0..=100, for the bar's width. NaN counts as 0.
pub fn coverage_percent(coverage: f64) -> f64 {
    if coverage.is_nan() {
        0.0
    } else {
        (coverage * 100.0).clamp(0.0, 100.0)
    }
}

/// A hub user's role (`admin`, `officer`, …) → (Japanese, English).
pub fn role(code: &str) -> (&str, &str) {
    match code {
        "admin" => ("管理者", "Administrator"),
        "officer" => ("セキュリティ責任者", "Security officer"),
        "facilities" => ("施設・設備", "Facilities"),
        "auditor" => ("監査", "Auditor"),
        other => (other, other),
    }
}

/// An audit-trail action (`signin.success`, `token.issue`, …) → a label; unknown
/// actions are shown as themselves.
pub fn audit_action(code: &str, en: bool) -> &str {
    let (ja, e) = match code {
        "signin.success" => ("サインイン成功", "Signed in"),
        "signin.failure" => ("サインイン失敗", "Sign-in failed"),
        "signout" => ("サインアウト", "Signed out"),
        "invite.create" => ("登録リンク発行", "Invite created"),
        "invite.use" => ("登録リンク使用", "Invite used"),
        "invite.refused" => ("登録リンク拒否", "Invite refused"),
        "person_invite.create" => ("職員の登録リンク発行", "Person invite created"),
        "passkey.add" => ("パスキー追加", "Passkey added"),
        "passkey.rename" => ("パスキー名変更", "Passkey renamed"),
        "passkey.revoke" => ("パスキー失効", "Passkey revoked"),
        "user.role" => ("役割変更", "Role changed"),
        "user.disable" => ("ユーザー無効化", "User disabled"),
        "user.enable" => ("ユーザー有効化", "User enabled"),
        "token.issue" => ("トークン発行", "Token issued"),
        "token.revoke" => ("トークン失効", "Token revoked"),
        "access.denied" => ("アクセス拒否", "Access denied"),
        "step_up.verified" => ("本人確認成功", "Step-up verified"),
        "step_up.failure" => ("本人確認失敗", "Step-up failed"),
        "inventory.edit" => ("棚卸し編集", "Inventory edited"),
        "inventory.remove" => ("棚卸し削除", "Inventory row removed"),
        "inventory.import" => ("棚卸し取り込み", "Inventory imported"),
        "inventory.discard" => ("棚卸し取り消し", "Inventory import discarded"),
        other => (other, other),
    };
    if en {
        e
    } else {
        ja
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jst_formats_utc_and_offsets() {
        assert_eq!(jst_time("2026-11-21T00:05:00Z"), "2026-11-21 09:05:00");
        assert_eq!(jst_time("2026-11-21T09:05:00+09:00"), "2026-11-21 09:05:00");
        assert_eq!(jst_time("2026-11-20T15:00:00Z"), "2026-11-21 00:00:00");
        assert_eq!(jst_time("not a time"), "not a time");
    }

    #[test]
    fn coverage_formats() {
        assert_eq!(coverage(1.0, 10), "100.0%");
        assert_eq!(coverage(0.875, 8), "87.5%");
        assert_eq!(coverage(0.0, 0), "—");
        assert_eq!(coverage_percent(f64::NAN), 0.0);
        assert_eq!(coverage_percent(1.5), 100.0);
    }

    #[test]
    fn labels() {
        assert_eq!(category("ehr"), "電子カルテ");
        assert_eq!(category("lab"), "lab");
        assert_eq!(status("combined").label, "複合対策で充足");
        assert_eq!(verdict("not_applicable").label, "対象外（失敗）");
        assert_eq!(reason("same_category"), "入室と同じ要素の種類");
        assert_eq!(reason("new_code"), "new_code");
        assert_eq!(finality(false), "暫定");
        assert_eq!(role("officer"), ("セキュリティ責任者", "Security officer"));
        assert_eq!(role("root"), ("root", "root"));
        assert_eq!(audit_action("token.issue", false), "トークン発行");
        assert_eq!(audit_action("token.issue", true), "Token issued");
        assert_eq!(audit_action("new.thing", true), "new.thing");
    }
}
