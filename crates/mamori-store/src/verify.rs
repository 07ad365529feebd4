//! Verifying the audit chains through any [`Store`], page by page in constant memory.

use crate::{KeepGoing, Result, Store};
use mamori_domain::audit::{Chain, ChainBreak, ChainVerifier};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChainReport {
    pub chain: String,
    /// Entries checked before the end or the first break.
    pub checked: u64,
    pub broken: Option<ChainBreak>,
}

const PAGE: u32 = 5_000;

/// Verifies every chain. `keep_going` is called with the number of entries checked so far
/// and may stop the run (cancellation); a stopped run returns the chains finished so far.
pub async fn verify_audit(store: &dyn Store, keep_going: KeepGoing<'_>) -> Result<Vec<ChainReport>> {
    let heads = store.audit_heads().await?;
    let mut chains: Vec<Chain> = heads.iter().map(|h| h.chain).collect();
    // A chain whose head row was deleted still has entries: find those too.
    for inst in store.list_institutions().await? {
        let c = Chain::Institution(inst.id);
        if !chains.contains(&c) {
            chains.push(c);
        }
    }
    if !chains.contains(&Chain::System) {
        chains.push(Chain::System);
    }
    chains.sort();
    let mut reports = Vec::new();
    let mut total = 0u64;
    for chain in chains {
        let (report, stopped) =
            check_chain(store, chain, heads.iter().find(|h| h.chain == chain), &mut total, keep_going).await?;
        reports.push(report);
        if stopped {
            break;
        }
    }
    Ok(reports)
}

/// Verifies one chain (one institution's log, or the system's).
pub async fn verify_chain(store: &dyn Store, chain: Chain, keep_going: KeepGoing<'_>) -> Result<ChainReport> {
    let heads = store.audit_heads().await?;
    let mut total = 0;
    Ok(check_chain(store, chain, heads.iter().find(|h| h.chain == chain), &mut total, keep_going).await?.0)
}

/// Returns the report and whether `keep_going` stopped the run.
async fn check_chain(
    store: &dyn Store,
    chain: Chain,
    head: Option<&mamori_domain::audit::ChainHead>,
    total: &mut u64,
    keep_going: KeepGoing<'_>,
) -> Result<(ChainReport, bool)> {
    let mut verifier = ChainVerifier::new();
    let mut after = 0u64;
    let mut broken = None;
    let mut stopped = false;
    loop {
        let page = store.audit_events(chain, after, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        for e in &page {
            if let Err(b) = verifier.push(e) {
                broken = Some(b);
                break;
            }
        }
        *total += page.len() as u64;
        if broken.is_some() {
            break;
        }
        if !keep_going(*total) {
            stopped = true;
            break;
        }
    }
    let checked = verifier.checked();
    let broken = match broken {
        Some(b) => Some(b),
        // Creating an institution (and `init`) writes the first entry of its chain, so
        // a chain without entries was emptied.
        None if checked == 0 => Some(ChainBreak::Emptied),
        None => verifier.finish(head).err(),
    };
    Ok((ChainReport { chain: chain.to_string(), checked, broken }, stopped))
}
