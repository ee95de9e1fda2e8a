//! The evidence chain (CONTRACT §13): one SHA-256 hash chain over every record the hub
//! keeps as evidence, so that a record changed, removed or inserted outside the hub is
//! found by recomputing the chain.
//!
//! Record *n* carries `hash_n = SHA-256(hash_{n-1} ‖ canonical bytes of record n)`; the
//! chain starts from [`genesis`] = SHA-256 of the site id (UTF-8).
//!
//! # Canonical bytes (version 1)
//!
//! A record is its [`Kind`], its key (a text naming it: a login's `event_id`, a door
//! event's `door/event_id`, …), its row id (the `seq` of its table's row, for the tables
//! that number their rows) and the values of exactly the fields of [`Kind::fields`], in
//! that order. [`canonical`] encodes it as
//!
//! ```text
//! "monban-evidence-v1"
//! text(kind) text(key) opt_int(row id) u32be(number of fields)
//! then for each field: 0x00 (null) | 0x01 i64be (integer) | 0x02 text (text)
//! where text(s) = u32be(byte length of s) ‖ s (UTF-8)
//! and opt_int(None) = 0x00, opt_int(Some(i)) = 0x01 i64be(i)
//! ```
//!
//! Every part is length-prefixed or fixed-width, so two different records never encode
//! to the same bytes. Times are integer milliseconds since the Unix epoch, as stored.
//!
//! # Verification
//!
//! [`Verifier`] takes the chain's links in `seq` order — each with the stored hash and the
//! canonical bytes recomputed from the stored record (or none when the record is gone) —
//! and returns the head or the first [`Broken`] link. It never holds more than one link,
//! so a store of any size is verified in constant memory.

use sha2::{Digest, Sha256};
use std::fmt;

/// A SHA-256 value.
pub type Hash = [u8; 32];

const MAGIC: &[u8] = b"monban-evidence-v1";

/// The kinds of record the chain covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    DoorEvent,
    DoorStatus,
    Outage,
    /// A login's fields that never change; its verdict is carried by its verdict changes.
    Login,
    VerdictChange,
    /// A maintenance request as saved (filed, decided, reported): one record per save.
    Maintenance,
    InventoryChange,
    Audit,
    /// A completed account review (アカウントの棚卸し) with its marks.
    AccountReview,
}

/// The type of a field's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    Int,
    Text,
    /// Text or null.
    OptText,
}

/// A field's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Null,
    Int(i64),
    Text(String),
}

impl Kind {
    pub const ALL: [Kind; 9] = [
        Kind::DoorEvent,
        Kind::DoorStatus,
        Kind::Outage,
        Kind::Login,
        Kind::VerdictChange,
        Kind::Maintenance,
        Kind::InventoryChange,
        Kind::Audit,
        Kind::AccountReview,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::DoorEvent => "door_event",
            Kind::DoorStatus => "door_status",
            Kind::Outage => "outage",
            Kind::Login => "login",
            Kind::VerdictChange => "verdict_change",
            Kind::Maintenance => "maintenance",
            Kind::InventoryChange => "inventory_change",
            Kind::Audit => "audit",
            Kind::AccountReview => "account_review",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The fields of a record of this kind, in encoding order: the columns the hub stores
    /// and serves, named as in the store.
    pub fn fields(self) -> &'static [(&'static str, Ty)] {
        use Ty::*;
        match self {
            Kind::DoorEvent => &[
                ("door", Text),
                ("event_id", Text),
                ("ts", Int),
                ("kind", Text),
                ("direction", Text),
                ("credential_type", OptText),
                ("credential_id", OptText),
                ("source", Text),
                ("received_at", Int),
                ("payload", Text),
            ],
            Kind::DoorStatus => &[
                ("door", Text),
                ("ts", Int),
                ("status", Text),
                ("source", Text),
                ("received_at", Int),
            ],
            Kind::Outage => &[
                ("door", Text),
                ("from_ts", Int),
                ("to_ts", Int),
                ("reason", Text),
                ("recorded_at", Int),
                ("cause", OptText),
            ],
            Kind::Login => &[
                ("event_id", Text),
                ("system", Text),
                ("account", Text),
                ("terminal", Text),
                ("ts", Int),
                ("factors", Text),
                ("outcome", Text),
                ("received_at", Int),
                ("final_at", Int),
            ],
            Kind::VerdictChange => &[
                ("event_id", Text),
                ("at", Int),
                ("verdict", Text),
                ("reasons", Text),
                ("evidence", OptText),
                ("is_final", Int),
                ("cause", Text),
            ],
            Kind::Maintenance => &[
                ("request_id", Text),
                ("vendor", Text),
                ("system", Text),
                ("start_ms", Int),
                ("end_ms", Int),
                ("status", Text),
                ("requested_at", Int),
                ("updated_at", Int),
                ("doc", Text),
            ],
            Kind::InventoryChange => &[
                ("at", Int),
                ("who", Text),
                ("action", Text),
                ("tbl", Text),
                ("row_key", Text),
                ("before_json", OptText),
                ("after_json", OptText),
            ],
            Kind::Audit => &[
                ("at", Int),
                ("actor", Text),
                ("actor_name", Text),
                ("action", Text),
                ("target", Text),
                ("detail", Text),
                ("address", Text),
            ],
            Kind::AccountReview => &[
                ("system", Text),
                ("completed_at", Int),
                ("by_user", Text),
                ("credential", Text),
                ("marks", Text),
            ],
        }
    }

    /// The key that names a record of this kind to a person, from its row id and values
    /// (in [`Kind::fields`] order).
    pub fn key_of(self, rid: Option<i64>, values: &[Value]) -> String {
        let text = |i: usize| match values.get(i) {
            Some(Value::Text(s)) => s.clone(),
            Some(Value::Int(n)) => n.to_string(),
            _ => String::new(),
        };
        match self {
            Kind::DoorEvent => format!("{}/{}", text(0), text(1)),
            Kind::Login | Kind::Maintenance | Kind::VerdictChange => text(0),
            Kind::InventoryChange => format!("{}/{}", text(3), text(4)),
            Kind::DoorStatus | Kind::Outage | Kind::Audit | Kind::AccountReview => {
                rid.map(|r| r.to_string()).unwrap_or_default()
            }
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A record's values do not fit its kind's fields.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} record: {problem}")]
pub struct EncodeError {
    pub kind: Kind,
    pub problem: String,
}

fn put_text(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_be_bytes());
    out.extend_from_slice(s.as_bytes());
}

/// The canonical bytes of a record (see the module docs).
pub fn canonical(
    kind: Kind,
    key: &str,
    rid: Option<i64>,
    values: &[Value],
) -> Result<Vec<u8>, EncodeError> {
    let fields = kind.fields();
    if fields.len() != values.len() {
        return Err(EncodeError {
            kind,
            problem: format!("{} values for {} fields", values.len(), fields.len()),
        });
    }
    let mut out = Vec::with_capacity(64 + values.len() * 16);
    out.extend_from_slice(MAGIC);
    put_text(&mut out, kind.as_str());
    put_text(&mut out, key);
    match rid {
        None => out.push(0),
        Some(r) => {
            out.push(1);
            out.extend_from_slice(&r.to_be_bytes());
        }
    }
    out.extend_from_slice(&(values.len() as u32).to_be_bytes());
    for ((name, ty), v) in fields.iter().zip(values) {
        match (ty, v) {
            (Ty::OptText, Value::Null) => out.push(0),
            (Ty::Int, Value::Int(i)) => {
                out.push(1);
                out.extend_from_slice(&i.to_be_bytes());
            }
            (Ty::Text | Ty::OptText, Value::Text(s)) => {
                out.push(2);
                put_text(&mut out, s);
            }
            _ => {
                return Err(EncodeError {
                    kind,
                    problem: format!("field {name} is not a {ty:?}: {v:?}"),
                })
            }
        }
    }
    Ok(out)
}

/// The hash before the first record: SHA-256 of the site id.
pub fn genesis(site: &str) -> Hash {
    Sha256::digest(site.as_bytes()).into()
}

/// One step of the chain: `SHA-256(prev ‖ bytes)`.
pub fn step(prev: &Hash, bytes: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update(prev);
    h.update(bytes);
    h.finalize().into()
}

/// Lower-case hex of a hash.
pub fn to_hex(h: &Hash) -> String {
    hex::encode(h)
}

/// A hash from its hex (64 digits).
pub fn from_hex(s: &str) -> Option<Hash> {
    let v = hex::decode(s).ok()?;
    v.try_into().ok()
}

/// One link of the chain as stored, with the canonical bytes of the record it covers
/// recomputed from the store (`None` when that record is no longer there).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub seq: i64,
    pub kind: Kind,
    pub key: String,
    pub hash: Hash,
    pub bytes: Option<Vec<u8>>,
}

/// The end of a verified chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    /// The last record's `seq` (0 for an empty chain).
    pub seq: i64,
    pub hash: Hash,
}

/// The first link that does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Broken {
    /// The record (or the hash stored for it) differs from what was chained.
    #[error("changed: {kind} {key} (evidence seq {seq})")]
    Changed { seq: i64, kind: Kind, key: String },
    /// The chained record is no longer in the store.
    #[error("removed: {kind} {key} (evidence seq {seq})")]
    Missing { seq: i64, kind: Kind, key: String },
    /// Links are missing after `after_seq` (a gap in the numbering, or the first link is
    /// not `1`).
    #[error("removed: evidence after seq {after_seq}")]
    Removed { after_seq: i64 },
    /// A link that the chain does not lead to: the links around it chain to each other
    /// without it, or its `seq` repeats or goes back.
    #[error("inserted: evidence seq {seq}")]
    Inserted { seq: i64 },
}

/// Verifies a chain link by link (see the module docs); constant memory.
#[derive(Debug, Clone)]
pub struct Verifier {
    head: Head,
    /// A link whose hash did not match, waiting for the next one to tell whether it was
    /// changed or inserted.
    suspect: Option<Link>,
    /// The hash before the suspect.
    before_suspect: Hash,
}

impl Verifier {
    pub fn new(genesis: Hash) -> Verifier {
        Verifier {
            head: Head {
                seq: 0,
                hash: genesis,
            },
            suspect: None,
            before_suspect: genesis,
        }
    }

    /// The next link, in `seq` order.
    pub fn push(&mut self, link: Link) -> Result<(), Broken> {
        if let Some(s) = self.suspect.take() {
            // The suspect was inserted if the chain goes on from the link before it.
            let skips = link
                .bytes
                .as_ref()
                .is_some_and(|b| step(&self.before_suspect, b) == link.hash);
            return Err(if skips {
                Broken::Inserted { seq: s.seq }
            } else {
                Broken::Changed {
                    seq: s.seq,
                    kind: s.kind,
                    key: s.key,
                }
            });
        }
        if link.seq <= self.head.seq {
            return Err(Broken::Inserted { seq: link.seq });
        }
        if link.seq != self.head.seq + 1 {
            return Err(Broken::Removed {
                after_seq: self.head.seq,
            });
        }
        let Some(bytes) = &link.bytes else {
            return Err(Broken::Missing {
                seq: link.seq,
                kind: link.kind,
                key: link.key,
            });
        };
        let h = step(&self.head.hash, bytes);
        if h != link.hash {
            self.before_suspect = self.head.hash;
            self.suspect = Some(link);
            return Ok(());
        }
        self.head = Head {
            seq: link.seq,
            hash: h,
        };
        Ok(())
    }

    /// The head of the chain once every link was pushed.
    pub fn finish(self) -> Result<Head, Broken> {
        match self.suspect {
            Some(s) => Err(Broken::Changed {
                seq: s.seq,
                kind: s.kind,
                key: s.key,
            }),
            None => Ok(self.head),
        }
    }

    /// The head so far.
    pub fn head(&self) -> Head {
        self.head
    }
}

/// Verifies a whole chain: its head, or the first broken link.
pub fn verify(genesis: Hash, links: impl IntoIterator<Item = Link>) -> Result<Head, Broken> {
    let mut v = Verifier::new(genesis);
    for l in links {
        v.push(l)?;
    }
    v.finish()
}

/// Extends a chain: the links of `records` (kind, key, canonical bytes) after `head`.
pub fn extend(head: Head, records: impl IntoIterator<Item = (Kind, String, Vec<u8>)>) -> Vec<Link> {
    let mut h = head;
    records
        .into_iter()
        .map(|(kind, key, bytes)| {
            h = Head {
                seq: h.seq + 1,
                hash: step(&h.hash, &bytes),
            };
            Link {
                seq: h.seq,
                kind,
                key,
                hash: h.hash,
                bytes: Some(bytes),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn record(i: usize, text: &str) -> (Kind, String, Vec<u8>) {
        let kind = Kind::ALL[i % Kind::ALL.len()];
        let key = format!("k-{i}");
        let values: Vec<Value> = kind
            .fields()
            .iter()
            .map(|(_, ty)| match ty {
                Ty::Int => Value::Int(i as i64),
                Ty::Text => Value::Text(text.to_string()),
                Ty::OptText => Value::Null,
            })
            .collect();
        let bytes = canonical(kind, &key, Some(i as i64), &values).expect("fits");
        (kind, key, bytes)
    }

    fn chain(n: usize, text: &str) -> Vec<Link> {
        let g = genesis("site");
        extend(Head { seq: 0, hash: g }, (0..n).map(|i| record(i, text)))
    }

    #[test]
    fn an_untouched_chain_verifies_to_its_head() {
        let links = chain(20, "x");
        let head = verify(genesis("site"), links.clone()).expect("ok");
        assert_eq!(head.seq, 20);
        assert_eq!(head.hash, links[19].hash);
        assert_eq!(
            verify(genesis("site"), []).expect("ok"),
            Head {
                seq: 0,
                hash: genesis("site")
            }
        );
    }

    #[test]
    fn another_site_does_not_verify() {
        let links = chain(3, "x");
        assert!(matches!(
            verify(genesis("other"), links),
            Err(Broken::Changed { seq: 1, .. })
        ));
    }

    #[test]
    fn fields_are_length_prefixed() {
        let a = canonical(
            Kind::Audit,
            "1",
            Some(1),
            &[
                Value::Int(1),
                Value::Text("ab".into()),
                Value::Text("c".into()),
                Value::Text("".into()),
                Value::Text("".into()),
                Value::Text("".into()),
                Value::Text("".into()),
            ],
        )
        .expect("fits");
        let b = canonical(
            Kind::Audit,
            "1",
            Some(1),
            &[
                Value::Int(1),
                Value::Text("a".into()),
                Value::Text("bc".into()),
                Value::Text("".into()),
                Value::Text("".into()),
                Value::Text("".into()),
                Value::Text("".into()),
            ],
        )
        .expect("fits");
        assert_ne!(a, b);
        assert!(canonical(Kind::Audit, "1", None, &[Value::Int(1)]).is_err());
        assert!(canonical(Kind::DoorStatus, "1", None, &[const { Value::Null }; 5]).is_err());
    }

    #[test]
    fn kinds_round_trip() {
        for k in Kind::ALL {
            assert_eq!(Kind::parse(k.as_str()), Some(k));
        }
    }

    proptest! {
        #[test]
        fn a_changed_record_is_named(n in 1usize..40, at in 0usize..40, text in "[a-z]{0,8}") {
            let at = at % n;
            let mut links = chain(n, "x");
            let (_, _, other) = record(at, &format!("{text}!"));
            links[at].bytes = Some(other);
            let want = Broken::Changed { seq: at as i64 + 1, kind: links[at].kind, key: links[at].key.clone() };
            prop_assert_eq!(verify(genesis("site"), links), Err(want));
        }

        #[test]
        fn a_changed_hash_is_named(n in 1usize..40, at in 0usize..40, flip in 0usize..32) {
            let at = at % n;
            let mut links = chain(n, "x");
            links[at].hash[flip] ^= 1;
            let want = Broken::Changed { seq: at as i64 + 1, kind: links[at].kind, key: links[at].key.clone() };
            prop_assert_eq!(verify(genesis("site"), links), Err(want));
        }

        #[test]
        fn a_missing_record_is_named(n in 1usize..40, at in 0usize..40) {
            let at = at % n;
            let mut links = chain(n, "x");
            links[at].bytes = None;
            let want = Broken::Missing { seq: at as i64 + 1, kind: links[at].kind, key: links[at].key.clone() };
            prop_assert_eq!(verify(genesis("site"), links), Err(want));
        }

        #[test]
        fn a_removed_link_is_named(n in 2usize..40, at in 0usize..40) {
            // The last link's removal only moves the head back: the published head
            // (an inspection report's) shows it.
            let at = at % (n - 1);
            let mut links = chain(n, "x");
            links.remove(at);
            prop_assert_eq!(verify(genesis("site"), links), Err(Broken::Removed { after_seq: at as i64 }));
        }

        #[test]
        fn a_removed_and_renumbered_link_is_found(n in 2usize..40, at in 0usize..40) {
            let at = at % (n - 1);
            let mut links = chain(n, "x");
            links.remove(at);
            for l in links.iter_mut().skip(at) {
                l.seq -= 1;
            }
            let got = verify(genesis("site"), links);
            prop_assert!(matches!(got, Err(Broken::Changed { seq, .. }) if seq == at as i64 + 1), "{:?}", got);
        }

        #[test]
        fn an_inserted_link_is_named(n in 1usize..40, at in 0usize..40, renumber in any::<bool>()) {
            // Inserted before link `at` (not after the last: that looks like a change
            // of the last record, and is found as one).
            let at = at % n;
            let mut links = chain(n, "x");
            let (kind, key, bytes) = record(1000, "forged");
            let forged = Link { seq: at as i64 + 1, kind, key, hash: step(&genesis("forged"), &bytes), bytes: Some(bytes) };
            links.insert(at, forged);
            if renumber {
                for l in links.iter_mut().skip(at + 1) {
                    l.seq += 1;
                }
            }
            prop_assert_eq!(verify(genesis("site"), links), Err(Broken::Inserted { seq: at as i64 + 1 }));
        }
    }
}
