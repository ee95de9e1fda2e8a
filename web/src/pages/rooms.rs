//! Rooms and doors: who is present where now, door state (online/offline, alarms),
//! connector health.
//!
//! One panel per room (controlled or not): the people whose presence (CONTRACT §3)
//! covers now, with the entry that started it; the room's doors with their state and
//! connector health (as `/api/v1/doors`); the integrity alarms that void credit now.
//!
//! Test ids: `room` (`data-room-id`, `data-controlled`, `data-present`, `data-alarms`),
//! `presence` (`data-person-id`, `data-door`, `data-credential`), `room-door`
//! (`data-door-id`, `data-state`, `data-reason`), `door-overruns`, `door-dead-letters`,
//! `alarm` (`data-kind`, `data-door`), `connector` (`data-name`, `data-state`).

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

use crate::api::DashError;
use crate::app::{use_live_tick, Layout};
use crate::i18n::{use_lang, Lang};
use crate::labels;
use crate::model::DoorRow;
use monban_core::health::OfflineReason;

/// A person present in a room now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PresenceRow {
    pub person: String,
    pub person_name: String,
    /// When the entry happened (RFC 3339).
    pub since: String,
    pub door: String,
    pub credential_type: String,
    pub event_id: String,
}

/// An integrity alarm that holds now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlarmRow {
    pub kind: String,
    pub door: String,
    pub since: String,
    /// Until when it voids credit (`since + alarm_hold`).
    pub until: String,
    pub event_id: String,
}

/// One room.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoomRow {
    pub id: String,
    pub name: String,
    pub controlled: bool,
    pub max_presence: String,
    pub alarm_hold: String,
    pub present: Vec<PresenceRow>,
    pub doors: Vec<DoorRow>,
    pub alarms: Vec<AlarmRow>,
    /// Who is present is personal data: a role without compliance access (facilities)
    /// sees doors and alarms, not people.
    #[serde(default)]
    pub people_hidden: bool,
}

/// The page's data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoomsView {
    pub generated_at: String,
    pub rooms: Vec<RoomRow>,
    /// Connector name → state (`connected`, `connecting`, `disconnected`).
    pub connectors: Vec<(String, String)>,
}

/// What this page needs from the hub (implemented by the server over its store).
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait RoomsSource: Send + Sync + 'static {
    async fn rooms(&self) -> Result<RoomsView, crate::api::SourceError>;
}

/// The rooms page's data (`GET /api/dash/rooms`).
#[server(prefix = "/api/dash", endpoint = "rooms", input = GetUrl, output = crate::api::TextJson)]
pub async fn get_rooms() -> Result<RoomsView, DashError> {
    use std::sync::Arc;
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.insert_header(
            axum::http::header::CACHE_CONTROL,
            axum::http::HeaderValue::from_static("no-store"),
        );
    }
    let Some(source) = use_context::<Arc<dyn crate::DashboardSource>>() else {
        return Err(DashError::NotConfigured);
    };
    let mut view = source.rooms().await.map_err(|message| {
        tracing::warn!(error = %message, "dashboard: rooms failed");
        DashError::Unavailable
    })?;
    let may_see_people =
        crate::auth::current_role().is_some_and(|r| r.can(crate::auth::Permission::ReadCompliance));
    if !may_see_people {
        for room in &mut view.rooms {
            room.present.clear();
            room.people_hidden = true;
        }
    }
    Ok(view)
}

#[component]
pub fn RoomsPage() -> impl IntoView {
    let lang = use_lang();
    let tick = use_live_tick();
    let data = Resource::new(move || (tick.get(), lang.get()), |_| get_rooms());
    view! {
        <Layout testid="rooms">
            <Title text=move || format!("{} — 門番", lang.get().pick("部屋と扉", "Rooms & doors")) />
            <section class="panel rooms">
                <h2 class="panel__title">{move || lang.get().pick("部屋と扉", "Rooms & doors")}</h2>
                <Transition fallback=|| view! { <p class="notice">"読み込み中…"</p> }>
                    {move || Suspend::new(async move {
                        match data.await {
                            Ok(v) => view! { <RoomsBody data=v /> }.into_any(),
                            Err(e) => view! {
                                <p class="notice notice--error" role="alert" data-testid="error">{e.to_string()}</p>
                            }.into_any(),
                        }
                    })}
                </Transition>
            </section>
        </Layout>
    }
}

fn time_view(t: Option<String>) -> AnyView {
    match t {
        Some(t) => {
            let label = format!("{} JST", labels::jst_time(&t));
            view! { <time datetime=t class="mono">{label}</time> }.into_any()
        }
        None => view! { <span class="muted">"—"</span> }.into_any(),
    }
}

fn connector_label(state: &str, l: Lang) -> &'static str {
    match state {
        "connected" => l.pick("接続中", "connected"),
        "connecting" => l.pick("接続準備中", "connecting"),
        "disconnected" => l.pick("切断", "disconnected"),
        _ => "—",
    }
}

fn alarm_label(kind: &str, l: Lang) -> &'static str {
    match kind {
        "door_forced" => l.pick("こじ開け", "door forced"),
        "door_held_open" => l.pick("開放放置", "door held open"),
        "tamper" => l.pick("いたずら検知", "tamper"),
        _ => "",
    }
}

#[component]
fn RoomsBody(data: RoomsView) -> impl IntoView {
    let l = use_lang().get_untracked();
    let RoomsView {
        generated_at,
        rooms,
        connectors,
    } = data;
    view! {
        <p class="sub">
            {l.pick("現在時刻: ", "As of: ")}
            {time_view(Some(generated_at))}
        </p>
        <ul class="rooms__connectors" aria-label=l.pick("接続", "Connectors")>
            {connectors.into_iter().map(|(name, state)| {
                let label = connector_label(&state, l);
                view! {
                    <li data-testid="connector" data-name=name.clone() data-state=state.clone()>
                        <code>{name.clone()}</code>" "{label}
                    </li>
                }
            }).collect_view()}
        </ul>
        {if rooms.is_empty() {
            view! { <p class="notice">{l.pick("登録された部屋はありません", "No rooms")}</p> }.into_any()
        } else {
            rooms.into_iter().map(|room| view! { <RoomView room /> }.into_any()).collect_view().into_any()
        }}
    }
}

#[component]
fn RoomView(room: RoomRow) -> impl IntoView {
    let l = use_lang().get_untracked();
    let RoomRow {
        id,
        name,
        controlled,
        max_presence,
        alarm_hold,
        present,
        doors,
        alarms,
        people_hidden,
    } = room;
    let heading = format!("room-{id}");
    let labelled = heading.clone();
    let n_present = present.len().to_string();
    let n_alarms = alarms.len().to_string();
    let controlled_label = if controlled {
        l.pick("入室管理あり", "controlled")
    } else {
        l.pick("入室管理なし", "not controlled")
    };
    let present_view = if people_hidden {
        view! {
            <p class="muted" data-testid="presence-hidden">
                {l.pick("在室者はこの役割では表示されません", "Who is present is not shown to this role")}
            </p>
        }
        .into_any()
    } else if present.is_empty() {
        view! { <p class="muted">{l.pick("在室者なし", "Nobody present")}</p> }.into_any()
    } else {
        view! {
            <ul class="rooms__people">
                {present.into_iter().map(|p| {
                    let who = if p.person_name.is_empty() { p.person.clone() } else { p.person_name.clone() };
                    view! {
                        <li data-testid="presence" data-person-id=p.person.clone() data-door=p.door.clone() data-credential=p.credential_type.clone()>
                            <span class="cell-main">{who}</span>
                            " "<small class="code">{p.person.clone()}</small>
                            <small class="sub">
                                {l.pick("入室 ", "since ")}
                                {time_view(Some(p.since))}
                                {format!(" · {} {} · {} {}", l.pick("扉", "door"), p.door, l.pick("認証", "credential"), p.credential_type)}
                            </small>
                        </li>
                    }
                }).collect_view()}
            </ul>
        }.into_any()
    };
    let alarms_view = (!alarms.is_empty()).then(|| {
        view! {
            <ul class="rooms__alarms" role="alert">
                {alarms.into_iter().map(|a| view! {
                    <li data-testid="alarm" data-kind=a.kind.clone() data-door=a.door.clone()>
                        <span class="badge badge--gap">{alarm_label(&a.kind, l)}</span>
                        {format!(" {} {} · ", l.pick("扉", "door"), a.door)}
                        {time_view(Some(a.since))}
                        {l.pick(" から ", " until ")}
                        {time_view(Some(a.until))}
                        {l.pick(" まで加点なし", " — no credit")}
                    </li>
                }).collect_view()}
            </ul>
        }
    });
    let doors_view = if doors.is_empty() {
        view! { <p class="muted">{l.pick("扉なし", "No doors")}</p> }.into_any()
    } else {
        view! {
            <div class="table-wrap">
                <table class="grid grid--rooms">
                    <thead><tr>
                        <th scope="col">{l.pick("扉", "Door")}</th>
                        <th scope="col">{l.pick("状態", "State")}</th>
                        <th scope="col">{l.pick("接続", "Connector")}</th>
                        <th scope="col">{l.pick("最終の生存確認", "Last sign of life")}</th>
                        <th scope="col">{l.pick("最終イベント受信", "Last event received")}</th>
                        <th scope="col">{l.pick("ハートビート監視", "Heartbeat timeout")}</th>
                        <th scope="col" class="num">{l.pick("欠落", "Overruns")}</th>
                        <th scope="col" class="num">{l.pick("不正データ", "Dead letters")}</th>
                    </tr></thead>
                    <tbody>
                        {doors.into_iter().map(|d| {
                            let badge = labels::door_state(&d.state);
                            let state_label = if l == Lang::En { d.state.clone() } else { badge.label.to_string() };
                            let en_reason = |r: &str| match r.parse::<OfflineReason>() {
                                Ok(OfflineReason::Status) => "the controller reported offline".to_string(),
                                Ok(OfflineReason::HeartbeatTimeout) => "heartbeat timeout".to_string(),
                                Ok(OfflineReason::Outage) => "events may be missing".to_string(),
                                Ok(OfflineReason::Connector) => "the connector cannot reach the device".to_string(),
                                Err(_) => r.to_string(),
                            };
                            let reason = d.offline_reason.clone().unwrap_or_default();
                            let reason_label = d.offline_reason.as_deref().map(|r| {
                                if l == Lang::En { en_reason(r) } else { labels::offline_reason(r).to_string() }
                            });
                            let title = if d.name.is_empty() { d.id.clone() } else { d.name.clone() };
                            let conn = d.connector.as_deref().map(|c| connector_label(c, l)).unwrap_or("—");
                            view! {
                                <tr data-testid="room-door" data-door-id=d.id.clone() data-state=d.state.clone() data-reason=reason>
                                    <td data-label=l.pick("扉", "Door")>
                                        <span class="cell-main">{title}</span>
                                        <small class="code">{d.id.clone()}</small>
                                    </td>
                                    <td data-label=l.pick("状態", "State")>
                                        <span class=format!("badge badge--{}", badge.tone)>{state_label}</span>
                                        {reason_label.map(|r| view! { <small class="sub">{r}</small> })}
                                    </td>
                                    <td data-label=l.pick("接続", "Connector")>
                                        {labels::door_source(&d.source).to_string()}
                                        <small class="sub">{conn}</small>
                                    </td>
                                    <td data-label=l.pick("最終の生存確認", "Last sign of life")>{time_view(d.last_heard_at.clone())}</td>
                                    <td data-label=l.pick("最終イベント受信", "Last event received")>{time_view(d.last_event_at.clone())}</td>
                                    <td data-label=l.pick("ハートビート監視", "Heartbeat timeout")>{d.heartbeat_timeout.clone().unwrap_or_else(|| "—".into())}</td>
                                    <td data-label=l.pick("欠落", "Overruns") class="num" data-testid="door-overruns">{d.overruns}</td>
                                    <td data-label=l.pick("不正データ", "Dead letters") class="num" data-testid="door-dead-letters">{d.dead_letters}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        }.into_any()
    };
    view! {
        <article class="rooms__room" data-testid="room" data-room-id=id.clone() data-controlled=controlled.to_string() data-present=n_present data-alarms=n_alarms aria-labelledby=labelled>
            <h3 id=heading>
                {name}" "<small class="code">{id.clone()}</small>
                " "<span class=if controlled { "badge badge--ok" } else { "badge badge--neutral" }>{controlled_label}</span>
            </h3>
            <p class="sub">
                {format!("{} {max_presence} · {} {alarm_hold}", l.pick("在室の上限", "max presence"), l.pick("警報の保持", "alarm hold"))}
            </p>
            <h4>{l.pick("在室者", "Present now")}</h4>
            {present_view}
            {alarms_view}
            <h4>{l.pick("扉", "Doors")}</h4>
            {doors_view}
        </article>
    }
}
