//! The generated hospital and its inventory TOML.

use monban_core::{
    CredentialType, Inventory, Maintains, Person, Room, SiteDay, System, SystemCategory, Vendor,
};
use monban_sim::hospital::{generate, ids, Role};
use monban_sim::schedule::{FORCED_DOOR, OFFLINE_DOOR, UNKNOWN_TERMINAL};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};

/// The `[[people]]` entry as written in CONTRACT §4 (`type:id` strings).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PersonToml {
    id: String,
    name: String,
    vendor: Option<String>,
    until: Option<String>,
    credentials: Vec<String>,
    accounts: BTreeMap<String, String>,
}

/// `[[vendors]]` with `[[vendors.maintains]]` as written in CONTRACT §4.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VendorToml {
    id: String,
    name: String,
    maintains: Vec<MaintainsToml>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MaintainsToml {
    system: String,
    remote: bool,
    route: Option<String>,
    confirmed: Option<String>,
}

#[derive(Deserialize)]
struct SiteToml {
    id: String,
    name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DoorToml {
    id: String,
    room: String,
}

#[derive(Deserialize)]
struct InventoryToml {
    site: SiteToml,
    rooms: Vec<Room>,
    doors: Vec<DoorToml>,
    terminals: Vec<DoorToml>,
    systems: Vec<System>,
    vendors: Vec<VendorToml>,
    people: Vec<PersonToml>,
}

fn parse(seed: u64) -> InventoryToml {
    let text = generate(seed).inventory_toml();
    toml::from_str(&text).unwrap_or_else(|e| panic!("inventory TOML does not parse: {e}\n{text}"))
}

#[test]
fn deterministic_per_seed() {
    assert_eq!(generate(7), generate(7));
    assert_eq!(generate(7).inventory_toml(), generate(7).inventory_toml());
    assert_ne!(generate(7).people(), generate(8).people());
    // The structure does not depend on the seed.
    assert_eq!(generate(7).terminals, generate(8).terminals);
    assert_eq!(generate(7).systems, generate(8).systems);
}

#[test]
fn toml_has_the_contract_sections_and_counts() {
    for seed in [0, 1, 42, u64::MAX] {
        let inv = parse(seed);
        assert_eq!(inv.site.id, "tokyo-general");
        assert_eq!(inv.site.name, "東京総合病院");
        assert!(inv.rooms.len() >= 5);
        assert_eq!(inv.terminals.len(), 20);
        assert_eq!(inv.systems.len(), 4);
        assert_eq!(inv.people.len(), 33);
        assert_eq!(inv.vendors.len(), 2);
        assert_eq!(
            inv.people.iter().filter(|p| p.vendor.is_some()).count(),
            4,
            "two staff per vendor"
        );
        assert_eq!(inv.people.iter().filter(|p| p.until.is_some()).count(), 1);

        let lobby: Vec<&Room> = inv.rooms.iter().filter(|r| !r.controlled).collect();
        assert_eq!(lobby.len(), 1);
        assert_eq!(lobby[0].id.as_str(), ids::LOBBY);
        assert_eq!(lobby[0].name, "外来ロビー");
        assert!(
            inv.doors.iter().all(|d| d.room != ids::LOBBY),
            "the lobby has no door controller"
        );
        assert_eq!(
            inv.terminals
                .iter()
                .filter(|t| t.room == ids::LOBBY)
                .count(),
            2
        );
        for room in inv.rooms.iter().filter(|r| r.controlled) {
            let doors = inv
                .doors
                .iter()
                .filter(|d| d.room == room.id.as_str())
                .count();
            assert!((1..=2).contains(&doors), "{} has {doors} doors", room.id);
            assert!(
                inv.terminals.iter().any(|t| t.room == room.id.as_str()),
                "{} has no terminal",
                room.id
            );
        }

        let categories: BTreeSet<SystemCategory> = inv.systems.iter().map(|s| s.category).collect();
        assert_eq!(categories.len(), 4, "categories are distinct");
        let mfa: Vec<&System> = inv.systems.iter().filter(|s| s.native_mfa).collect();
        assert_eq!(mfa.len(), 1);
        assert_eq!(mfa[0].id.as_str(), ids::VPN);
        let ehr = inv
            .systems
            .iter()
            .find(|s| s.id.as_str() == ids::EHR)
            .expect("ehr");
        assert_eq!(
            (ehr.name.as_str(), ehr.category, ehr.renewal.as_deref()),
            ("電子カルテ", SystemCategory::Ehr, Some("2027-04"))
        );
        let ris = inv
            .systems
            .iter()
            .find(|s| s.id.as_str() == ids::RIS)
            .expect("ris");
        assert_eq!(ris.renewal.as_deref(), Some("2026-10"));

        // Credentials: every type used by several people; ids in the documented shapes.
        let mut holders: BTreeMap<CredentialType, BTreeSet<&str>> = BTreeMap::new();
        for p in &inv.people {
            for c in &p.credentials {
                let c: monban_core::Credential = c.parse().unwrap_or_else(|e| panic!("{c}: {e}"));
                holders.entry(c.kind).or_default().insert(&p.id);
                match c.kind {
                    CredentialType::Card | CredentialType::CardPin => {
                        assert!(
                            c.id.len() == 8
                                && c.id
                                    .chars()
                                    .all(|x| x.is_ascii_hexdigit() && !x.is_ascii_lowercase()),
                            "{c}"
                        )
                    }
                    CredentialType::Biometric => assert!(c.id.starts_with('P'), "{c}"),
                    _ => {}
                }
            }
            assert!(!p.accounts.is_empty(), "{} has no account", p.id);
            assert!(p.name.contains(' ') && !p.name.is_ascii(), "{}", p.name);
        }
        for kind in [
            CredentialType::Card,
            CredentialType::Pin,
            CredentialType::Biometric,
            CredentialType::CardPin,
        ] {
            let n = holders.get(&kind).map_or(0, |s| s.len());
            assert!(n >= 3, "{kind} is held by {n} people");
        }
        let names: BTreeSet<&str> = inv.people.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names.len(), 33, "names are unique");
    }
}

#[test]
fn toml_round_trips_into_the_core_inventory() {
    let h = generate(3);
    let direct = h.inventory().unwrap_or_else(|e| panic!("{e:?}"));
    let inv = parse(3);
    let people: Vec<Person> = inv
        .people
        .into_iter()
        .map(|p| Person {
            id: monban_core::PersonId::parse(p.id).expect("person id"),
            name: p.name,
            vendor: p
                .vendor
                .map(|v| monban_core::VendorId::parse(v).expect("vendor")),
            until: p
                .until
                .map(|d| monban_core::SiteDay::parse(&d).expect("until")),
            credentials: p
                .credentials
                .iter()
                .map(|c| c.parse().expect("credential"))
                .collect(),
            accounts: p
                .accounts
                .into_iter()
                .map(|(s, a)| (monban_core::SystemId::parse(s).expect("system"), a))
                .collect(),
        })
        .collect();
    let doors = inv
        .doors
        .into_iter()
        .map(|d| {
            monban_core::Door::new(
                monban_core::DoorId::parse(d.id).expect("door"),
                monban_core::RoomId::parse(d.room).expect("room"),
                "",
            )
        })
        .collect();
    let terminals = inv
        .terminals
        .into_iter()
        .map(|t| monban_core::Terminal {
            id: monban_core::TerminalId::parse(t.id).expect("terminal"),
            room: monban_core::RoomId::parse(t.room).expect("room"),
            name: String::new(),
        })
        .collect();
    let vendors = inv
        .vendors
        .into_iter()
        .map(|v| Vendor {
            id: monban_core::VendorId::parse(v.id).expect("vendor"),
            name: v.name,
            maintains: v
                .maintains
                .into_iter()
                .map(|m| Maintains {
                    system: monban_core::SystemId::parse(m.system).expect("system"),
                    remote: m.remote,
                    route: m.route,
                    confirmed: m
                        .confirmed
                        .map(|d| monban_core::SiteDay::parse(&d).expect("confirmed")),
                })
                .collect(),
        })
        .collect();
    let from_toml: Inventory = Inventory::with_vendors(
        None,
        inv.rooms,
        doors,
        terminals,
        inv.systems,
        vendors,
        people,
    )
    .unwrap_or_else(|e| panic!("the TOML is not a valid inventory: {e:?}"));
    assert_eq!(from_toml.vendors(), direct.vendors());
    assert_eq!(from_toml.rooms(), direct.rooms());
    assert_eq!(from_toml.systems(), direct.systems());
    assert_eq!(from_toml.people(), direct.people());
    assert_eq!(from_toml.terminals().len(), direct.terminals().len());
    assert_eq!(from_toml.doors().len(), direct.doors().len());
}

#[test]
fn what_the_cases_rely_on() {
    let h = generate(1);
    let inv = h.inventory().unwrap_or_else(|e| panic!("{e:?}"));
    assert!(inv.terminal_by_str(UNKNOWN_TERMINAL).is_none());
    assert!(inv.door_by_str(OFFLINE_DOOR).is_some());
    assert!(inv.door_by_str(FORCED_DOOR).is_some());
    // The unmapped accounts are really unmapped.
    assert_eq!(h.unmapped_accounts.len(), 2);
    for u in &h.unmapped_accounts {
        assert!(inv.system(&u.system).is_some());
        assert!(
            inv.person_by_account(&u.system, &u.account).is_none(),
            "{} is mapped",
            u.account
        );
    }
    // Everyone has a credential beyond knowledge; the on-site vendor's staff also hold
    // the temporary PIN of the server room (the scenarios use it).
    for s in &h.staff {
        assert!(
            s.person
                .credentials
                .iter()
                .any(|c| c.kind != CredentialType::Pin),
            "{}",
            s.person.name
        );
    }
    for p in h.vendor_staff(ids::TOWA) {
        let kinds: Vec<CredentialType> = h.staff[p]
            .person
            .credentials
            .iter()
            .map(|c| c.kind)
            .collect();
        assert_eq!(kinds, vec![CredentialType::Pin, CredentialType::Card]);
        assert!(h.staff[p]
            .person
            .accounts
            .keys()
            .any(|s| s.as_str() == ids::PHARMACY));
    }
    for p in h.vendor_staff(ids::MEDISYS) {
        assert!(h.staff[p]
            .person
            .accounts
            .keys()
            .any(|s| s.as_str() == ids::EHR));
    }
    for role in [
        Role::Nurse,
        Role::Doctor,
        Role::Pharmacist,
        Role::Radiographer,
        Role::Clerk,
        Role::ItStaff,
        Role::Vendor,
    ] {
        assert!(!h.staff_with_role(role).is_empty(), "{role:?}");
    }
}

#[test]
fn vendors_and_the_leaver_are_dated_on_today() {
    let today = SiteDay::parse("2027-05-10").expect("day");
    let h = monban_sim::hospital::generate_on(4, today);
    let inv = h.inventory().unwrap_or_else(|e| panic!("{e:?}"));
    let medisys = inv
        .vendor(&monban_core::VendorId::parse(ids::MEDISYS).expect("id"))
        .expect("medisys");
    let ehr = medisys
        .maintains(&monban_core::SystemId::parse(ids::EHR).expect("id"))
        .expect("maintains ehr");
    assert!(ehr.remote);
    assert_eq!(ehr.route.as_deref(), Some("保守用VPN (IPsec)"));
    assert_eq!(
        ehr.confirmation_due(today),
        None,
        "confirmed within the year"
    );
    let towa = inv
        .vendor(&monban_core::VendorId::parse(ids::TOWA).expect("id"))
        .expect("towa");
    let pharmacy = towa
        .maintains(&monban_core::SystemId::parse(ids::PHARMACY).expect("id"))
        .expect("on site");
    assert!(!pharmacy.remote);
    assert_eq!(pharmacy.route.as_deref(), Some("院内 サーバ室 端末"));
    let ris = towa
        .maintains(&monban_core::SystemId::parse(ids::RIS).expect("id"))
        .expect("ris");
    assert!(
        matches!(
            ris.confirmation_due(today),
            Some(monban_core::ConfirmationDue::Stale { .. })
        ),
        "the dashboard has something to ask for"
    );
    let leavers = h.leavers();
    assert_eq!(leavers.len(), 1);
    let leaver = &h.staff[leavers[0]];
    assert_eq!(leaver.role, Role::Clerk);
    assert_eq!(leaver.person.until, Some(today.plus(-30)));
    assert!(!h.staff_with_role(Role::Clerk).contains(&leavers[0]));
    // The seed alone decides the people: the day only moves the dates.
    let other = monban_sim::hospital::generate_on(4, today.plus(100));
    assert_eq!(
        h.people()
            .iter()
            .map(|p| (&p.id, &p.credentials, &p.accounts))
            .collect::<Vec<_>>(),
        other
            .people()
            .iter()
            .map(|p| (&p.id, &p.credentials, &p.accounts))
            .collect::<Vec<_>>()
    );
}
