//! The login evidence page (`/logins/:id`, `:id` the login's URL-encoded event_id): the
//! chain door event → person → login → verdict → rule, in words an inspector understands,
//! in Japanese and English, with the history of verdict changes and their causes.
//!
//! Times are shown at a fixed UTC offset: `+09:00` (JST) by default, another with
//! `?tz=-05:00` (or `?tz=Z`; an unencoded `+` that arrives as a space is accepted). Japan
//! has no daylight saving time, so a fixed offset is exact there; `datetime=` attributes
//! keep RFC 3339. An unknown event_id renders "not found" with status 404.
//!
//! # Test hooks
//! - `data-testid="evidence-login"` with `data-event-id`, `data-verdict`, `data-final`.
//! - `data-testid="evidence-verdict"` (the verdict's label), `evidence-reason` with
//!   `data-reason` (one per failed check), `evidence-rule` (the §3 rule that applies).
//! - `data-testid="evidence-entry"` with `data-entry-event-id`, `data-door`,
//!   `data-credential-type`, `data-entered-at`, `data-source` (only for
//!   `combined_measures`).
//! - `data-testid="evidence-person"`, `evidence-history` with one `verdict-change` row
//!   per change (`data-verdict`, `data-cause`).
//! - `data-testid="not-found"` for an unknown id.

use chrono::{DateTime, Datelike, Timelike};
use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};
use monban_core::{Reason, SiteOffset};
use serde::{Deserialize, Serialize};

use crate::api::DashError;
use crate::app::{use_live_tick, Layout};
use crate::i18n::{use_lang, Lang};

/// A login factor or door credential with the categories it belongs to (CONTRACT §2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FactorInfo {
    pub code: String,
    /// `knowledge`, `possession`, `inherence`.
    pub categories: Vec<String>,
}

/// The door event that admitted the person (the evidence of `combined_measures`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntryInfo {
    pub event_id: String,
    pub door: String,
    pub door_name: Option<String>,
    pub room: Option<String>,
    pub room_name: Option<String>,
    /// RFC 3339.
    pub entered_at: String,
    pub credential: FactorInfo,
    pub credential_id: Option<String>,
    /// `mqtt`, `modbus` or `http`, when the stored event says.
    pub source: Option<String>,
}

/// One row of the `verdict_changes` table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerdictChange {
    pub at: String,
    pub verdict: String,
    pub reasons: Vec<String>,
    pub is_final: bool,
    pub cause: String,
}

/// Everything the evidence page shows about one login.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoginEvidence {
    pub event_id: String,
    /// RFC 3339 login time.
    pub ts: String,
    pub received_at: String,
    /// When the verdict becomes (or became) final.
    pub final_at: String,
    pub system: String,
    pub system_name: Option<String>,
    pub account: String,
    pub person_id: Option<String>,
    pub person_name: Option<String>,
    pub terminal: String,
    pub terminal_name: Option<String>,
    pub room: Option<String>,
    pub room_name: Option<String>,
    pub room_controlled: Option<bool>,
    pub factors: Vec<FactorInfo>,
    pub outcome: String,
    pub verdict: String,
    pub reasons: Vec<String>,
    pub is_final: bool,
    pub entry: Option<EntryInfo>,
    pub history: Vec<VerdictChange>,
    /// The hub's own passkey verification, when the system used step-up
    /// (`webauthn_uv` then comes from the hub, not from the system's word).
    #[serde(default)]
    pub step_up: Option<StepUpInfo>,
}

/// A step-up verification recorded on a login.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepUpInfo {
    pub id: String,
    /// When the system asked (RFC 3339).
    pub requested_at: String,
    /// When the person's passkey was verified (RFC 3339).
    pub verified_at: Option<String>,
    /// The name the person gave the passkey.
    pub passkey_name: Option<String>,
}

/// What this page needs from the hub (implemented by the server over its store).
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait EvidenceSource: Send + Sync + 'static {
    /// The login with its evidence and history; `None` for an unknown event_id.
    async fn login_evidence(
        &self,
        event_id: String,
    ) -> Result<Option<LoginEvidence>, crate::api::SourceError>;
}

/// One login's evidence; `None` (and status 404 on the page) when there is no such login.
#[server(prefix = "/api/dash", endpoint = "login-evidence", input = GetUrl, output = crate::api::TextJson)]
pub async fn get_login_evidence(id: String) -> Result<Option<LoginEvidence>, DashError> {
    use std::sync::Arc;

    let response = use_context::<leptos_axum::ResponseOptions>();
    if let Some(response) = &response {
        response.insert_header(
            axum::http::header::CACHE_CONTROL,
            axum::http::HeaderValue::from_static("no-store"),
        );
    }
    let Some(data) = use_context::<Arc<dyn crate::DashboardSource>>() else {
        tracing::error!("dashboard: no Arc<dyn DashboardSource> in context");
        return Err(DashError::NotConfigured);
    };
    let found = data.login_evidence(id).await.map_err(|message| {
        tracing::warn!(error = %message, "dashboard: login evidence failed");
        DashError::Unavailable
    })?;
    if found.is_none() {
        if let Some(response) = &response {
            response.set_status(axum::http::StatusCode::NOT_FOUND);
        }
    }
    Ok(found)
}

/// Decodes `%XX` escapes once (invalid UTF-8 is replaced, a stray `%` kept).
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                out.push((hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0)) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

// ---- times at a fixed offset -------------------------------------------------------

/// The offset as `UTC+09:00` (`JST` for +09:00).
pub fn offset_label(offset: SiteOffset) -> String {
    if offset == SiteOffset::JST {
        return "JST".to_string();
    }
    format!("UTC{offset}")
}

/// An RFC 3339 instant at `offset` as `2026-11-21 09:05:00`; text that does not parse is
/// returned unchanged.
pub fn local_time(rfc3339: &str, offset: SiteOffset) -> String {
    let Ok(t) = DateTime::parse_from_rfc3339(rfc3339) else {
        return rfc3339.to_string();
    };
    let t = t.with_timezone(&offset.fixed());
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

/// The offset asked for with `?tz=` (`monban_core::SiteOffset::parse`), else the site's
/// default, JST.
pub fn use_offset() -> Memo<SiteOffset> {
    let query = use_query_map();
    Memo::new(move |_| {
        query
            .with(|q| q.get("tz"))
            .and_then(|t| SiteOffset::parse(&t).ok())
            .unwrap_or_default()
    })
}

// ---- words ---------------------------------------------------------------------------

/// A factor category (CONTRACT §2) in words.
pub fn category_label(l: Lang, code: &str) -> String {
    match code {
        "knowledge" => l.pick("知識", "knowledge"),
        "possession" => l.pick("所持", "possession"),
        "inherence" => l.pick("生体", "inherence"),
        other => other,
    }
    .to_string()
}

/// A login factor or door credential type in words.
pub fn factor_label(l: Lang, code: &str) -> String {
    let (ja, en) = match code {
        "password" => ("パスワード", "password"),
        "pin" => ("PIN", "PIN"),
        "totp" => ("TOTP", "TOTP"),
        "hotp" => ("HOTP", "HOTP"),
        "sms_otp" => ("SMS ワンタイムパスワード", "SMS one-time password"),
        "smartcard" => ("スマートカード", "smart card"),
        "ic_card" => ("IC カード", "IC card"),
        "security_key" => ("セキュリティキー", "security key"),
        "push" => ("プッシュ承認", "push approval"),
        "webauthn" => ("WebAuthn", "WebAuthn"),
        "webauthn_uv" => (
            "WebAuthn（本人確認あり）",
            "WebAuthn with user verification",
        ),
        "fingerprint" => ("指紋", "fingerprint"),
        "face" => ("顔認証", "face"),
        "vein" => ("静脈認証", "vein"),
        "biometric" => ("生体認証", "biometric"),
        "card" => ("IC カード", "card"),
        "mobile" => ("スマートフォン", "mobile credential"),
        "card_pin" => ("IC カード + PIN", "card + PIN"),
        "card_biometric" => ("IC カード + 生体", "card + biometric"),
        other => (other, other),
    };
    l.pick(ja, en).to_string()
}

/// `パスワード（知識）` / `password (knowledge)`.
pub fn factor_with_categories(l: Lang, f: &FactorInfo) -> String {
    let cats = f
        .categories
        .iter()
        .map(|c| category_label(l, c))
        .collect::<Vec<_>>()
        .join(l.pick("・", " + "));
    match l {
        Lang::Ja => format!("{}（{cats}）", factor_label(l, &f.code)),
        Lang::En => format!("{} ({cats})", factor_label(l, &f.code)),
    }
}

/// A verdict code in words.
pub fn verdict_label(l: Lang, code: &str) -> String {
    match code {
        "direct_2fa" => l.pick("直接二要素", "direct two-factor"),
        "combined_measures" => l.pick("複合対策", "combined measures"),
        "not_met" => l.pick("未達", "not met"),
        "not_applicable" => l.pick(
            "対象外（失敗したログイン）",
            "not applicable (failed login)",
        ),
        other => other,
    }
    .to_string()
}

/// A failed check of CONTRACT §3, explained.
pub fn reason_explained(l: Lang, code: &str) -> String {
    // Every reason of the contract (`Reason::ALL`) is explained; an unknown code is shown
    // as itself.
    let Ok(reason) = code.parse::<Reason>() else {
        return code.to_string();
    };
    match reason {
        Reason::UnknownTerminal => l.pick(
            "端末が台帳にありません。どの部屋にあるか分からないため、入室管理を根拠にできません。",
            "The terminal is not in the inventory, so the room it stands in is unknown and room-entry control cannot count.",
        ),
        Reason::UncontrolledRoom => l.pick(
            "端末のある部屋は入室管理されていません（controlled = false）。",
            "The terminal's room has no entry control (controlled = false).",
        ),
        Reason::UnmappedAccount => l.pick(
            "アカウントが職員に紐付いていないため、入室した人と同一人物か確認できません。",
            "The account is not mapped to a person, so the login cannot be tied to anyone who entered the room.",
        ),
        Reason::DoorOffline => l.pick(
            "ログイン時刻に部屋の扉がオフラインでした（記録の欠落を含む）。確認できないため認めません。",
            "A door of the room was offline at the login's time (including lost events); the hub fails closed.",
        ),
        Reason::RoomAlarm => l.pick(
            "ログイン時刻に部屋で警報（こじ開け・開放放置・いたずら）が有効でした。",
            "An integrity alarm (door forced, held open or tamper) held for the room at the login's time.",
        ),
        Reason::NoPresence => l.pick(
            "ログイン時刻にこの人が端末の部屋に入室していた記録がありません。",
            "There is no record of this person being in the terminal's room at the login's time.",
        ),
        Reason::SameCategory => l.pick(
            "入室の認証とログインの要素が同じ区分で、合わせても二つの区分になりません。",
            "The entry credential and the login factors are of the same category; together they do not span two categories.",
        ),
    }
    .to_string()
}

/// A cause of a verdict change in words (the raw cause is shown next to it).
fn cause_label(l: Lang, cause: &str) -> String {
    if cause == "received" {
        l.pick(
            "ログイン受信時の判定",
            "verdict when the login was received",
        )
        .to_string()
    } else if cause == "restart" {
        l.pick(
            "ハブ再起動時の再評価",
            "re-evaluated when the hub restarted",
        )
        .to_string()
    } else if cause.starts_with("final") {
        l.pick("猶予期間の終了により確定", "final: the grace period ended")
            .to_string()
    } else if let Some(rest) = cause.strip_prefix("door event ") {
        match l {
            Lang::Ja => format!("扉イベント {rest} の到着"),
            Lang::En => format!("door event {rest} arrived"),
        }
    } else if cause.starts_with("door ") {
        match l {
            Lang::Ja => format!("扉の状態の変化（{cause}）"),
            Lang::En => format!("door status change ({cause})"),
        }
    } else {
        cause.to_string()
    }
}

/// The rule of CONTRACT §3 that applies, in a sentence.
pub fn rule_text(l: Lang, e: &LoginEvidence) -> String {
    let factors = e
        .factors
        .iter()
        .map(|f| factor_with_categories(l, f))
        .collect::<Vec<_>>()
        .join(l.pick("と", " + "));
    match e.verdict.as_str() {
        "direct_2fa" => match l {
            Lang::Ja => format!(
                "ログインの要素 {factors} だけで二つ以上の区分 → 直接二要素（部屋は問いません）"
            ),
            Lang::En => format!(
                "the login's own factors {factors} span two or more categories → direct two-factor (no room needed)"
            ),
        },
        "combined_measures" => {
            let cred = e
                .entry
                .as_ref()
                .map(|x| factor_with_categories(l, &x.credential))
                .unwrap_or_default();
            match l {
                Lang::Ja => format!(
                    "{factors}でのログインと、入室時の{cred}で二つの区分 → 複合対策（入室管理等の複合対策による相当の安全性）"
                ),
                Lang::En => format!(
                    "{factors} at login + {cred} at the door span two categories → combined measures (room-entry control gives equivalent security)"
                ),
            }
        }
        "not_met" => match l {
            Lang::Ja => format!(
                "ログインの要素 {factors} は一つの区分のみで、入室管理による複合対策の条件も満たしません → 未達"
            ),
            Lang::En => format!(
                "the login's factors {factors} span one category and the conditions for combined measures do not all hold → not met"
            ),
        },
        _ => l
            .pick(
                "失敗したログインは判定の対象外で、充足率に数えません",
                "a failed login gets no verdict and does not count toward compliance",
            )
            .to_string(),
    }
}

// ---- the page ------------------------------------------------------------------------

#[component]
pub fn EvidencePage() -> impl IntoView {
    let lang = use_lang();
    let tick = use_live_tick();
    let params = use_params_map();
    let location = leptos_router::hooks::use_location();
    // The raw path, decoded once: the router's parameter is decoded twice, which would
    // turn an event id such as `l%45` into `lE`.
    let id = Memo::new(move |_| {
        location
            .pathname
            .with(|p| p.strip_prefix("/logins/").map(percent_decode))
            .or_else(|| params.with(|p| p.get("id")))
            .unwrap_or_default()
    });
    let offset = use_offset();
    let evidence = Resource::new(
        move || (tick.get(), id.get()),
        |(_, id)| get_login_evidence(id),
    );
    view! {
        <Layout testid="evidence">
            <Title text=move || {
                format!("{} {} — 門番", lang.get().pick("ログインの証跡", "Login evidence"), id.get())
            } />
            <Transition fallback=move || {
                view! { <p class="notice">{move || lang.get().pick("読み込み中…", "Loading…")}</p> }
            }>
                {move || Suspend::new(async move {
                    let l = lang.get_untracked();
                    match evidence.await {
                        Ok(Some(e)) => view! { <EvidenceView e lang offset /> }.into_any(),
                        Ok(None) => {
                            view! {
                                <section class="panel">
                                    <h2 class="panel__title">{l.pick("ログインの証跡", "Login evidence")}</h2>
                                    <p class="notice notice--error" role="alert" data-testid="not-found">
                                        {match l {
                                            Lang::Ja => format!("ログイン {} は見つかりません", id.get_untracked()),
                                            Lang::En => format!("Login {} not found", id.get_untracked()),
                                        }}
                                    </p>
                                </section>
                            }
                                .into_any()
                        }
                        Err(error) => {
                            view! {
                                <p class="notice notice--error" role="alert" data-testid="error">
                                    {error.to_string()}
                                </p>
                            }
                                .into_any()
                        }
                    }
                })}
            </Transition>
        </Layout>
    }
}

#[component]
fn EvidenceView(e: LoginEvidence, lang: Memo<Lang>, offset: Memo<SiteOffset>) -> impl IntoView {
    let l = lang.get_untracked();
    let off = offset.get_untracked();
    let zone = offset_label(off);
    let time = move |t: &str| {
        let label = format!("{} ({})", local_time(t, off), offset_label(off));
        view! { <time datetime=t.to_string() class="mono">{label}</time> }
    };
    let rule = rule_text(l, &e);
    let verdict_text = verdict_label(l, &e.verdict);
    let tone = match e.verdict.as_str() {
        "direct_2fa" => "ok",
        "combined_measures" => "combined",
        "not_met" => "gap",
        _ => "neutral",
    };
    let finality = if e.is_final {
        l.pick("確定（以後変わりません）", "final (will not change)")
            .to_string()
    } else {
        match l {
            Lang::Ja => format!(
                "暫定（{} まで遅れて届いたイベントで変わることがあります）",
                local_time(&e.final_at, off)
            ),
            Lang::En => format!(
                "provisional (late events may change it until {})",
                local_time(&e.final_at, off)
            ),
        }
    };

    // 1. the door event
    let entry_section = match &e.entry {
        Some(x) => {
            let door = x.door_name.clone().unwrap_or_else(|| x.door.clone());
            let room = x
                .room_name
                .clone()
                .or_else(|| x.room.clone())
                .unwrap_or_else(|| "—".into());
            let cred = factor_with_categories(l, &x.credential);
            let cred_id = x.credential_id.clone().unwrap_or_else(|| "—".into());
            let source = x
                .source
                .as_deref()
                .map(|s| match s {
                    "mqtt" => "MQTT",
                    "modbus" => "Modbus",
                    "http" => "HTTP",
                    other => other,
                })
                .unwrap_or("—")
                .to_string();
            let sentence = match l {
                Lang::Ja => format!("{cred}（{cred_id}）で {room} の扉「{door}」から入室しました。"),
                Lang::En => format!("{cred} ({cred_id}) opened door “{door}” of {room}."),
            };
            view! {
                <p class="evidence__sentence">{sentence}</p>
                <dl
                    class="evidence__facts"
                    data-testid="evidence-entry"
                    data-entry-event-id=x.event_id.clone()
                    data-door=x.door.clone()
                    data-credential-type=x.credential.code.clone()
                    data-entered-at=x.entered_at.clone()
                    data-source=x.source.clone().unwrap_or_default()
                >
                    <div><dt>{l.pick("入室時刻", "Entered at")}</dt><dd>{time(&x.entered_at)}</dd></div>
                    <div><dt>{l.pick("扉", "Door")}</dt><dd>{door.clone()}" "<small class="code">{x.door.clone()}</small></dd></div>
                    <div><dt>{l.pick("部屋", "Room")}</dt><dd>{room.clone()}</dd></div>
                    <div><dt>{l.pick("資格情報", "Credential")}</dt><dd>{cred.clone()}" "<small class="code">{cred_id.clone()}</small></dd></div>
                    <div><dt>{l.pick("イベント ID", "Event id")}</dt><dd class="mono">{x.event_id.clone()}</dd></div>
                    <div><dt>{l.pick("受信経路", "Received via")}</dt><dd>{source}</dd></div>
                </dl>
            }
            .into_any()
        }
        None => view! {
            <p class="evidence__sentence muted">
                {l.pick(
                    "この判定は入室記録を根拠にしていません（入室の証跡は複合対策のときだけ示します）。",
                    "This verdict does not rest on a room entry (entry evidence is shown for combined measures only).",
                )}
            </p>
        }
        .into_any(),
    };

    // 2. the person
    let person_text = match (&e.person_name, &e.person_id) {
        (Some(name), Some(id)) => match l {
            Lang::Ja => format!("アカウント {} は職員「{name}」（{id}）です。", e.account),
            Lang::En => format!("Account {} belongs to “{name}” ({id}).", e.account),
        },
        _ => match l {
            Lang::Ja => format!("アカウント {} は職員に紐付いていません。", e.account),
            Lang::En => format!("Account {} is not mapped to a person.", e.account),
        },
    };

    // 3. the login
    let system = e.system_name.clone().unwrap_or_else(|| e.system.clone());
    let terminal = e
        .terminal_name
        .clone()
        .unwrap_or_else(|| e.terminal.clone());
    let room = match (&e.room_name, e.room_controlled) {
        (Some(name), Some(true)) => match l {
            Lang::Ja => format!("{name}（入室管理あり）"),
            Lang::En => format!("{name} (entry-controlled)"),
        },
        (Some(name), _) => match l {
            Lang::Ja => format!("{name}（入室管理なし）"),
            Lang::En => format!("{name} (no entry control)"),
        },
        (None, _) => l
            .pick(
                "不明（端末が台帳にない）",
                "unknown (terminal not in the inventory)",
            )
            .to_string(),
    };
    let step_up = e.step_up.as_ref().map(|su| {
        let when = su
            .verified_at
            .as_deref()
            .map(|t| format!("{} ({})", local_time(t, off), offset_label(off)))
            .unwrap_or_default();
        let key = su.passkey_name.clone().unwrap_or_default();
        let text = match l {
            Lang::Ja => format!("門番がパスキー「{key}」で本人を確認（{when}）：webauthn_uv はシステムの申告ではなく門番の確認です"),
            Lang::En => format!("the hub verified the person's passkey \"{key}\" ({when}): webauthn_uv is the hub's own check, not the system's word"),
        };
        view! {
            <div>
                <dt>{l.pick("本人確認", "Step-up")}</dt>
                <dd data-testid="evidence-step-up">{text}" "<small class="code">{su.id.clone()}</small></dd>
            </div>
        }
    });
    let factors = e
        .factors
        .iter()
        .map(|f| factor_with_categories(l, f))
        .collect::<Vec<_>>()
        .join(l.pick("、", ", "));
    let outcome = match e.outcome.as_str() {
        "success" => l.pick("成功", "success"),
        "failure" => l.pick("失敗", "failure"),
        other => other,
    }
    .to_string();

    // 4. the verdict
    let reasons = if e.reasons.is_empty() {
        view! { <p class="muted">{l.pick("不成立の条件はありません。", "No check failed.")}</p> }
            .into_any()
    } else {
        view! {
            <ol class="evidence__reasons">
                {e
                    .reasons
                    .iter()
                    .map(|r| {
                        view! {
                            <li data-testid="evidence-reason" data-reason=r.clone()>
                                {reason_explained(l, r)}
                                " "
                                <small class="code">{r.clone()}</small>
                            </li>
                        }
                    })
                    .collect_view()}
            </ol>
        }
        .into_any()
    };

    // 5. the history
    let history = e
        .history
        .iter()
        .map(|c| {
            let reasons = if c.reasons.is_empty() {
                "—".to_string()
            } else {
                c.reasons.join(", ")
            };
            view! {
                <tr data-testid="verdict-change" data-verdict=c.verdict.clone() data-cause=c.cause.clone()>
                    <td data-label=l.pick("時刻", "At")>{time(&c.at)}</td>
                    <td data-label=l.pick("判定", "Verdict")>{verdict_label(l, &c.verdict)}</td>
                    <td data-label=l.pick("理由", "Reasons")><span class="code">{reasons}</span></td>
                    <td data-label=l.pick("確定", "Final")>{if c.is_final { l.pick("確定", "final") } else { l.pick("暫定", "provisional") }}</td>
                    <td data-label=l.pick("原因", "Cause")>
                        {cause_label(l, &c.cause)}
                        " "
                        <small class="code">{c.cause.clone()}</small>
                    </td>
                </tr>
            }
        })
        .collect_view();

    view! {
        <Title text=format!("{} {} — 門番", l.pick("ログインの証跡", "Login evidence"), e.event_id) />
        <article
            class="evidence"
            data-testid="evidence-login"
            data-event-id=e.event_id.clone()
            data-verdict=e.verdict.clone()
            data-final=e.is_final.to_string()
        >
            <section class="panel evidence__summary">
                <h2 class="panel__title">
                    {l.pick("ログインの証跡", "Login evidence")}
                    " "
                    <span class="mono">{e.event_id.clone()}</span>
                </h2>
                <p class="evidence__verdict">
                    <span class=format!("badge badge--{tone}") data-testid="evidence-verdict" title=e.verdict.clone()>
                        {verdict_text}
                    </span>
                    " "
                    <span class=if e.is_final { "finality finality--final" } else { "finality finality--provisional" }>
                        {finality}
                    </span>
                </p>
                <p class="evidence__rule" data-testid="evidence-rule">{rule}</p>
                <p class="muted evidence__zone">
                    {match l {
                        Lang::Ja => format!("時刻は {zone} で表示（?tz=+09:00 の形式で変更できます）"),
                        Lang::En => format!("Times in {zone} (change with ?tz=+09:00 style offsets)"),
                    }}
                </p>
            </section>
            <section class="panel">
                <h3 class="panel__title">{l.pick("1. 入室", "1. Room entry")}</h3>
                {entry_section}
            </section>
            <section class="panel">
                <h3 class="panel__title">{l.pick("2. 人", "2. Person")}</h3>
                <p class="evidence__sentence" data-testid="evidence-person" data-person-id=e.person_id.clone().unwrap_or_default()>
                    {person_text}
                </p>
            </section>
            <section class="panel">
                <h3 class="panel__title">{l.pick("3. ログイン", "3. Login")}</h3>
                <dl class="evidence__facts">
                    <div><dt>{l.pick("時刻", "Time")}</dt><dd>{time(&e.ts)}</dd></div>
                    <div><dt>{l.pick("システム", "System")}</dt><dd>{system}" "<small class="code">{e.system.clone()}</small></dd></div>
                    <div><dt>{l.pick("アカウント", "Account")}</dt><dd class="mono">{e.account.clone()}</dd></div>
                    <div><dt>{l.pick("端末", "Terminal")}</dt><dd>{terminal}" "<small class="code">{e.terminal.clone()}</small></dd></div>
                    <div><dt>{l.pick("部屋", "Room")}</dt><dd>{room}</dd></div>
                    <div><dt>{l.pick("要素", "Factors")}</dt><dd data-testid="evidence-factors">{factors}</dd></div>
                    {step_up}
                    <div><dt>{l.pick("結果", "Outcome")}</dt><dd>{outcome}</dd></div>
                    <div><dt>{l.pick("受信時刻", "Received at")}</dt><dd>{time(&e.received_at)}</dd></div>
                </dl>
            </section>
            <section class="panel">
                <h3 class="panel__title">{l.pick("4. 判定と理由", "4. Verdict and failed checks")}</h3>
                {reasons}
            </section>
            <section class="panel">
                <h3 class="panel__title">{l.pick("5. 判定の履歴", "5. History of the verdict")}</h3>
                <div class="table-wrap">
                    <table class="grid grid--history" data-testid="evidence-history">
                        <thead>
                            <tr>
                                <th scope="col">{l.pick("時刻", "At")}</th>
                                <th scope="col">{l.pick("判定", "Verdict")}</th>
                                <th scope="col">{l.pick("理由", "Reasons")}</th>
                                <th scope="col">{l.pick("確定", "Final")}</th>
                                <th scope="col">{l.pick("原因", "Cause")}</th>
                            </tr>
                        </thead>
                        <tbody>{history}</tbody>
                    </table>
                </div>
            </section>
        </article>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::unwrap_used)]
    fn offsets() {
        assert_eq!(
            local_time("2026-11-21T00:05:00Z", SiteOffset::JST),
            "2026-11-21 09:05:00"
        );
        assert_eq!(local_time("noon", SiteOffset::JST), "noon");
        assert_eq!(offset_label(SiteOffset::JST), "JST");
        assert_eq!(
            offset_label(SiteOffset::parse("-05:00").unwrap()),
            "UTC-05:00"
        );
        assert_eq!(offset_label(SiteOffset::UTC), "UTC+00:00");
        assert_eq!(percent_decode("l%2545"), "l%45");
        assert_eq!(percent_decode("%E3%83%AD%"), "ロ%");
    }
}
