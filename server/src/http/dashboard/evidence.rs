//! The data of the dashboard's evidence page (`monban_web::pages::evidence`): one login
//! as `GET /api/v1/logins/{event_id}` has it, joined with the inventory (person, terminal,
//! room), the stored entry event (credential id, source) and the `verdict_changes` rows.

use super::{unavailable, Source};
use crate::http::export::place;
use monban_core::{Category, CategorySet, VerdictKind};
use monban_web::api::SourceError;
use monban_web::pages::evidence::{
    EntryInfo, FactorInfo, LoginEvidence, StepUpInfo, VerdictChange,
};

/// Category codes as in CONTRACT §2.
fn category_codes(set: CategorySet) -> Vec<String> {
    set.iter()
        .map(|c| {
            match c {
                Category::Knowledge => "knowledge",
                Category::Possession => "possession",
                Category::Inherence => "inherence",
            }
            .to_string()
        })
        .collect()
}

#[async_trait::async_trait]
impl monban_web::pages::evidence::EvidenceSource for Source {
    async fn login_evidence(&self, event_id: String) -> Result<Option<LoginEvidence>, SourceError> {
        let src = self;
        let Some(s) = src.store.login(&event_id).await.map_err(unavailable)? else {
            return Ok(None);
        };
        let now = src.now();
        let inv = src.inventory();
        let p = place(&inv, &s);
        let l = &s.login;

        // The entry, as the API shows it: only for combined_measures.
        let entry = match (&s.verdict.evidence, s.verdict.kind) {
            (Some(ev), VerdictKind::CombinedMeasures) => {
                let door = inv.door(&ev.door);
                let room = door.and_then(|d| inv.room(&d.room));
                let (credential_id, source) = match src
                    .store
                    .entry_of(ev.door.as_str(), ev.entry_event_id.as_str())
                    .await
                    .map_err(unavailable)?
                {
                    Some((credential_id, source)) => (credential_id, Some(source)),
                    None => (None, None),
                };
                Some(EntryInfo {
                    event_id: ev.entry_event_id.clone(),
                    door: ev.door.to_string(),
                    door_name: door.map(|d| d.name.clone()).filter(|n| !n.is_empty()),
                    room: door.map(|d| d.room.to_string()),
                    room_name: room.map(|r| r.name.clone()),
                    entered_at: ev.entered_at.to_rfc3339(),
                    credential: FactorInfo {
                        code: ev.credential_type.as_str().to_string(),
                        categories: category_codes(ev.credential_type.categories()),
                    },
                    credential_id,
                    source,
                })
            }
            _ => None,
        };

        let step_up = match src
            .store
            .step_up_of_login(&event_id)
            .await
            .map_err(unavailable)?
        {
            Some(su) => {
                let passkey_name = match &su.credential {
                    Some(c) => src
                        .store
                        .passkey(c)
                        .await
                        .map_err(unavailable)?
                        .map(|p| p.name),
                    None => None,
                };
                Some(StepUpInfo {
                    id: su.id,
                    requested_at: su.created_at.to_rfc3339(),
                    verified_at: su.verified_at.map(|t| t.to_rfc3339()),
                    passkey_name,
                })
            }
            None => None,
        };

        let history = src
            .store
            .verdict_changes(&event_id)
            .await
            .map_err(unavailable)?
            .into_iter()
            .map(|r| VerdictChange {
                at: r.at.to_rfc3339(),
                verdict: r.verdict,
                reasons: r.reasons,
                is_final: r.is_final,
                cause: r.cause,
            })
            .collect();

        Ok(Some(LoginEvidence {
            event_id: l.event_id.clone(),
            ts: l.ts.to_rfc3339(),
            received_at: s.received_at.to_rfc3339(),
            final_at: s.final_at.to_rfc3339(),
            system: l.system.to_string(),
            system_name: p.system_name,
            account: l.account.clone(),
            person_id: p.person_id,
            person_name: p.person_name,
            terminal: l.terminal.clone(),
            terminal_name: p.terminal_name,
            room: p.room_id,
            room_name: p.room_name,
            room_controlled: p.room_controlled,
            factors: l
                .factors
                .iter()
                .map(|f| FactorInfo {
                    code: f.as_str().to_string(),
                    categories: category_codes(f.categories()),
                })
                .collect(),
            outcome: l.outcome.as_str().to_string(),
            verdict: s.verdict.kind.as_str().to_string(),
            reasons: s
                .verdict
                .reasons
                .iter()
                .map(|r| r.as_str().to_string())
                .collect(),
            is_final: s.final_at_time(now),
            entry,
            history,
            step_up,
        }))
    }
}
