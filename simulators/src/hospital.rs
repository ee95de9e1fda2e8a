//! 東京総合病院 (`tokyo-general`): a generated hospital for demos and tests.
//!
//! The *structure* is fixed so that documentation, tests and testers can name it: seven
//! rooms (six access-controlled, plus the uncontrolled 外来ロビー), eight doors, twenty
//! terminals and four systems of different categories (電子カルテ, 調剤システム,
//! 放射線 RIS/PACS and a 保守用リモートアクセス VPN with native MFA). The *people* are
//! generated from the seed: thirty-three people (p0001–p0033) with Japanese names, door
//! credentials (card, pin, biometric, card_pin; each type held by several people) and
//! accounts on the systems their role uses — twenty-eight of the hospital's own staff,
//! two staff of each maintenance vendor (p0029–p0032) and one leaver (p0033). New people
//! are only ever appended, so a seed's earlier people keep their ids and credentials (the
//! example scenarios name them). Two accounts exist on the systems but are deliberately not
//! mapped to anyone ([`Hospital::unmapped_accounts`]); the day simulation uses them to
//! produce `unmapped_account`.
//!
//! Two maintenance vendors (CONTRACT §4, §10) with their staff: メディシステム株式会社
//! ([`ids::MEDISYS`]) maintains the 電子カルテ remotely over the maintenance VPN, and
//! 東和メディカルテック株式会社 ([`ids::TOWA`]) maintains the 調剤システム on site at its
//! server in the サーバ室 and the RIS/PACS remotely — the last entry confirmed more than
//! a year ago, so the dashboard has a confirmation to ask for. One former 医療事務 has
//! left ([`Hospital::leavers`]): their `until` lies a month in the past, and the day
//! simulation logs in with their account once (`account_of_leaver`).
//!
//! Dates (`until`, `confirmed`) are relative to the hospital's `today`:
//! [`generate_on`] takes it, [`generate`] uses the fixed [`REFERENCE_DAY`].
//!
//! [`Hospital::inventory_toml`] renders the site in the syntax of CONTRACT §4, and
//! [`Hospital::inventory`] builds the same site directly as a core [`Inventory`].

use crate::rng::rng;
use monban_core::{
    Credential, CredentialType, Door, DoorId, Inventory, Maintains, Person, PersonId, Room, RoomId,
    RowError, SiteDay, SiteId, SiteOffset, Span, System, SystemCategory, SystemId, Terminal,
    TerminalId, Timestamp, Vendor, VendorId,
};
use rand::seq::SliceRandom;
use rand::Rng as _;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

/// The site id of the generated hospital.
pub const SITE_ID: &str = "tokyo-general";
/// The site name of the generated hospital.
pub const SITE_NAME: &str = "東京総合病院";

/// Well-known ids of the generated hospital, for callers and tests.
pub mod ids {
    /// 電子カルテ (category `ehr`, no native MFA, renewal 2027-04).
    pub const EHR: &str = "ehr";
    /// 調剤システム (category `departmental`, no native MFA).
    pub const PHARMACY: &str = "pharmacy";
    /// 放射線 RIS/PACS (category `other`, no native MFA, renewal 2026-10).
    pub const RIS: &str = "ris";
    /// 保守用リモートアクセス VPN (category `vpn`, native MFA).
    pub const VPN: &str = "vpn";
    /// Every system id, in inventory order.
    pub const SYSTEMS: [&str; 4] = [EHR, PHARMACY, RIS, VPN];
    /// 検体検査システム (category `departmental`, no native MFA): only in a hospital made
    /// with [`super::Hospital::with_lab`] (`monban demo`). Its logins reach the hub only as
    /// an imported access-log file (`crate::access_log`), never over the API.
    pub const LAB: &str = "lab";

    pub const WARD3: &str = "ward3";
    pub const WARD5: &str = "ward5";
    pub const PHARMACY_ROOM: &str = "pharmacy";
    pub const RADIOLOGY: &str = "radiology";
    pub const SERVER_ROOM: &str = "server-room";
    pub const IKYOKU: &str = "ikyoku";
    /// 外来ロビー: the uncontrolled room.
    pub const LOBBY: &str = "lobby";

    /// メディシステム株式会社: maintains the 電子カルテ remotely (保守用VPN).
    pub const MEDISYS: &str = "medisys";
    /// 東和メディカルテック株式会社: maintains the 調剤システム on site (its server is in
    /// the サーバ室) and the RIS/PACS remotely.
    pub const TOWA: &str = "towa-mt";
    /// Every vendor id, in inventory order.
    pub const VENDORS: [&str; 2] = [MEDISYS, TOWA];
    /// The terminal of the サーバ室 where on-site maintenance is done.
    pub const MAINTENANCE_TERMINAL: &str = "server-room-pc01";
}

/// The day [`generate`] dates the hospital on (the leaver's `until`, the vendors'
/// `confirmed`): 2026-12-01.
pub const REFERENCE_DAY: &str = "2026-12-01";

/// What a person does at the hospital; decides their rooms, systems and day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Nurse,
    Doctor,
    Pharmacist,
    Radiographer,
    Clerk,
    ItStaff,
    Vendor,
}

impl Role {
    pub fn label_ja(self) -> &'static str {
        match self {
            Role::Nurse => "看護師",
            Role::Doctor => "医師",
            Role::Pharmacist => "薬剤師",
            Role::Radiographer => "放射線技師",
            Role::Clerk => "医療事務",
            Role::ItStaff => "情報システム担当",
            Role::Vendor => "保守ベンダー",
        }
    }
}

/// A person of the inventory together with what the simulation needs to know about them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Staff {
    /// The inventory entry (`[[people]]`).
    pub person: Person,
    pub role: Role,
    /// Where the person works (a vendor: the room they service on site).
    pub home: RoomId,
    /// The credential the person usually presents at doors.
    pub usual_credential: Credential,
}

/// An account that exists on a system but is mapped to nobody in the inventory, such as
/// a ward's shared login: the hub must answer `unmapped_account` for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnmappedAccount {
    pub system: SystemId,
    pub account: String,
    pub note: String,
}

/// The generated hospital: plain data, deterministic per seed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hospital {
    pub seed: u64,
    pub site_id: SiteId,
    pub site_name: String,
    pub rooms: Vec<Room>,
    pub doors: Vec<Door>,
    pub terminals: Vec<Terminal>,
    pub systems: Vec<System>,
    /// The maintenance vendors (`[[vendors]]`).
    pub vendors: Vec<Vendor>,
    pub staff: Vec<Staff>,
    pub unmapped_accounts: Vec<UnmappedAccount>,
    /// The day the dates are relative to (see [`generate_on`]).
    pub today: SiteDay,
}

fn room_id(s: &str) -> RoomId {
    RoomId::parse(s).expect("built-in room ids are valid")
}
fn door_id(s: &str) -> DoorId {
    DoorId::parse(s).expect("built-in door ids are valid")
}
fn system_id(s: &str) -> SystemId {
    SystemId::parse(s).expect("built-in system ids are valid")
}

/// Rooms: (id, name, controlled, max_presence, alarm_hold).
const ROOMS: &[(&str, &str, bool, i64, i64)] = &[
    (ids::WARD3, "3F ナースステーション", true, 12 * 60, 15),
    (ids::WARD5, "5F ナースステーション", true, 12 * 60, 15),
    (ids::PHARMACY_ROOM, "調剤室", true, 12 * 60, 15),
    (ids::RADIOLOGY, "放射線管理区域", true, 12 * 60, 15),
    (ids::SERVER_ROOM, "サーバ室", true, 4 * 60, 30),
    (ids::IKYOKU, "医局", true, 14 * 60, 15),
    (ids::LOBBY, "外来ロビー", false, 12 * 60, 15),
];

/// Doors: (id, room, name). The lobby has no door controller.
const DOORS: &[(&str, &str, &str)] = &[
    ("ward3-main", ids::WARD3, "3F 病棟 正面扉"),
    ("ward3-back", ids::WARD3, "3F 病棟 スタッフ通用口"),
    ("ward5-main", ids::WARD5, "5F 病棟 正面扉"),
    ("pharmacy-main", ids::PHARMACY_ROOM, "調剤室 入口"),
    ("radiology-main", ids::RADIOLOGY, "放射線管理区域 入口"),
    ("radiology-back", ids::RADIOLOGY, "放射線管理区域 搬入口"),
    ("server-room-main", ids::SERVER_ROOM, "サーバ室 入口"),
    ("ikyoku-main", ids::IKYOKU, "医局 入口"),
];

/// Terminals: (id, room, name). Twenty in all, two of them in the lobby.
const TERMINALS: &[(&str, &str, &str)] = &[
    ("ward3-pc01", ids::WARD3, "3F 記録用PC 1"),
    ("ward3-pc02", ids::WARD3, "3F 記録用PC 2"),
    ("ward3-pc03", ids::WARD3, "3F 記録用PC 3"),
    ("ward3-pc04", ids::WARD3, "3F 配膳カート端末"),
    ("ward5-pc01", ids::WARD5, "5F 記録用PC 1"),
    ("ward5-pc02", ids::WARD5, "5F 記録用PC 2"),
    ("ward5-pc03", ids::WARD5, "5F 記録用PC 3"),
    ("pharmacy-pc01", ids::PHARMACY_ROOM, "調剤室 PC 1"),
    ("pharmacy-pc02", ids::PHARMACY_ROOM, "調剤室 PC 2"),
    ("pharmacy-pc03", ids::PHARMACY_ROOM, "調剤室 監査台"),
    ("radiology-pc01", ids::RADIOLOGY, "CT 操作室"),
    ("radiology-pc02", ids::RADIOLOGY, "一般撮影 操作室"),
    ("radiology-pc03", ids::RADIOLOGY, "読影端末"),
    (
        "server-room-console01",
        ids::SERVER_ROOM,
        "サーバ室 管理コンソール",
    ),
    ("server-room-pc01", ids::SERVER_ROOM, "サーバ室 作業用PC"),
    ("ikyoku-pc01", ids::IKYOKU, "医局 PC 1"),
    ("ikyoku-pc02", ids::IKYOKU, "医局 PC 2"),
    ("ikyoku-pc03", ids::IKYOKU, "医局 PC 3"),
    ("lobby-pc01", ids::LOBBY, "外来受付 PC"),
    ("lobby-kiosk01", ids::LOBBY, "再来受付機"),
];

/// Systems: (id, name, category, native_mfa, renewal).
const SYSTEMS: &[(&str, &str, SystemCategory, bool, Option<&str>)] = &[
    (
        ids::EHR,
        "電子カルテ",
        SystemCategory::Ehr,
        false,
        Some("2027-04"),
    ),
    (
        ids::PHARMACY,
        "調剤システム",
        SystemCategory::Departmental,
        false,
        Some("2028-01"),
    ),
    (
        ids::RIS,
        "放射線 RIS/PACS",
        SystemCategory::Other,
        false,
        Some("2026-10"),
    ),
    (
        ids::VPN,
        "保守用リモートアクセス VPN",
        SystemCategory::Vpn,
        true,
        None,
    ),
];

const SURNAMES: &[&str] = &[
    "佐藤",
    "鈴木",
    "高橋",
    "田中",
    "伊藤",
    "渡辺",
    "山本",
    "中村",
    "小林",
    "加藤",
    "吉田",
    "山田",
    "佐々木",
    "山口",
    "松本",
    "井上",
    "木村",
    "林",
    "斎藤",
    "清水",
    "山崎",
    "森",
    "池田",
    "橋本",
    "阿部",
    "石川",
    "前田",
    "藤田",
    "小川",
    "岡田",
    "後藤",
    "長谷川",
];
const GIVEN_NAMES: &[&str] = &[
    "花子",
    "美咲",
    "陽子",
    "由美",
    "恵",
    "直美",
    "真由美",
    "彩",
    "結衣",
    "葵",
    "一郎",
    "健太",
    "翔",
    "大輔",
    "拓也",
    "誠",
    "浩",
    "隆",
    "修",
    "亮",
    "和也",
    "直樹",
    "裕子",
    "智子",
    "明美",
    "沙織",
    "優子",
    "蓮",
    "湊",
    "悠真",
];

/// Whom a person works for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Affiliation {
    /// The hospital's own staff.
    Hospital,
    /// Staff of this vendor (`vendor = …`).
    Vendor(&'static str),
    /// Former hospital staff whose `until` is [`LEAVER_DAYS_AGO`] days before `today`.
    Leaver,
}

/// How many days before `today` the leaver's last day was.
const LEAVER_DAYS_AGO: i64 = 30;

/// The staff plan: how many of each role, where they work and for whom. New people are
/// appended, so that the people before them keep their names and credentials.
const STAFF_PLAN: &[(Role, &str, usize, Affiliation)] = &[
    (Role::Nurse, ids::WARD3, 5, Affiliation::Hospital),
    (Role::Nurse, ids::WARD5, 5, Affiliation::Hospital),
    (Role::Doctor, ids::IKYOKU, 6, Affiliation::Hospital),
    (
        Role::Pharmacist,
        ids::PHARMACY_ROOM,
        4,
        Affiliation::Hospital,
    ),
    (Role::Radiographer, ids::RADIOLOGY, 4, Affiliation::Hospital),
    (Role::Clerk, ids::LOBBY, 3, Affiliation::Hospital),
    (Role::ItStaff, ids::SERVER_ROOM, 1, Affiliation::Hospital),
    (
        Role::Vendor,
        ids::SERVER_ROOM,
        2,
        Affiliation::Vendor(ids::TOWA),
    ),
    (
        Role::Vendor,
        ids::SERVER_ROOM,
        2,
        Affiliation::Vendor(ids::MEDISYS),
    ),
    (Role::Clerk, ids::LOBBY, 1, Affiliation::Leaver),
];

/// Vendors: (id, name, [(system, remote, route, confirmed days before today)]).
type VendorRow = (
    &'static str,
    &'static str,
    &'static [(&'static str, bool, &'static str, Option<i64>)],
);
const VENDORS: &[VendorRow] = &[
    (
        ids::MEDISYS,
        "メディシステム株式会社",
        &[(ids::EHR, true, "保守用VPN (IPsec)", Some(45))],
    ),
    (
        ids::TOWA,
        "東和メディカルテック株式会社",
        &[
            // The 調剤システム's server stands in the サーバ室: maintained on site.
            (ids::PHARMACY, false, "院内 サーバ室 端末", None),
            // Confirmed more than a year ago: the dashboard asks for it again.
            (ids::RIS, true, "保守用リモートアクセス VPN", Some(400)),
        ],
    ),
];

/// Generates the hospital for `seed`, dated on [`REFERENCE_DAY`]. The same seed always
/// gives the same hospital.
pub fn generate(seed: u64) -> Hospital {
    let today = SiteDay::parse(REFERENCE_DAY).unwrap_or(SiteDay::from_number(0));
    generate_on(seed, today)
}

/// The site's day (JST) at `t`: what to pass to [`generate_on`] for a hospital of now.
pub fn site_day(t: chrono::DateTime<chrono::Utc>) -> SiteDay {
    SiteOffset::default().day_of(Timestamp::from(t))
}

/// Generates the hospital for `seed` with its dates relative to `today`: the leaver
/// left 30 days before, the vendors confirmed their entries 45, and 400 days before.
/// Everything else depends on the seed only.
pub fn generate_on(seed: u64, today: SiteDay) -> Hospital {
    let rooms = ROOMS
        .iter()
        .map(|&(id, name, controlled, max_presence, alarm_hold)| Room {
            id: room_id(id),
            name: name.to_string(),
            controlled,
            max_presence: Span::from_secs(max_presence * 60),
            alarm_hold: Span::from_secs(alarm_hold * 60),
        })
        .collect();
    let doors = DOORS
        .iter()
        .map(|&(id, room, name)| Door::new(door_id(id), room_id(room), name))
        .collect();
    let terminals = TERMINALS
        .iter()
        .map(|&(id, room, name)| Terminal {
            id: TerminalId::parse(id).expect("built-in terminal ids are valid"),
            room: room_id(room),
            name: name.to_string(),
        })
        .collect();
    let systems = SYSTEMS
        .iter()
        .map(|&(id, name, category, native_mfa, renewal)| System {
            id: system_id(id),
            name: name.to_string(),
            category,
            native_mfa,
            renewal: renewal.map(str::to_string),
            plan: None,
            by: None,
        })
        .collect();

    Hospital {
        seed,
        site_id: SiteId::parse(SITE_ID).expect("built-in site id is valid"),
        site_name: SITE_NAME.to_string(),
        rooms,
        doors,
        terminals,
        systems,
        vendors: VENDORS
            .iter()
            .map(|&(id, name, maintains)| Vendor {
                id: VendorId::parse(id).expect("built-in vendor ids are valid"),
                name: name.to_string(),
                maintains: maintains
                    .iter()
                    .map(|&(system, remote, route, confirmed)| Maintains {
                        system: system_id(system),
                        remote,
                        route: Some(route.to_string()),
                        confirmed: confirmed.map(|d| today.plus(-d)),
                    })
                    .collect(),
            })
            .collect(),
        staff: generate_staff(seed, today),
        today,
        unmapped_accounts: vec![
            UnmappedAccount {
                system: system_id(ids::EHR),
                account: "ward3-shared".into(),
                note: "3F 病棟の共用アカウント（職員に紐付いていない）".into(),
            },
            UnmappedAccount {
                system: system_id(ids::RIS),
                account: "pacs-admin".into(),
                note: "RIS/PACS の初期管理者アカウント".into(),
            },
        ],
    }
}

/// Unique credential ids: card numbers are random (MIFARE-like `04xxxxxx`), others
/// derived from the person number.
struct CredentialMint {
    rng: crate::rng::Rng,
    used: BTreeSet<String>,
}

impl CredentialMint {
    fn hex(&mut self) -> String {
        loop {
            let id = format!("04{:06X}", self.rng.gen::<u32>() & 0x00FF_FFFF);
            if self.used.insert(id.clone()) {
                return id;
            }
        }
    }
    fn card(&mut self) -> Credential {
        cred(CredentialType::Card, &self.hex())
    }
    fn card_pin(&mut self) -> Credential {
        cred(CredentialType::CardPin, &self.hex())
    }
}

fn cred(kind: CredentialType, id: &str) -> Credential {
    Credential::new(kind, id).expect("generated credential ids are valid")
}

fn generate_staff(seed: u64, today: SiteDay) -> Vec<Staff> {
    let mut names = rng(seed, &[1]);
    let mut surnames: Vec<&str> = SURNAMES.to_vec();
    surnames.shuffle(&mut names);
    let mut mint = CredentialMint {
        rng: rng(seed, &[2]),
        used: BTreeSet::new(),
    };
    let mut choices = rng(seed, &[3]);

    let mut staff = Vec::new();
    // Accounts are numbered per role, and per vendor for vendor staff.
    let mut role_counter: BTreeMap<(Role, Option<&str>), usize> = BTreeMap::new();
    for &(role, home, count, affiliation) in STAFF_PLAN {
        let vendor = match affiliation {
            Affiliation::Vendor(v) => Some(v),
            Affiliation::Hospital | Affiliation::Leaver => None,
        };
        for _ in 0..count {
            let n = staff.len() + 1; // person number, 1-based
            let k = {
                let c = role_counter.entry((role, vendor)).or_insert(0);
                *c += 1;
                *c
            };
            let surname = surnames[(n - 1) % surnames.len()];
            let given = GIVEN_NAMES[names.gen_range(0..GIVEN_NAMES.len())];
            let biometric = cred(CredentialType::Biometric, &format!("P{n:04}"));
            let pin = cred(CredentialType::Pin, &format!("{}", 7000 + n));

            let mut accounts: BTreeMap<SystemId, String> = BTreeMap::new();
            let mut account = |system: &str, name: String| {
                accounts.insert(system_id(system), name);
            };
            // The first credential is the usual one.
            let credentials: Vec<Credential> = match role {
                Role::Nurse => {
                    account(ids::EHR, format!("nurse{k:02}"));
                    // Every other nurse also enrolled a fingerprint; which ones is seeded.
                    if k % 2 == 0 || choices.gen_bool(0.2) {
                        vec![mint.card(), biometric]
                    } else {
                        vec![mint.card()]
                    }
                }
                Role::Doctor => {
                    account(ids::EHR, format!("dr{k:02}"));
                    account(ids::RIS, format!("ris-dr{k:02}"));
                    if k <= 3 {
                        vec![mint.card_pin(), biometric]
                    } else if choices.gen_bool(0.5) {
                        vec![mint.card(), biometric]
                    } else {
                        vec![mint.card()]
                    }
                }
                Role::Pharmacist => {
                    account(ids::PHARMACY, format!("ph{k:02}"));
                    account(ids::EHR, format!("pharm{k:02}"));
                    // Vein reader at the dispensing room; the PIN is the fallback code.
                    vec![biometric, pin]
                }
                Role::Radiographer => {
                    account(ids::RIS, format!("rt{k:02}"));
                    account(ids::EHR, format!("rt{k:02}"));
                    vec![mint.card_pin()]
                }
                Role::Clerk => {
                    account(ids::EHR, format!("clerk{k:02}"));
                    vec![mint.card()]
                }
                Role::ItStaff => {
                    account(ids::EHR, format!("sysadmin{k:02}"));
                    account(ids::VPN, format!("it-ops{k:02}"));
                    account(ids::RIS, format!("ris-it{k:02}"));
                    vec![mint.card_pin(), biometric]
                }
                Role::Vendor if vendor == Some(ids::MEDISYS) => {
                    // Remote maintenance of the 電子カルテ; a visitor card for the rare
                    // visit on site.
                    account(ids::EHR, format!("ms-maint{k:02}"));
                    vec![mint.card()]
                }
                Role::Vendor => {
                    account(ids::VPN, format!("vendor{k:02}"));
                    account(ids::RIS, format!("pacs-maint{k:02}"));
                    account(ids::PHARMACY, format!("towa-ph{k:02}"));
                    // A temporary PIN code issued for the server room (knowledge only),
                    // and a vendor card for the server-room door.
                    vec![pin, mint.card()]
                }
            };
            let usual_credential = credentials[0].clone();
            let person = Person {
                id: PersonId::parse(format!("p{n:04}")).expect("generated person ids are valid"),
                name: format!("{} {} {}", role.label_ja(), surname, given),
                vendor: vendor.map(|v| VendorId::parse(v).expect("built-in vendor ids are valid")),
                until: (affiliation == Affiliation::Leaver).then(|| today.plus(-LEAVER_DAYS_AGO)),
                credentials,
                accounts,
            };
            staff.push(Staff {
                person,
                role,
                home: room_id(home),
                usual_credential,
            });
        }
    }
    staff
}

impl Hospital {
    /// The hospital with its 検体検査システム ([`ids::LAB`]): nurses, doctors, clerks (the
    /// leaver too) and IT staff have an account there (`lab` + their person number).
    /// Its logins come only from its access log ([`crate::access_log`]); the day
    /// simulation never logs in to it.
    pub fn with_lab(mut self) -> Hospital {
        if self.systems.iter().any(|s| s.id.as_str() == ids::LAB) {
            return self;
        }
        self.systems.push(System {
            id: system_id(ids::LAB),
            name: "検体検査システム".into(),
            category: SystemCategory::Departmental,
            native_mfa: false,
            renewal: Some("2029-03".into()),
            plan: None,
            by: None,
        });
        for (i, s) in self.staff.iter_mut().enumerate() {
            if matches!(
                s.role,
                Role::Nurse | Role::Doctor | Role::Clerk | Role::ItStaff
            ) {
                s.person
                    .accounts
                    .insert(system_id(ids::LAB), format!("lab{:04}", i + 1));
            }
        }
        self.unmapped_accounts.push(UnmappedAccount {
            system: system_id(ids::LAB),
            account: "kensa-shared".into(),
            note: "検査室の共用アカウント（職員に紐付いていない）".into(),
        });
        self
    }

    /// The system ids, in inventory order.
    pub fn system_ids(&self) -> Vec<SystemId> {
        self.systems.iter().map(|s| s.id.clone()).collect()
    }

    /// The `[[people]]` entries.
    pub fn people(&self) -> Vec<Person> {
        self.staff.iter().map(|s| s.person.clone()).collect()
    }

    pub fn room(&self, id: &RoomId) -> Option<&Room> {
        self.rooms.iter().find(|r| &r.id == id)
    }

    pub fn doors_of(&self, room: &RoomId) -> Vec<&Door> {
        self.doors.iter().filter(|d| &d.room == room).collect()
    }

    pub fn terminals_in(&self, room: &RoomId) -> Vec<&Terminal> {
        self.terminals.iter().filter(|t| &t.room == room).collect()
    }

    /// Indices into [`Hospital::staff`] of everyone with `role` who still works here
    /// (leavers are left out).
    pub fn staff_with_role(&self, role: Role) -> Vec<usize> {
        (0..self.staff.len())
            .filter(|&i| self.staff[i].role == role && self.staff[i].person.until.is_none())
            .collect()
    }

    /// Indices into [`Hospital::staff`] of the staff of `vendor`.
    pub fn vendor_staff(&self, vendor: &str) -> Vec<usize> {
        (0..self.staff.len())
            .filter(|&i| {
                self.staff[i]
                    .person
                    .vendor
                    .as_ref()
                    .is_some_and(|v| v.as_str() == vendor)
            })
            .collect()
    }

    /// Indices into [`Hospital::staff`] of the people who have left (an `until`).
    pub fn leavers(&self) -> Vec<usize> {
        (0..self.staff.len())
            .filter(|&i| self.staff[i].person.until.is_some())
            .collect()
    }

    /// The site as a core [`Inventory`] (the same content as [`Hospital::inventory_toml`]).
    pub fn inventory(&self) -> Result<Inventory, Vec<RowError>> {
        Inventory::with_vendors(
            Some((self.site_id.clone(), self.site_name.clone())),
            self.rooms.clone(),
            self.doors.clone(),
            self.terminals.clone(),
            self.systems.clone(),
            self.vendors.clone(),
            self.people(),
        )
    }

    /// The `[site]`, `[[rooms]]`, `[[doors]]`, `[[terminals]]`, `[[systems]]`,
    /// `[[vendors]]` (with `[[vendors.maintains]]`) and `[[people]]` sections in the syntax of CONTRACT §4. The caller prepends
    /// `[server]` and `[mqtt]`. Door and terminal names, roles and the unmapped accounts
    /// are written as comments, so that the file carries exactly the contract's keys.
    pub fn inventory_toml(&self) -> String {
        let mut out = String::new();
        // `write!` to a String cannot fail; the results are ignored on purpose.
        let _ = writeln!(
            out,
            "# {} — generated by monban-sim (seed {})",
            self.site_name, self.seed
        );
        let _ = writeln!(
            out,
            "\n[site]\nid = {}\nname = {}",
            q(self.site_id.as_str()),
            q(&self.site_name)
        );

        for r in &self.rooms {
            let _ = writeln!(
                out,
                "\n[[rooms]]\nid = {}\nname = {}\ncontrolled = {}\nmax_presence = {}\nalarm_hold = {}",
                q(r.id.as_str()),
                q(&r.name),
                r.controlled,
                q(&r.max_presence.to_string()),
                q(&r.alarm_hold.to_string()),
            );
        }
        for d in &self.doors {
            let _ = writeln!(
                out,
                "\n# {}\n[[doors]]\nid = {}\nroom = {}",
                d.name,
                q(d.id.as_str()),
                q(d.room.as_str())
            );
        }
        for t in &self.terminals {
            let _ = writeln!(
                out,
                "\n# {}\n[[terminals]]\nid = {}\nroom = {}",
                t.name,
                q(t.id.as_str()),
                q(t.room.as_str())
            );
        }
        for s in &self.systems {
            let _ = write!(
                out,
                "\n[[systems]]\nid = {}\nname = {}\ncategory = {}\nnative_mfa = {}\n",
                q(s.id.as_str()),
                q(&s.name),
                q(s.category.as_str()),
                s.native_mfa
            );
            if let Some(renewal) = &s.renewal {
                let _ = writeln!(out, "renewal = {}", q(renewal));
            }
        }
        for v in &self.vendors {
            let _ = writeln!(
                out,
                "\n[[vendors]]\nid = {}\nname = {}",
                q(v.id.as_str()),
                q(&v.name)
            );
            for m in &v.maintains {
                let _ = write!(
                    out,
                    "\n[[vendors.maintains]]\nsystem = {}\nremote = {}\n",
                    q(m.system.as_str()),
                    m.remote
                );
                if let Some(route) = &m.route {
                    let _ = writeln!(out, "route = {}", q(route));
                }
                if let Some(confirmed) = m.confirmed {
                    let _ = writeln!(out, "confirmed = {}", q(&confirmed.to_string()));
                }
            }
        }
        for s in &self.staff {
            let p = &s.person;
            let credentials: Vec<String> =
                p.credentials.iter().map(|c| q(&c.to_string())).collect();
            let accounts: Vec<String> = p
                .accounts
                .iter()
                .map(|(system, account)| format!("{} = {}", key(system.as_str()), q(account)))
                .collect();
            let _ = write!(
                out,
                "\n[[people]]\nid = {}\nname = {}\n",
                q(p.id.as_str()),
                q(&p.name),
            );
            if let Some(v) = &p.vendor {
                let _ = writeln!(out, "vendor = {}", q(v.as_str()));
            }
            if let Some(until) = p.until {
                let _ = writeln!(out, "until = {}", q(&until.to_string()));
            }
            let _ = writeln!(
                out,
                "credentials = [{}]\naccounts = {{ {} }}",
                credentials.join(", "),
                accounts.join(", ")
            );
        }
        if !self.unmapped_accounts.is_empty() {
            let _ = writeln!(
                out,
                "\n# Accounts deliberately mapped to nobody (the simulation uses them):"
            );
            for u in &self.unmapped_accounts {
                let _ = writeln!(out, "#   {} / {} — {}", u.system, u.account, u.note);
            }
        }
        out
    }
}

/// A TOML basic string.
fn q(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A TOML key: bare when it can be, quoted otherwise (ids may contain `.`, `~`, `:`).
fn key(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        s.to_string()
    } else {
        q(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(q("a\"b\\c\n"), r#""a\"b\\c\n""#);
        assert_eq!(key("ehr"), "ehr");
        assert_eq!(key("a.b"), "\"a.b\"");
    }
}
