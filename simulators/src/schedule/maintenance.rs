//! The day's vendor maintenance (CONTRACT §10) and the leaver's login (§7 flags), as
//! pure data like the rest of the schedule.
//!
//! A day of at least [`MIN_DAY`] holds one request in every state and the logins and
//! door events that go with them ([`MaintenanceCase`]):
//!
//! | case | vendor, system | window | what happens |
//! |---|---|---|---|
//! | `approved_worked` | メディシステム, 電子カルテ (remote) | 3 h from the first 01:00 JST | approved, two logins inside, a report with a PAM recording after the window |
//! | `report_overdue` | メディシステム, 電子カルテ | start + 40 min, 2 h | approved, two logins, never reported |
//! | `on_site_unsupervised` | 東和, 調剤システム (on site) | 2 h by day | approved; the vendor badges into the サーバ室 with a card, the IT officer joins 10 min later and leaves before the vendor |
//! | `emergency` | メディシステム, 電子カルテ | ends 3.5 h before the end of the day | two logins, *then* an emergency request (事後承認 pending) and its report with a recording |
//! | `awaiting_decision` | メディシステム, 電子カルテ | tomorrow 20:00 JST | filed, never decided |
//! | `denied` | メディシステム, 電子カルテ | the day after 14:00 JST | denied |
//! | `cancelled` | 東和, 調剤システム (on site) | in two days 10:00 JST | approved, then cancelled |
//! | `unapproved_login` | メディシステム | — | a night-time login that no request covers |
//! | `leaver_login` | — | — | the former 医療事務's account logs in at reception (`account_of_leaver`) |
//!
//! Requests and reports are sent with the vendor's token. Decisions need a signed-in
//! officer with a passkey, so the schedule only says which ones it *wants*
//! ([`wanted_decisions`]); the player hands them to a hook that can record them
//! (`monban demo`), and without one the approved cases stay `requested` (their reports
//! are then not sent: a request that is not approved has no work to report).
//!
//! The expectations assume the wanted decisions were made and the hub's `report_due`
//! is at most 20 hours (`monban demo` sets [`DEMO_REPORT_DUE`]); with the default of
//! 7 days `report_overdue` shows a week later.

use super::{jst, mins, Body, Draft, Gen};
use crate::hospital::{ids, Role};
use crate::rng::{rng, splitmix};
use chrono::{DateTime, FixedOffset, NaiveTime, TimeDelta, Timelike as _, Utc};
use monban_core::maintenance::{Decision, Recording, ReportBody, RequestBody};
use monban_core::{Credential, Direction, Factor, Outcome, SiteOffset, Timestamp, VendorId};
use rand::Rng as _;
use serde::Serialize;

/// The shortest day that holds the maintenance cases.
pub const MIN_DAY: TimeDelta = TimeDelta::hours(23);

/// The `[maintenance] report_due` the demo's configuration sets, so that an overdue
/// report shows within the simulated day.
pub const DEMO_REPORT_DUE: &str = "6h";

/// A maintenance case of the day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MaintenanceCase {
    ApprovedWorked,
    ReportOverdue,
    OnSiteUnsupervised,
    Emergency,
    AwaitingDecision,
    Denied,
    Cancelled,
    UnapprovedLogin,
    LeaverLogin,
}

impl MaintenanceCase {
    pub const ALL: [MaintenanceCase; 9] = [
        MaintenanceCase::ApprovedWorked,
        MaintenanceCase::ReportOverdue,
        MaintenanceCase::OnSiteUnsupervised,
        MaintenanceCase::Emergency,
        MaintenanceCase::AwaitingDecision,
        MaintenanceCase::Denied,
        MaintenanceCase::Cancelled,
        MaintenanceCase::UnapprovedLogin,
        MaintenanceCase::LeaverLogin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MaintenanceCase::ApprovedWorked => "approved_worked",
            MaintenanceCase::ReportOverdue => "report_overdue",
            MaintenanceCase::OnSiteUnsupervised => "on_site_unsupervised",
            MaintenanceCase::Emergency => "emergency",
            MaintenanceCase::AwaitingDecision => "awaiting_decision",
            MaintenanceCase::Denied => "denied",
            MaintenanceCase::Cancelled => "cancelled",
            MaintenanceCase::UnapprovedLogin => "unapproved_login",
            MaintenanceCase::LeaverLogin => "leaver_login",
        }
    }

    pub fn description_ja(self) -> &'static str {
        match self {
            MaintenanceCase::ApprovedWorked => {
                "承認済みの夜間リモート保守（電子カルテ パッチ適用）: 窓内のログインと録画付きの作業報告"
            }
            MaintenanceCase::ReportOverdue => "承認済み・作業済みだが作業報告が期限を過ぎても未提出",
            MaintenanceCase::OnSiteUnsupervised => {
                "サーバ室での来訪保守: 立会いが作業時間の一部だけ（立会いなし）"
            }
            MaintenanceCase::Emergency => {
                "緊急保守: ログインの後に申請（事後承認待ち）、録画付きの作業報告"
            }
            MaintenanceCase::AwaitingDecision => "翌日夜の作業申請（承認待ち）",
            MaintenanceCase::Denied => "日中の作業申請（却下）",
            MaintenanceCase::Cancelled => "承認後に取り消された来訪保守",
            MaintenanceCase::UnapprovedLogin => "申請のない深夜の保守アカウントのログイン",
            MaintenanceCase::LeaverLogin => "退職者のアカウントでのログイン",
        }
    }
}

/// What the hub must say about one maintenance case once the wanted decisions are
/// made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MaintenanceExpectation {
    pub case: MaintenanceCase,
    /// The request, for the cases that have one.
    pub request_id: Option<String>,
    /// `GET /api/v1/maintenance/{id}`: `status`.
    pub status: Option<String>,
    /// `GET /api/v1/maintenance/{id}`: `findings`, in the contract's order.
    pub findings: Vec<String>,
    /// `supervised` (on-site work only).
    pub supervised: Option<bool>,
    /// The case's logins (event ids, in send order).
    pub logins: Vec<String>,
    /// Every one of those logins: `flags`.
    pub login_flags: Vec<String>,
    /// Every one of those logins: `maintenance.status` (`None`: not a maintenance login).
    pub login_maintenance: Option<String>,
    pub description: String,
}

/// A maintenance message: what it is, for which request, sent with which vendor's
/// token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaintenanceMessage {
    /// The simulated time it is sent at.
    pub ts: DateTime<FixedOffset>,
    pub vendor: VendorId,
    pub request_id: String,
    pub kind: MaintenanceKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MaintenanceKind {
    /// `POST /api/v1/maintenance` with the vendor's token.
    Request(RequestBody),
    /// A decision the day wants an officer to make (not sent to the hub by the
    /// simulator: decisions need a passkey).
    Decision { decision: Decision, note: String },
    /// `POST /api/v1/maintenance/{id}/report` with the vendor's token. `needs_approval`:
    /// the request is not an emergency one, so the report is refused unless approved.
    Report {
        body: ReportBody,
        needs_approval: bool,
    },
}

/// A decision the day wants, in the order the day makes them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WantedDecision {
    pub request_id: String,
    #[serde(serialize_with = "decision_str")]
    pub decision: Decision,
    pub note: String,
    /// The simulated time of the decision.
    pub at: DateTime<Utc>,
}

fn decision_str<S: serde::Serializer>(d: &Decision, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(d.as_str())
}

/// Every decision the schedule wants (approve, deny, cancel), in order: what an
/// officer (or `monban demo`'s seeded officer) must decide for the requests to reach
/// the states of [`super::Schedule::maintenance`].
pub fn wanted_decisions(s: &super::Schedule) -> Vec<WantedDecision> {
    s.items
        .iter()
        .filter_map(|i| match &i.action {
            super::Action::Maintenance(m) => match &m.kind {
                MaintenanceKind::Decision { decision, note } => Some(WantedDecision {
                    request_id: m.request_id.clone(),
                    decision: *decision,
                    note: note.clone(),
                    at: m.ts.with_timezone(&Utc),
                }),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// What the maintenance plan adds to the day.
pub(super) struct MaintenancePlan {
    pub drafts: Vec<Draft>,
    pub reserved: Vec<(usize, DateTime<Utc>, DateTime<Utc>)>,
    pub expectations: Vec<MaintenanceExpectation>,
}

/// The first `hh:mm` JST at or after `t`.
fn next_jst(t: DateTime<Utc>, hour: u32, minute: u32) -> DateTime<Utc> {
    let local = t.with_timezone(&jst());
    let time = NaiveTime::from_hms_opt(hour, minute, 0).unwrap_or(NaiveTime::MIN);
    let mut date = local.date_naive();
    if local.time() > time {
        date = date.succ_opt().unwrap_or(date);
    }
    date.and_time(time)
        .and_local_timezone(jst())
        .single()
        .map(|d| d.with_timezone(&Utc))
        .unwrap_or(t)
}

/// `hh:mm` JST on the `days`-th date after the JST date of `t`.
fn jst_after(t: DateTime<Utc>, days: u64, hour: u32) -> DateTime<Utc> {
    let date = t.with_timezone(&jst()).date_naive() + chrono::Days::new(days);
    date.and_hms_opt(hour, 0, 0)
        .and_then(|d| d.and_local_timezone(jst()).single())
        .map(|d| d.with_timezone(&Utc))
        .unwrap_or(t + TimeDelta::days(days as i64))
}

/// 64 hex digits derived from `seed` and `n`: a stand-in for a recording's SHA-256.
fn fake_sha256(seed: u64, n: u64) -> String {
    (0..4)
        .map(|i| format!("{:016x}", splitmix(seed ^ splitmix(n * 4 + i))))
        .collect()
}

fn rfc(t: DateTime<Utc>) -> String {
    super::rfc3339(t.with_timezone(&jst()))
}

struct Builder<'g, 'h> {
    gen: &'g Gen<'h>,
    tag: String,
    drafts: Vec<Draft>,
    expectations: Vec<MaintenanceExpectation>,
}

impl Builder<'_, '_> {
    fn message(
        &mut self,
        at: DateTime<Utc>,
        vendor: &str,
        request_id: &str,
        kind: MaintenanceKind,
    ) {
        let m = MaintenanceMessage {
            ts: at.with_timezone(&jst()),
            vendor: VendorId::parse(vendor).expect("built-in vendor ids are valid"),
            request_id: request_id.to_string(),
            kind,
        };
        let d = self.gen.draft(at, Body::Maintenance(m));
        self.drafts.push(d);
    }

    #[allow(clippy::too_many_arguments)]
    fn request(
        &mut self,
        n: u32,
        at: DateTime<Utc>,
        vendor: &str,
        system: &str,
        people: &[usize],
        (start, end): (DateTime<Utc>, DateTime<Utc>),
        purpose: &str,
        remote: bool,
        emergency: bool,
    ) -> String {
        let request_id = format!("{vendor}-{}-{n:02}", self.tag);
        let year = start.with_timezone(&jst()).format("%Y");
        let body = RequestBody {
            request_id: request_id.clone(),
            vendor: None,
            system: system.to_string(),
            people: people
                .iter()
                .map(|&p| self.gen.h.staff[p].person.id.to_string())
                .collect(),
            work_plan: format!("WP-{year}-{}-{n:02}", self.tag),
            purpose: purpose.to_string(),
            start: rfc(start),
            end: rfc(end),
            remote,
            emergency,
        };
        self.message(at, vendor, &request_id, MaintenanceKind::Request(body));
        request_id
    }

    fn decide(
        &mut self,
        at: DateTime<Utc>,
        vendor: &str,
        id: &str,
        decision: Decision,
        note: &str,
    ) {
        let kind = MaintenanceKind::Decision {
            decision,
            note: note.to_string(),
        };
        self.message(at, vendor, id, kind);
    }

    fn report(
        &mut self,
        at: DateTime<Utc>,
        vendor: &str,
        id: &str,
        summary: &str,
        recording: Option<Recording>,
        needs_approval: bool,
    ) {
        let body = ReportBody {
            summary: summary.to_string(),
            recording,
        };
        self.message(
            at,
            vendor,
            id,
            MaintenanceKind::Report {
                body,
                needs_approval,
            },
        );
    }

    /// A login of a maintenance case (no failed attempt first).
    #[allow(clippy::too_many_arguments)]
    fn login(
        &mut self,
        case: MaintenanceCase,
        t: DateTime<Utc>,
        p: usize,
        system: &str,
        terminal: &str,
        factors: Vec<Factor>,
    ) {
        let Some(account) = self.gen.account(p, system) else {
            return;
        };
        let body = Body::Login {
            system: self.gen.system(system),
            account,
            terminal: terminal.to_string(),
            factors,
            outcome: Outcome::Success,
            case: None,
            maint: Some(case),
        };
        let d = self.gen.draft(t, body);
        self.drafts.push(d);
    }

    fn badge(
        &mut self,
        r: &mut crate::rng::Rng,
        t: DateTime<Utc>,
        credential: &Credential,
        direction: Direction,
    ) {
        let door = self.gen.door("server-room-main");
        self.gen
            .access(r, &mut self.drafts, t, &door, credential, direction, false);
    }

    #[allow(clippy::too_many_arguments)]
    fn expect(
        &mut self,
        case: MaintenanceCase,
        request_id: Option<String>,
        status: Option<&str>,
        findings: &[&str],
        supervised: Option<bool>,
        login_flags: &[&str],
        login_maintenance: Option<&str>,
    ) {
        self.expectations.push(MaintenanceExpectation {
            case,
            request_id,
            status: status.map(str::to_string),
            findings: findings.iter().map(|f| f.to_string()).collect(),
            supervised,
            logins: Vec::new(),
            login_flags: login_flags.iter().map(|f| f.to_string()).collect(),
            login_maintenance: login_maintenance.map(str::to_string),
            description: case.description_ja().to_string(),
        });
    }
}

/// Whether `[a, b]` overlaps any reservation of person `p`.
fn busy(
    reserved: &[(usize, DateTime<Utc>, DateTime<Utc>)],
    p: usize,
    a: DateTime<Utc>,
    b: DateTime<Utc>,
) -> bool {
    reserved.iter().any(|&(q, x, y)| q == p && a <= y && x <= b)
}

/// The maintenance cases of the day `[start, end)`. `reserved` are the deliberate
/// cases' reservations (the IT officer must be free to supervise).
pub(super) fn plan(
    gen: &Gen<'_>,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    tag: &str,
    reserved: &[(usize, DateTime<Utc>, DateTime<Utc>)],
) -> MaintenancePlan {
    let mut b = Builder {
        gen,
        tag: tag.to_string(),
        drafts: Vec::new(),
        expectations: Vec::new(),
    };
    let mut new_reserved = Vec::new();
    let h = gen.h;
    let medisys = h.vendor_staff(ids::MEDISYS);
    let towa = h.vendor_staff(ids::TOWA);
    let it = h.staff_with_role(Role::ItStaff);
    let (Some(&ms1), Some(&ms2), Some(&tw1), Some(&tw2), Some(&it1)) = (
        medisys.first(),
        medisys.get(1),
        towa.first(),
        towa.get(1),
        it.first(),
    ) else {
        return MaintenancePlan {
            drafts: b.drafts,
            reserved: new_reserved,
            expectations: b.expectations,
        };
    };
    if end - start < MIN_DAY {
        return MaintenancePlan {
            drafts: Vec::new(),
            reserved: new_reserved,
            expectations: Vec::new(),
        };
    }
    let mut r = rng(gen.seed, &[40, start.timestamp() as u64]);
    let r = &mut r;
    let remote = |n: usize| format!("medisys-remote-{:02}", n);
    let mfa = || vec![Factor::Password, Factor::Totp];
    let (mv, tw) = (ids::MEDISYS, ids::TOWA);

    // report_overdue: approved, worked early in the day, never reported.
    let w = (start + mins(40), start + mins(160));
    let id = b.request(
        7,
        start + mins(5),
        mv,
        ids::EHR,
        &[ms2],
        w,
        "電子カルテ 検査オーダ連携の障害調査",
        true,
        false,
    );
    b.decide(start + mins(10), mv, &id, Decision::Approve, "");
    b.login(
        MaintenanceCase::ReportOverdue,
        start + mins(55),
        ms2,
        ids::EHR,
        &remote(2),
        mfa(),
    );
    b.login(
        MaintenanceCase::ReportOverdue,
        start + mins(110),
        ms2,
        ids::EHR,
        &remote(2),
        mfa(),
    );
    b.expect(
        MaintenanceCase::ReportOverdue,
        Some(id),
        Some("approved"),
        &["report_overdue"],
        None,
        &[],
        Some("approved"),
    );

    // approved_worked: the night's patch, from the first 01:00 JST that fits.
    let mut night = next_jst(start + mins(60), 1, 0);
    if night + mins(3 * 60 + 40) > end {
        night = start + mins(180);
    }
    let w = (night, night + mins(180));
    let id = b.request(
        1,
        start + mins(15),
        mv,
        ids::EHR,
        &[ms1],
        w,
        "電子カルテ 定期パッチ適用（夜間）",
        true,
        false,
    );
    b.decide(
        start + mins(20),
        mv,
        &id,
        Decision::Approve,
        "夜間帯の作業として承認",
    );
    b.login(
        MaintenanceCase::ApprovedWorked,
        night + mins(20),
        ms1,
        ids::EHR,
        &remote(1),
        mfa(),
    );
    b.login(
        MaintenanceCase::ApprovedWorked,
        night + mins(95),
        ms1,
        ids::EHR,
        &remote(1),
        mfa(),
    );
    b.report(
        w.1 + mins(20),
        mv,
        &id,
        "定期パッチ (2026-Q4) を適用し、再起動後の動作を確認しました。",
        Some(Recording {
            sha256: fake_sha256(gen.seed ^ start.timestamp() as u64, 1),
            uri: format!("https://pam.medisys.example/recordings/{id}.cast"),
        }),
        true,
    );
    b.expect(
        MaintenanceCase::ApprovedWorked,
        Some(id),
        Some("approved"),
        &[],
        None,
        &[],
        Some("approved"),
    );

    // unapproved_login: the same engineer, at night, outside any request.
    let before = night - mins(90);
    let unapproved = if before >= start + mins(30) {
        Some(before)
    } else if night + mins(240) < end - mins(10) {
        Some(night + mins(240))
    } else {
        None
    };
    if let Some(t) = unapproved {
        b.login(
            MaintenanceCase::UnapprovedLogin,
            t,
            ms1,
            ids::EHR,
            &remote(1),
            mfa(),
        );
        b.expect(
            MaintenanceCase::UnapprovedLogin,
            None,
            None,
            &[],
            None,
            &["maintenance_unapproved"],
            Some("unapproved"),
        );
    }

    // on_site_unsupervised: by day, when the IT officer is free.
    // Half-hour slots through the day; the first by day (09:00–15:30 JST) that keeps
    // the visit inside the window and the IT officer free, else the first at any hour.
    let fits = |t: DateTime<Utc>| {
        let (a, z) = (t - mins(15), t + mins(135));
        a >= start + mins(30) && z <= end - mins(30) && !busy(reserved, it1, a, z)
    };
    let slots: Vec<DateTime<Utc>> = (0..48).map(|k| start + mins(30 * k)).collect();
    let by_day = |t: &DateTime<Utc>| (9..=15).contains(&t.with_timezone(&jst()).hour());
    let onsite = slots
        .iter()
        .copied()
        .find(|t| by_day(t) && fits(*t))
        .or_else(|| slots.iter().copied().find(|t| fits(*t)));
    if let Some(o) = onsite {
        let w = (o, o + mins(120));
        let filed = start + mins(25);
        let id = b.request(
            6,
            filed,
            tw,
            ids::PHARMACY,
            &[tw1],
            w,
            "調剤システム サーバのディスク交換（来訪）",
            false,
            false,
        );
        b.decide(
            filed + mins(5),
            tw,
            &id,
            Decision::Approve,
            "情報システム担当が立会い",
        );
        let vendor_card = h.staff[tw1]
            .person
            .credentials
            .iter()
            .find(|c| c.kind == monban_core::CredentialType::Card)
            .cloned();
        let it_card = h.staff[it1].usual_credential.clone();
        if let Some(card) = vendor_card {
            b.badge(r, o + mins(5), &card, Direction::In);
            b.badge(r, o + mins(15), &it_card, Direction::In);
            b.login(
                MaintenanceCase::OnSiteUnsupervised,
                o + mins(20),
                tw1,
                ids::PHARMACY,
                ids::MAINTENANCE_TERMINAL,
                vec![Factor::Password],
            );
            b.badge(r, o + mins(50), &it_card, Direction::Out);
            b.login(
                MaintenanceCase::OnSiteUnsupervised,
                o + mins(65),
                tw1,
                ids::PHARMACY,
                ids::MAINTENANCE_TERMINAL,
                vec![Factor::Password],
            );
            b.badge(r, o + mins(85), &card, Direction::Out);
            b.report(
                w.1 + mins(15),
                tw,
                &id,
                "ディスク 1 本を交換し、RAID の再構築完了を確認しました。",
                None,
                true,
            );
            new_reserved.push((it1, o - mins(15), o + mins(135)));
            new_reserved.push((tw1, o - mins(15), o + mins(135)));
            b.expect(
                MaintenanceCase::OnSiteUnsupervised,
                Some(id),
                Some("approved"),
                &["unsupervised"],
                Some(false),
                &[],
                Some("approved"),
            );
        }
    }

    // emergency: worked first, requested afterwards (事後承認), then reported.
    let te = end - mins(300) + TimeDelta::seconds(r.gen_range(-600..=600));
    let w = (te - mins(10), te + mins(90));
    b.login(
        MaintenanceCase::Emergency,
        te,
        ms2,
        ids::EHR,
        &remote(2),
        mfa(),
    );
    b.login(
        MaintenanceCase::Emergency,
        te + mins(25),
        ms2,
        ids::EHR,
        &remote(2),
        mfa(),
    );
    let id = b.request(
        5,
        te + mins(60),
        mv,
        ids::EHR,
        &[ms2],
        w,
        "電子カルテ 処方オーダ画面の停止に対する緊急対応",
        true,
        true,
    );
    b.report(
        te + mins(105),
        mv,
        &id,
        "アプリケーションサーバのプロセス再起動で復旧。原因は調査中。",
        Some(Recording {
            sha256: fake_sha256(gen.seed ^ start.timestamp() as u64, 5),
            uri: format!("https://pam.medisys.example/recordings/{id}.cast"),
        }),
        false,
    );
    b.expect(
        MaintenanceCase::Emergency,
        Some(id),
        Some("requested"),
        &[],
        None,
        &["maintenance_emergency_pending"],
        Some("emergency_pending"),
    );

    // awaiting_decision: tomorrow night, filed late in the day.
    let tomorrow = jst_after(end, 1, 20);
    let id = b.request(
        2,
        end - mins(180),
        mv,
        ids::EHR,
        &[ms1, ms2],
        (tomorrow, tomorrow + mins(180)),
        "電子カルテ データベース統計情報の更新",
        true,
        false,
    );
    b.expect(
        MaintenanceCase::AwaitingDecision,
        Some(id),
        Some("requested"),
        &[],
        None,
        &[],
        None,
    );

    // denied: by day, during consultations.
    let day = jst_after(end, 2, 14);
    let filed = start + mins(360);
    let id = b.request(
        3,
        filed,
        mv,
        ids::EHR,
        &[ms2],
        (day, day + mins(120)),
        "電子カルテ 帳票テンプレートの更新",
        true,
        false,
    );
    b.decide(
        filed + mins(60),
        mv,
        &id,
        Decision::Deny,
        "診療時間中の作業は不可。夜間帯で再申請してください",
    );
    b.expect(
        MaintenanceCase::Denied,
        Some(id),
        Some("denied"),
        &[],
        None,
        &[],
        None,
    );

    // cancelled: an on-site visit approved, then called off.
    let visit = jst_after(end, 3, 10);
    let filed = start + mins(180);
    let id = b.request(
        4,
        filed,
        tw,
        ids::PHARMACY,
        &[tw2],
        (visit, visit + mins(120)),
        "調剤システム 端末の入替（来訪）",
        false,
        false,
    );
    b.decide(filed + mins(10), tw, &id, Decision::Approve, "");
    b.decide(
        end - mins(120),
        tw,
        &id,
        Decision::Cancel,
        "入替日程の変更により取消",
    );
    b.expect(
        MaintenanceCase::Cancelled,
        Some(id),
        Some("cancelled"),
        &[],
        None,
        &[],
        None,
    );

    // leaver_login: the former clerk's account at reception, after their last day.
    if let Some(&p) = h.leavers().first() {
        let mut t = next_jst(start + mins(30), 10, 0);
        if t > end - mins(60) {
            t = start + mins(360);
        }
        let left = h.staff[p]
            .person
            .has_left(Timestamp::from(t), SiteOffset::default());
        if left {
            b.login(
                MaintenanceCase::LeaverLogin,
                t,
                p,
                ids::EHR,
                "lobby-pc01",
                vec![Factor::Password, Factor::IcCard],
            );
            b.expect(
                MaintenanceCase::LeaverLogin,
                None,
                None,
                &[],
                None,
                &["account_of_leaver"],
                None,
            );
        }
    }

    MaintenancePlan {
        drafts: b.drafts,
        reserved: new_reserved,
        expectations: b.expectations,
    }
}
