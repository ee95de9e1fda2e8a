//! `monban generate logins`: fills a store with generated logins through the writer, in
//! batches — the path an access-log import takes — for benchmarks and for trying the
//! reports on a year of data. Never against a store that holds real evidence: the
//! command refuses a store that already has logins unless told otherwise.
//!
//! Logins are spread evenly over the last `days` days in time order (as an access log
//! is: each a little later than the one before, at a random step), on the systems,
//! accounts and terminals of the inventory, with a mix of factors (most with a password
//! only, some with a second factor, a few failures) and some accounts nobody is mapped
//! to. The writer judges each one like any login. Generated logins are final at once
//! (the writer runs with a grace of zero): a year of history must not wait in memory.

use crate::clock::Clock;
use crate::store::Store;
use crate::writer::{Input, Shared, Writer, WriterSettings};
use monban_core::{Factor, Inventory, Login, Outcome, Span, Timestamp};

/// What to generate.
#[derive(Debug, Clone)]
pub struct Plan {
    pub count: u64,
    pub days: u32,
    /// Logins per writer command (one transaction each, or more per transaction when
    /// commands queue up).
    pub batch: usize,
    pub seed: u64,
}

/// What was generated.
#[derive(Debug, Clone, Copy)]
pub struct Generated {
    pub logins: u64,
    pub seconds: f64,
}

/// A small deterministic generator (splitmix64): the same seed gives the same logins.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }
}

/// The accounts of each system: mapped ones from the inventory, plus unmapped ones.
fn accounts(inv: &Inventory) -> Vec<(monban_core::SystemId, Vec<String>)> {
    inv.systems()
        .iter()
        .map(|s| {
            let mut list: Vec<String> = inv
                .people()
                .iter()
                .filter_map(|p| p.accounts.get(&s.id).cloned())
                .collect();
            for i in 0..3 {
                list.push(format!("shared{i:02}"));
            }
            (s.id.clone(), list)
        })
        .collect()
}

/// Generates `plan.count` logins into `store` through a writer of its own (grace zero),
/// calling `progress` with the number stored so far after each batch.
pub async fn logins(
    store: Store,
    plan: &Plan,
    clock: Clock,
    progress: impl Fn(u64),
) -> anyhow::Result<Generated> {
    let inv = store.load_inventory().await?;
    if inv.systems().is_empty() {
        anyhow::bail!("the inventory has no [[systems]]: there is nothing to log in to");
    }
    let terminals: Vec<String> = inv.terminals().iter().map(|t| t.id.to_string()).collect();
    let accounts = accounts(&inv);
    let shared = Shared::new(inv, Span::from_millis(0));
    let writer = Writer::start(
        store,
        shared,
        WriterSettings {
            grace: Span::from_millis(0),
            offset: monban_core::SiteOffset::default(),
            clock: clock.clone(),
        },
    )
    .await?;
    let (handle, rx) = crate::writer::channel();
    let stop = tokio_util::sync::CancellationToken::new();
    let task = tokio::spawn(writer.run(rx, stop.clone()));

    let now = clock.now().as_millis();
    let span = i64::from(plan.days.max(1)) * 86_400_000;
    let mut rng = Rng(plan.seed);
    let started = std::time::Instant::now();
    let mut sent = 0u64;
    // Two commands in flight: the next batch is built while the writer commits.
    let mut in_flight: Option<tokio::task::JoinHandle<crate::writer::Reply>> = None;
    while sent < plan.count {
        let n = (plan.count - sent).min(plan.batch.max(1) as u64);
        let mut inputs = Vec::with_capacity(n as usize);
        for i in 0..n {
            let (system, list) = &accounts[rng.below(accounts.len() as u64) as usize];
            let account = list[rng.below(list.len() as u64) as usize].clone();
            let terminal = if terminals.is_empty() || rng.below(50) == 0 {
                "unknown-pc".to_string()
            } else {
                terminals[rng.below(terminals.len() as u64) as usize].clone()
            };
            let roll = rng.below(100);
            let factors = match roll {
                0..=69 => vec![Factor::Password],
                70..=84 => vec![Factor::Password, Factor::Totp],
                85..=94 => vec![Factor::Smartcard, Factor::Pin],
                _ => vec![Factor::Password],
            };
            let outcome = if roll >= 97 {
                Outcome::Failure
            } else {
                Outcome::Success
            };
            // In time order: the i-th login of `count` near `i / count` of the span.
            let slot = span / plan.count.max(1) as i64;
            let ts = now - span + (sent + i) as i64 * slot + rng.below(slot.max(1) as u64) as i64;
            inputs.push(Input::Login {
                login: Login {
                    event_id: format!("gen-{}-{:010}", plan.seed, sent + i),
                    ts: Timestamp::from_millis(ts),
                    system: system.clone(),
                    account,
                    terminal,
                    factors,
                    outcome,
                },
                step_up: None,
            });
        }
        let h = handle.clone();
        let next = tokio::spawn(async move { h.submit(inputs).await });
        if let Some(prev) = in_flight.replace(next) {
            prev.await??;
        }
        sent += n;
        progress(sent);
    }
    if let Some(prev) = in_flight.take() {
        prev.await??;
    }
    let seconds = started.elapsed().as_secs_f64();
    stop.cancel();
    drop(handle);
    task.await?;
    Ok(Generated {
        logins: sent,
        seconds,
    })
}
